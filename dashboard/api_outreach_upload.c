/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach_upload.c — a lead uploads a campaign's audience as CSV text
 * in JSON ({"csv": "...", "filename": "..."}). It is a contacts import like
 * any other (api_import_start: lib/contacts_import on libuv's thread pool,
 * the shared cap on imports at once, 429 beyond it) whose contacts become
 * the campaign's targets, subscribed to nothing (audited as
 * outreach.audience_import); the answer is any import's (api_import_answer):
 * the report with the number targeted and the first rejected lines. */
#include <stdlib.h>

#include "api_outreach.h"

/* Path: the campaign's id. Fields: csv, filename. */
void api_outreach_upload(struct api_call *call)
{
    const char *csv = api_body_text(call, "csv"), *filename = api_body_text(call, "filename");
    if (!csv || !*csv) {
        tocsin_http_error(call->req, 400, "invalid",
                          "send the audience as {\"csv\": \"phone,first_name\\n...\"}");
        return;
    }
    api_import_start(call, &(struct api_import_request){
                               .csv = csv,
                               .filename = filename,
                               .campaign_id = strtoll(call->params[3], NULL, 10),
                           });
}
