/* SPDX-License-Identifier: AGPL-3.0-or-later
 * events.c — live updates as Server-Sent Events. One LISTEN on
 * tocsin_conversations (the gateway's new replies, the dashboard's own
 * assignment changes) fans out to the open streams, each getting only what
 * its session may see: leads and admins everything of their org, a
 * volunteer only conversations assigned to her (or just taken from her),
 * and an id-less "waiting" when the pool of unassigned ones changed.
 * Every payload has one shape, {"org_id", "conversation_id", "event",
 * "assignee_id", "previous_assignee_id"} (schema/functions/: new replies
 * "message", assignments "assigned" and "released", an outbound message's
 * state "status"), so routing one needs no query.
 *
 * "waiting" carries the pool's size, {"waiting": N}, and is coalesced per
 * stream: at most one per WAITING_EVENT_MS; a change inside the window is
 * sent when it ends, counted then (one query per org, not per stream), so
 * the last event of a burst has the latest count.
 * Events carry ids, never member text: the page fetches what changed
 * through the API, which applies the same scoping. Heartbeats keep proxies
 * from closing idle streams and find clients that went away.
 *
 * A stream lives no longer than its session, its role and its org (a
 * national admin entering or leaving a chapter, schema 028): on every NOTIFY
 * tocsin_sessions (a session deleted, a user's role or disabled state
 * changed: schema 018) and with every heartbeat, one query rechecks the
 * sessions of all open streams. A notification closes them within a
 * round trip in every dashboard process; the heartbeat's recheck catches
 * what no statement announces (the sliding or absolute lifetime running
 * out) and notifications lost while the listening connection was down.
 * Checking per event instead would cost a query per stream per event.
 *
 * Blasts (schema 022): NOTIFY tocsin_blasts carries a blast's id when its
 * figures or state change (the worker's tick folds counters once a
 * second). Leads and admins of its org get "event: blast" with the id,
 * at most once per BLAST_EVENT_MS per blast: a change inside that window
 * is sent when it ends, so the last figures are always announced.
 *
 * Audit alerts (schema 032): events_alerts.c listens on tocsin_alerts and
 * passes each to its org's admins through dash_events_send_org. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_sql.h"
#include "dashboard.h"
#include "log.h"

#define HEARTBEAT_MS 15000
#define BLAST_EVENT_MS 1000
#define BLAST_SLOTS 64 /* blasts announced within the last second, per process */
#define WAITING_EVENT_MS 1000

/* A blast announced recently: when, and whether a change waits. */
struct blast_slot {
    long long org, blast;
    uint64_t sent_ms;
    int pending;
};

struct sub {
    struct sub *next, *prev;
    struct events_hub *hub;
    struct tocsin_http_req *req;
    long long org, user;
    int volunteer;
    enum api_role level;      /* its session's role, as the API ranks it */
    int in_check;             /* its session is in the recheck in flight */
    int waiting_pending;      /* the pool changed since its last "waiting" */
    int waiting_counting;     /* in the count in flight for its org */
    uint64_t waiting_sent_ms; /* when it was last sent one (0: never) */
    char session_id[24];
    char role[16];
};

struct events_hub {
    struct dashboard *dash;
    struct sub *subs;
    uv_timer_t heartbeat;
    int started, stopped;
    int checking, check_again; /* a recheck is in flight; another is due after it */
    unsigned long long delivered;
    uv_timer_t blast_timer;
    int blast_timer_armed;
    struct blast_slot blasts[BLAST_SLOTS];
    uv_timer_t waiting_timer;
    int waiting_timer_armed;
};

static void unlink_sub(struct sub *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        s->hub->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
}

static void sub_gone(void *ctx)
{
    struct sub *s = ctx;
    unlink_sub(s);
    tocsin_http_stream_end(s->req);
    free(s);
}

/* Ends a stream from our side (stop, logout, a client that reads nothing). */
static void sub_end(struct sub *s)
{
    tocsin_http_on_abort(s->req, NULL, NULL);
    sub_gone(s);
}

/* A write that fails has disarmed on_abort (lib/http.h: one owner ends a
 * stream), so sub_gone has not run and s is still ours to end. */
static void send_to(struct sub *s, const char *text, size_t len)
{
    if (tocsin_http_stream_write(s->req, text, len) != 0)
        sub_end(s);
}

static void waiting_changed(struct events_hub *h, struct sub *s);

