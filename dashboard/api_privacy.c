/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_privacy.c — an admin forgetting one member (POST /api/contacts/
 * forget/preview and /api/contacts/forget): the typed number normalised
 * by lib/phone, the typed confirmation checked, then one function
 * (tocsin_contact_forget, schema/functions/forget.sql) that does it in one
 * transaction, says what went and what the law keeps, and audits it with
 * the number masked. */
#include <string.h>
#include <strings.h>

#include "dashboard.h"

/* What the admin types to confirm: the word, in any case. */
#define FORGET_WORD "FORGET"

/* Field: phone. 200 with what would be removed and kept; 404 when no
 * contact of the org has the number. */
void api_contact_forget_preview(struct api_call *call)
{
    if (api_add_phone(call, call->params[3]) != 0)
        return;
    api_run_sql(call, "SELECT status, body FROM tocsin_contact_forget($1::bigint, $2::bigint, "
                      "$5::text, true)");
}

/* Fields: phone, confirm (the word FORGET). */
void api_contact_forget(struct api_call *call)
{
    const char *confirm = call->params[4];
    size_t n = confirm ? strlen(confirm) : 0;
    /* Surrounding blanks are forgiven; anything else is not the word. */
    while (n && (*confirm == ' ' || *confirm == '\t')) {
        confirm++;
        n--;
    }
    while (n && (confirm[n - 1] == ' ' || confirm[n - 1] == '\t'))
        n--;
    if (n != strlen(FORGET_WORD) || strncasecmp(confirm, FORGET_WORD, n) != 0) {
        tocsin_http_error(call->req, 400, "confirm", "type %s to confirm: this cannot be undone",
                          FORGET_WORD);
        return;
    }
    if (api_add_phone(call, call->params[3]) != 0)
        return;
    api_run_sql(call, "SELECT status, body FROM tocsin_contact_forget($1::bigint, $2::bigint, "
                      "$6::text, false)");
}
