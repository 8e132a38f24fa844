/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach.h — peer-to-peer outreach campaigns (schema 010): the
 * handlers that are more than SQL. api_outreach.c sends one initial
 * message per request and adds steps; api_outreach_export.c writes the
 * CSV exports; api_outreach_upload.c imports an audience off the loop.
 * The routes themselves are in api_outreach_routes.h. */
#ifndef DASHBOARD_API_OUTREACH_H
#define DASHBOARD_API_OUTREACH_H

#include "dashboard.h"

/* POST /api/outreach/campaigns/:id/send {"contact_id": N, "body": "..."}:
 * exactly one message for one contact; anything else is 400. */
void api_outreach_send(struct api_call *call);

/* POST /api/outreach/campaigns/:id/steps {"question", "choices": [...]} */
void api_outreach_step_add(struct api_call *call);

/* GET /api/outreach/campaigns/:id/answers.csv and /opt-outs.csv */
void api_outreach_export_answers(struct api_call *call);
void api_outreach_export_opt_outs(struct api_call *call);

/* POST /api/outreach/campaigns/:id/audience {"csv": "...", "filename"} */
void api_outreach_upload(struct api_call *call);

/* Appends s to out as one CSV field: always quoted, quotes doubled, and a
 * value a spreadsheet would run as a formula (= + - @ tab CR first) is
 * prefixed with ' unless it is a phone number in E.164. Returns 0, or -1
 * when out of memory (out keeps what it had). */
struct outreach_buf {
    char *data;
    size_t len, cap;
};
int outreach_csv_field(struct outreach_buf *out, const char *s, int last);

#endif