static void deliver(struct events_hub *h, long long org, long long assignee, long long previous,
                    const char *type, long long conversation)
{
    char msg[200];
    int n = snprintf(msg, sizeof msg,
                     "event: conversation\ndata: {\"type\":\"%s\",\"conversation_id\":%lld}\n\n",
                     type, conversation);
    if (n <= 0 || (size_t)n >= sizeof msg)
        return;
    /* The pool (unassigned open conversations) changed when the
     * conversation is unassigned now or was before an assignment (a reply
     * to an assigned one leaves it as it was): volunteers who may not see
     * it still hear the pool's new size, with no id. */
    int message = strcmp(type, "message") == 0;
    int pool = strcmp(type, "status") != 0 && (assignee == 0 || (!message && previous == 0));
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next; /* send_to may free s */
        if (s->org != org)
            continue;
        if (s->volunteer && s->user != assignee && s->user != previous) {
            if (pool)
                waiting_changed(h, s);
            continue;
        }
        h->delivered++;
        send_to(s, msg, (size_t)n);
    }
}

long long dash_json_id(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* Payload: {"org_id", "conversation_id", "event", "assignee_id",
 * "previous_assignee_id"}; a missing event is a new reply ("message"), a
 * null assignee an unassigned conversation. */
static void on_notify(const char *channel, const char *payload, void *ctx)
{
    struct events_hub *h = ctx;
    (void)channel;
    json_t *o = json_loads(payload, 0, NULL);
    long long org = dash_json_id(o, "org_id"), conv = dash_json_id(o, "conversation_id");
    const char *event = json_string_value(json_object_get(o, "event"));
    if (!event)
        event = "message";
    if (org > 0 && conv > 0 && !h->stopped && h->subs && strlen(event) < 32 &&
        strspn(event, "abcdefghijklmnopqrstuvwxyz_") == strlen(event))
        deliver(h, org, dash_json_id(o, "assignee_id"), dash_json_id(o, "previous_assignee_id"),
                event, conv);
    json_decref(o);
}

/* --- the pool's size, coalesced per stream --- */

struct waiting_count {
    struct events_hub *hub;
    long long org;
};

static void arm_waiting_timer(struct events_hub *h, uint64_t delay);

static void waiting_counted(const struct tocsin_db_result *r, void *ctx)
{
    struct waiting_count *c = ctx;
    struct events_hub *h = c->hub;
    long long org = c->org;
    free(c);
    if (h->stopped)
        return;
    char msg[96];
    int n = -1;
    if (r->error) {
        char reason[600];
        log_warn("events_waiting_failed", "org=%lld reason=%s", org,
                 tocsin_log_quote(reason, sizeof reason, r->error, strlen(r->error)));
    } else if (PQntuples(r->res) == 1) {
        /* SQL_WAITING answers as a route does: (200, {"waiting": N}). */
        n = snprintf(msg, sizeof msg, "event: waiting\ndata: %s\n\n",
                     PQgetvalue(r->res, 0, API_COL_BODY));
    }
    uint64_t now = uv_now(h->dash->d->loop);
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next; /* send_to may free s */
        if (s->org != org || !s->waiting_counting)
            continue;
        s->waiting_counting = 0;
        s->waiting_sent_ms = now ? now : 1;
        if (n > 0 && (size_t)n < sizeof msg)
            send_to(s, msg, (size_t)n);
        else
            s->waiting_pending = 1; /* try again after the window */
    }
    /* Changes that came while counting go out when the window ends. */
    for (struct sub *s = h->subs; s; s = s->next)
        if (s->org == org && s->waiting_pending) {
            arm_waiting_timer(h, WAITING_EVENT_MS);
            break;
        }
}

/* Starts one count for org and marks its due streams as waiting for it. */
static void count_waiting(struct events_hub *h, long long org, uint64_t now)
{
    struct waiting_count *c = malloc(sizeof *c);
    if (!c)
        return;
    *c = (struct waiting_count){h, org};
    for (struct sub *s = h->subs; s; s = s->next)
        if (s->org == org && s->waiting_pending && !s->waiting_counting &&
            (!s->waiting_sent_ms || now - s->waiting_sent_ms >= WAITING_EVENT_MS)) {
            s->waiting_pending = 0;
            s->waiting_counting = 1;
        }
    char org_s[24];
    snprintf(org_s, sizeof org_s, "%lld", org);
    const char *params[] = {org_s};
    if (tocsin_db_query(h->dash->d->db, SQL_WAITING, 1, params, waiting_counted, c) != 0) {
        free(c);
        for (struct sub *s = h->subs; s; s = s->next)
            if (s->org == org && s->waiting_counting) {
                s->waiting_counting = 0;
                s->waiting_pending = 1;
            }
        arm_waiting_timer(h, WAITING_EVENT_MS);
    }
}

