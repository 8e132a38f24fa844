/* SPDX-License-Identifier: AGPL-3.0-or-later
 * release.c — conversations whose volunteer did nothing with them for
 * TOCSIN_DASHBOARD_RELEASE_AFTER_S go back to the pool: a timer runs one
 * UPDATE (audited, and NOTIFYing so the volunteer's inbox drops them).
 * Several dashboards running it at once is harmless: the row locks make
 * each conversation released once. */
#include <stdio.h>
#include <string.h>

#include "dashboard.h"
#include "log.h"

static const char release_sql[] =
    "WITH idle AS (SELECT id, org_id, assignee_id FROM conversations"
    "               WHERE state = 'open' AND assignee_id IS NOT NULL"
    "                 AND assignee_active_at < now() - make_interval(secs => $1::int)"
    "               ORDER BY assignee_active_at LIMIT 1000 FOR UPDATE SKIP LOCKED),"
    " u AS (UPDATE conversations c SET assignee_id = NULL, assigned_at = NULL, assignee_active_at = NULL"
    "         FROM idle WHERE c.id = idle.id RETURNING c.id, c.org_id, idle.assignee_id AS previous),"
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)"
    "       SELECT org_id, NULL, 'conversation.auto_release', 'conversation', id,"
    "              jsonb_build_object('from', previous, 'idle_seconds', $1::int) FROM u)"
    "SELECT count(pg_notify('tocsin_conversations', json_build_object('org_id', org_id,"
    "       'conversation_id', id, 'event', 'released', 'assignee_id', NULL,"
    "       'previous_assignee_id', previous)::text)) AS released FROM u";

static void released(const struct tocsin_db_result *r, void *ctx)
{
    struct dashboard *dash = ctx;
    dash->release_busy = 0;
    if (r->error) {
        char reason[600];
        log_warn("auto_release_failed", "reason=%s",
                 tocsin_log_quote(reason, sizeof reason, r->error, strlen(r->error)));
        return;
    }
    int col = PQfnumber(r->res, "released");
    const char *n = col >= 0 ? PQgetvalue(r->res, 0, col) : "0";
    if (n[0] != '0')
        log_info("auto_released", "conversations=%s", n);
}

static void on_tick(uv_timer_t *t)
{
    struct dashboard *dash = t->data;
    if (dash->release_busy)
        return;
    char secs[16];
    snprintf(secs, sizeof secs, "%u", dash->d->cfg.dashboard_release_after_s);
    const char *params[] = {secs};
    if (tocsin_db_query(dash->d->db, release_sql, 1, params, released, dash) == 0)
        dash->release_busy = 1;
}

void dash_release_start(struct dashboard *dash)
{
    unsigned after = dash->d->cfg.dashboard_release_after_s;
    if (after == 0)
        return;
    /* A quarter of the limit, between 1 s and 60 s: a conversation stays
     * held at most 25% longer than configured. */
    uint64_t every = (uint64_t)after * 250;
    every = every < 1000 ? 1000 : every > 60000 ? 60000 : every;
    uv_timer_init(dash->d->loop, &dash->release_timer);
    dash->release_timer.data = dash;
    uv_timer_start(&dash->release_timer, on_tick, every, every);
    dash->release_running = 1;
}

void dash_release_stop(struct dashboard *dash)
{
    if (dash->release_running && !uv_is_closing((uv_handle_t *)&dash->release_timer))
        uv_close((uv_handle_t *)&dash->release_timer, NULL);
}
