/* SPDX-License-Identifier: AGPL-3.0-or-later
 * events_alerts.c — audit alerts pushed live (schema 032: a lead's export
 * above alert_export_over, a volunteer's claims above
 * alert_claims_per_hour). NOTIFY tocsin_alerts (schema/functions/audit.sql)
 * carries {"org_id", "alert_id", "event": "raised"|"acknowledged"}; each
 * goes to the open streams of that org's admins only, as
 * "event: alert" with the id and the event, never to leads, volunteers or
 * another org's streams. Like every event it carries ids, not what the
 * alert says: the page reads /api/alerts, which only admins may. Not
 * here: the streams themselves (events.c). */
#include <stdio.h>
#include <string.h>

#include "dashboard.h"

static void on_alert_notify(const char *channel, const char *payload, void *ctx)
{
    struct events_hub *h = ctx;
    (void)channel;
    json_t *o = json_loads(payload, 0, NULL);
    long long org = dash_json_id(o, "org_id"), alert = dash_json_id(o, "alert_id");
    const char *event = json_string_value(json_object_get(o, "event"));
    /* Only the two events the trigger writes: nothing else reaches a page. */
    int known = event && (strcmp(event, "raised") == 0 || strcmp(event, "acknowledged") == 0);
    char msg[128];
    int n =
        known && org > 0 && alert > 0
            ? snprintf(msg, sizeof msg,
                       "event: alert\ndata: {\"alert_id\":%lld,\"event\":\"%s\"}\n\n", alert, event)
            : -1;
    json_decref(o);
    if (n > 0 && (size_t)n < sizeof msg)
        dash_events_send_org(h, org, API_ADMIN, msg, (size_t)n);
}

int dash_events_alerts_listen(struct events_hub *h, struct tocsin_db *db)
{
    return tocsin_db_listen(db, "tocsin_alerts", on_alert_notify, h);
}