/* Counts for every org with a stream due; re-arms for those in their window. */
static void on_waiting_timer(uv_timer_t *t)
{
    struct events_hub *h = t->data;
    uint64_t now = uv_now(h->dash->d->loop), next = 0;
    h->waiting_timer_armed = 0;
    for (struct sub *s = h->subs; s; s = s->next) {
        if (!s->waiting_pending || s->waiting_counting)
            continue;
        if (!s->waiting_sent_ms || now - s->waiting_sent_ms >= WAITING_EVENT_MS)
            count_waiting(h, s->org, now); /* takes every due stream of the org */
        else if (!next || s->waiting_sent_ms + WAITING_EVENT_MS - now < next)
            next = s->waiting_sent_ms + WAITING_EVENT_MS - now;
    }
    if (next)
        arm_waiting_timer(h, next);
}

static void arm_waiting_timer(struct events_hub *h, uint64_t delay)
{
    if (h->waiting_timer_armed || h->stopped)
        return;
    h->waiting_timer_armed = 1;
    uv_timer_start(&h->waiting_timer, on_waiting_timer, delay, 0);
}

/* The pool changed for a stream that may not see the conversation: its
 * "waiting" goes out on the next loop turn, or when its window ends. */
static void waiting_changed(struct events_hub *h, struct sub *s)
{
    s->waiting_pending = 1;
    if (s->waiting_counting)
        return; /* the timer re-arms once the count in flight is sent */
    uint64_t now = uv_now(h->dash->d->loop);
    uint64_t due = s->waiting_sent_ms ? s->waiting_sent_ms + WAITING_EVENT_MS : 0;
    arm_waiting_timer(h, due > now ? due - now : 0);
}

/* --- blasts --- */

static void send_blast(struct events_hub *h, struct blast_slot *b)
{
    char msg[96];
    int n = snprintf(msg, sizeof msg, "event: blast\ndata: {\"blast_id\":%lld}\n\n", b->blast);
    b->pending = 0;
    b->sent_ms = uv_now(h->dash->d->loop);
    if (n <= 0 || (size_t)n >= sizeof msg)
        return;
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next; /* send_to may free s */
        if (s->org != b->org || s->volunteer)
            continue;
        h->delivered++;
        send_to(s, msg, (size_t)n);
    }
}

static void arm_blast_timer(struct events_hub *h, uint64_t delay);

/* Sends the changes that waited out their blast's window. */
static void on_blast_timer(uv_timer_t *t)
{
    struct events_hub *h = t->data;
    uint64_t now = uv_now(h->dash->d->loop), next = 0;
    h->blast_timer_armed = 0;
    for (size_t i = 0; i < BLAST_SLOTS; i++) {
        struct blast_slot *b = &h->blasts[i];
        if (!b->pending)
            continue;
        if (now - b->sent_ms >= BLAST_EVENT_MS)
            send_blast(h, b);
        else if (!next || b->sent_ms + BLAST_EVENT_MS - now < next)
            next = b->sent_ms + BLAST_EVENT_MS - now;
    }
    if (next)
        arm_blast_timer(h, next);
}

static void arm_blast_timer(struct events_hub *h, uint64_t delay)
{
    if (h->blast_timer_armed || h->stopped)
        return;
    h->blast_timer_armed = 1;
    uv_timer_start(&h->blast_timer, on_blast_timer, delay, 0);
}

static void on_blast_notify(const char *channel, const char *payload, void *ctx)
{
    struct events_hub *h = ctx;
    (void)channel;
    json_t *o = json_loads(payload, 0, NULL);
    long long org = dash_json_id(o, "org_id"), blast = dash_json_id(o, "blast_id");
    json_decref(o);
    if (org <= 0 || blast <= 0 || h->stopped || !h->subs)
        return;
    uint64_t now = uv_now(h->dash->d->loop);
    struct blast_slot *slot = NULL, *oldest = &h->blasts[0];
    for (size_t i = 0; i < BLAST_SLOTS && !slot; i++) {
        if (h->blasts[i].blast == blast && h->blasts[i].org == org)
            slot = &h->blasts[i];
        else if (!h->blasts[i].pending && h->blasts[i].sent_ms < oldest->sent_ms)
            oldest = &h->blasts[i];
    }
    if (!slot) {
        /* A slot announced over a second ago (or never) can be reused;
         * with every slot busy the event goes out at once. */
        if (oldest->pending || (oldest->blast && now - oldest->sent_ms < BLAST_EVENT_MS)) {
            struct blast_slot once = {org, blast, 0, 0};
            send_blast(h, &once);
            return;
        }
        *oldest = (struct blast_slot){org, blast, 0, 0};
        send_blast(h, oldest);
        return;
    }
    if (now - slot->sent_ms >= BLAST_EVENT_MS) {
        send_blast(h, slot);
        return;
    }
    slot->pending = 1;
    arm_blast_timer(h, slot->sent_ms + BLAST_EVENT_MS - now);
}

/* After a reconnect notifications may have been missed: tell every
 * stream to refetch. */
static void on_listen_connected(void *ctx)
{
    struct events_hub *h = ctx;
    static const char msg[] = "event: resync\ndata: {}\n\n";
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next;
        send_to(s, msg, sizeof msg - 1);
    }
    dash_events_recheck(h); /* a session may have ended meanwhile */
}

/* --- rechecking sessions --- */

struct live_session {
    long long id, org;
    char role[16];
};

static int live_cmp(const void *a, const void *b)
{
    long long x = ((const struct live_session *)a)->id, y = ((const struct live_session *)b)->id;
    return (x > y) - (x < y);
}

static void recheck_done(const struct tocsin_db_result *r, void *ctx)
{
    struct events_hub *h = ctx;
    h->checking = 0;
    if (h->stopped)
        return;
    if (r->error) {
        /* Streams stay until the next recheck: the API refuses their
         * sessions anyway, and the database is likely down for all. */
        log_warn("events_recheck_failed", "reason=\"%s\"", r->error);
    } else {
        int n = PQntuples(r->res);
        struct live_session *live = calloc(n ? (size_t)n : 1, sizeof *live);
        if (!live) {
            log_warn("events_recheck_failed", "reason=\"out of memory\"");
            for (struct sub *s = h->subs; s; s = s->next)
                s->in_check = 0;
            return;
        }
        static const char *const names[] = {"id", "role", "org_id"};
        int col[ARRAY_SIZE(names)];
        if (dash_columns(r->res, names, ARRAY_SIZE(names), col))
            n = 0; /* every stream ends: its browser reconnects and is checked again */
        for (int i = 0; i < n; i++) {
            live[i].id = strtoll(PQgetvalue(r->res, i, col[0]), NULL, 10);
            snprintf(live[i].role, sizeof live[i].role, "%s", PQgetvalue(r->res, i, col[1]));
            live[i].org = strtoll(PQgetvalue(r->res, i, col[2]), NULL, 10);
        }
        qsort(live, (size_t)n, sizeof *live, live_cmp);
        unsigned ended = 0;
        for (struct sub *s = h->subs, *next; s; s = next) {
            next = s->next; /* sub_end frees s */
            if (!s->in_check)
                continue; /* opened after the query was sent */
            s->in_check = 0;
            struct live_session key = {.id = strtoll(s->session_id, NULL, 10)};
            struct live_session *l = bsearch(&key, live, (size_t)n, sizeof *live, live_cmp);
            if (!l || strcmp(l->role, s->role) != 0 || l->org != s->org) {
                ended++;
                sub_end(s);
            }
        }
        free(live);
        if (ended)
            log_info("events_streams_ended",
                     "count=%u reason=\"session ended, role or org changed\"", ended);
    }
    if (h->check_again) {
        h->check_again = 0;
        dash_events_recheck(h);
    }
}

void dash_events_recheck(struct events_hub *h)
{
    if (h->stopped || !h->subs)
        return;
    if (h->checking) {
        h->check_again = 1;
        return;
    }
    size_t n = 0;
    for (struct sub *s = h->subs; s; s = s->next)
        n++;
    char *ids = malloc(n * 24 + 3), max_age[16];
    if (!ids)
        return;
    size_t o = 0;
    ids[o++] = '{';
    for (struct sub *s = h->subs; s; s = s->next) {
        o += (size_t)snprintf(ids + o, 24 + 2, "%s%s", o > 1 ? "," : "", s->session_id);
        s->in_check = 1;
    }
    ids[o++] = '}';
    ids[o] = '\0';
    snprintf(max_age, sizeof max_age, "%u", h->dash->d->cfg.session_max_age_s);
    const char *params[] = {ids, max_age};
    h->checking = 1;
    if (tocsin_db_query(h->dash->d->db,
                        "SELECT id, role, org_id FROM tocsin_session_scopes"
                        " WHERE id = ANY($1::bigint[]) AND expires_at > now()"
                        "   AND created_at > now() - make_interval(secs => $2::int)"
                        "   AND stage = 'full'",
                        2, params, recheck_done, h) != 0) {
        h->checking = 0;
        for (struct sub *s = h->subs; s; s = s->next)
            s->in_check = 0;
    }
    free(ids);
}

static void on_sessions_changed(const char *channel, const char *payload, void *ctx)
{
    (void)channel;
    (void)payload;
    dash_events_recheck(ctx);
}

static void on_heartbeat(uv_timer_t *t)
{
    struct events_hub *h = t->data;
    static const char msg[] = ": ping\n\n";
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next;
        send_to(s, msg, sizeof msg - 1);
    }
    dash_events_recheck(h);
}

struct events_hub *dash_events_new(struct dashboard *dash)
{
    struct events_hub *h = calloc(1, sizeof *h);
    if (h)
        h->dash = dash;
    return h;
}

int dash_events_start(struct events_hub *h)
{
    if (tocsin_db_listen(h->dash->d->db, "tocsin_conversations", on_notify, h) != 0 ||
        tocsin_db_listen(h->dash->d->db, "tocsin_sessions", on_sessions_changed, h) != 0 ||
        tocsin_db_listen(h->dash->d->db, "tocsin_blasts", on_blast_notify, h) != 0 ||
        dash_events_alerts_listen(h, h->dash->d->db) != 0)
        return -1;
    tocsin_db_on_listen_connected(h->dash->d->db, on_listen_connected, h);
    uv_timer_init(h->dash->d->loop, &h->heartbeat);
    h->heartbeat.data = h;
    uv_timer_start(&h->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
    uv_timer_init(h->dash->d->loop, &h->blast_timer);
    h->blast_timer.data = h;
    uv_timer_init(h->dash->d->loop, &h->waiting_timer);
    h->waiting_timer.data = h;
    h->started = 1;
    return 0;
}

void dash_events_subscribe(struct events_hub *h, struct api_call *call)
{
    struct sub *s = calloc(1, sizeof *s);
    if (!s || h->stopped) {
        free(s);
        tocsin_http_error(call->req, 503, "unavailable", "live updates are not available");
        return;
    }
    s->hub = h;
    s->req = call->req;
    s->org = strtoll(call->org_id, NULL, 10);
    s->user = strtoll(call->user_id, NULL, 10);
    s->volunteer = call->role_level == API_VOLUNTEER;
    s->level = call->role_level;
    snprintf(s->session_id, sizeof s->session_id, "%s", call->session_id);
    snprintf(s->role, sizeof s->role, "%s", call->role);
    tocsin_http_add_header(call->req, "Cache-Control", "no-store");
    tocsin_http_add_header(call->req, "X-Accel-Buffering", "no"); /* nginx: pass events at once */
    tocsin_http_stream_begin(call->req, 200, "text/event-stream; charset=utf-8");
    s->next = h->subs;
    if (h->subs)
        h->subs->prev = s;
    h->subs = s;
    tocsin_http_on_abort(call->req, sub_gone, s);
    static const char hello[] = "retry: 3000\nevent: ready\ndata: {}\n\n";
    send_to(s, hello, sizeof hello - 1);
}

void dash_events_send_org(struct events_hub *h, long long org, enum api_role min_role,
                          const char *msg, size_t len)
{
    if (h->stopped)
        return;
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next; /* send_to may free s */
        if (s->org != org || s->level < min_role)
            continue;
        h->delivered++;
        send_to(s, msg, len);
    }
}

void dash_events_end_session(struct events_hub *h, const char *session_id)
{
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next;
        if (strcmp(s->session_id, session_id) == 0)
            sub_end(s);
    }
}

void dash_events_stop(struct events_hub *h)
{
    h->stopped = 1;
    while (h->subs)
        sub_end(h->subs);
    if (h->started && !uv_is_closing((uv_handle_t *)&h->heartbeat))
        uv_close((uv_handle_t *)&h->heartbeat, NULL); /* closed before the loop ends */
    if (h->started && !uv_is_closing((uv_handle_t *)&h->blast_timer))
        uv_close((uv_handle_t *)&h->blast_timer, NULL);
    if (h->started && !uv_is_closing((uv_handle_t *)&h->waiting_timer))
        uv_close((uv_handle_t *)&h->waiting_timer, NULL);
}

void dash_events_free(struct events_hub *h)
{
    free(h);
}

void api_events(struct api_call *call)
{
    dash_events_subscribe(call->dash->events, call);
}
