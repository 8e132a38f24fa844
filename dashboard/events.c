/* SPDX-License-Identifier: AGPL-3.0-or-later
 * events.c — live updates as Server-Sent Events. One LISTEN on
 * tocsin_conversations (the gateway's new replies, the dashboard's own
 * assignment changes) fans out to the open streams, each getting only what
 * its session may see: leads and admins everything of their org, a
 * volunteer only conversations assigned to her (or just taken from her),
 * and an id-less "waiting" when the pool of unassigned ones changed.
 * Besides new replies and assignments, schema 021 notifies "status" when
 * an outbound message of a conversation changes state.
 * Events carry ids, never member text: the page fetches what changed
 * through the API, which applies the same scoping. Heartbeats keep proxies
 * from closing idle streams and find clients that went away.
 *
 * A stream lives no longer than its session and its role: on every NOTIFY
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
 * is sent when it ends, so the last figures are always announced. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "log.h"

#define HEARTBEAT_MS 15000
#define BLAST_EVENT_MS 1000
#define BLAST_SLOTS 64 /* blasts announced within the last second, per process */

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
    int in_check; /* its session is in the recheck in flight */
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
};

/* An inbound reply from the gateway, waiting to learn its assignee. */
struct pending_event {
    struct events_hub *hub;
    long long org, conversation;
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

static void deliver(struct events_hub *h, long long org, long long assignee, long long previous,
                    const char *type, long long conversation)
{
    char msg[200];
    int n = snprintf(msg, sizeof msg, "event: conversation\ndata: {\"type\":\"%s\",\"conversation_id\":%lld}\n\n",
                     type, conversation);
    if (n <= 0 || (size_t)n >= sizeof msg)
        return;
    /* The pool (unassigned open conversations) changed when the
     * conversation is unassigned now or was before: volunteers who may not
     * see it still hear that their "N waiting" count is stale, with no id. */
    static const char waiting[] = "event: waiting\ndata: {}\n\n";
    int pool = strcmp(type, "status") != 0 && (assignee == 0 || previous == 0);
    for (struct sub *s = h->subs, *next; s; s = next) {
        next = s->next; /* send_to may free s */
        if (s->org != org)
            continue;
        if (s->volunteer && s->user != assignee && s->user != previous) {
            if (pool)
                send_to(s, waiting, sizeof waiting - 1);
            continue;
        }
        h->delivered++;
        send_to(s, msg, (size_t)n);
    }
}

static void assignee_found(const struct tocsin_db_result *r, void *ctx)
{
    struct pending_event *p = ctx;
    if (r->error) {
        char reason[600];
        log_warn("events_lookup_failed", "conversation=%lld reason=%s", p->conversation,
                 tocsin_log_quote(reason, sizeof reason, r->error, strlen(r->error)));
    } else if (PQntuples(r->res) == 1) {
        int col = PQfnumber(r->res, "assignee_id");
        long long assignee = col < 0 || PQgetisnull(r->res, 0, col)
                                 ? 0
                                 : strtoll(PQgetvalue(r->res, 0, col), NULL, 10);
        deliver(p->hub, p->org, assignee, 0, "message", p->conversation);
    }
    free(p);
}

static long long json_id(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* The gateway's payloads carry no assignee: look it up, then deliver. */
static void lookup_and_deliver(struct events_hub *h, long long org, long long conv)
{
    struct pending_event *p = malloc(sizeof *p);
    if (!p)
        return;
    *p = (struct pending_event){h, org, conv};
    char id[24], org_s[24];
    snprintf(id, sizeof id, "%lld", conv);
    snprintf(org_s, sizeof org_s, "%lld", org);
    const char *params[] = {id, org_s};
    if (tocsin_db_query(h->dash->d->db,
                        "SELECT assignee_id FROM conversations WHERE id = $1::bigint AND org_id = $2::bigint",
                        2, params, assignee_found, p) != 0)
        free(p);
}

/* Payloads: {"org_id", "conversation_id"[, "event", "assignee_id",
 * "previous_assignee_id"]} from the dashboard and the gateway's
 * one-at-a-time path, or {"org_id", "conversation_ids": [...]} from the
 * gateway's batches (at most MAX_BATCH_IDS are looked at). */
#define MAX_BATCH_IDS 1000
static void on_notify(const char *channel, const char *payload, void *ctx)
{
    struct events_hub *h = ctx;
    (void)channel;
    json_t *o = json_loads(payload, 0, NULL);
    long long org = json_id(o, "org_id"), conv = json_id(o, "conversation_id");
    json_t *many = json_object_get(o, "conversation_ids");
    const char *event = json_string_value(json_object_get(o, "event"));
    if (org <= 0 || h->stopped || !h->subs) {
        json_decref(o);
        return;
    }
    if (json_is_array(many)) {
        size_t i;
        json_t *v;
        json_array_foreach(many, i, v) {
            if (i >= MAX_BATCH_IDS)
                break;
            if (json_is_integer(v) && json_integer_value(v) > 0)
                lookup_and_deliver(h, org, (long long)json_integer_value(v));
        }
        json_decref(o);
        return;
    }
    if (conv <= 0) {
        json_decref(o);
        return;
    }
    if (event && strlen(event) < 32 && strspn(event, "abcdefghijklmnopqrstuvwxyz_") == strlen(event)) {
        deliver(h, org, json_id(o, "assignee_id"), json_id(o, "previous_assignee_id"), event, conv);
        json_decref(o);
        return;
    }
    json_decref(o);
    lookup_and_deliver(h, org, conv);
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
    long long org = json_id(o, "org_id"), blast = json_id(o, "blast_id");
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
    long long id;
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
        static const char *const names[] = {"id", "role"};
        int col[ARRAY_SIZE(names)];
        if (dash_columns(r->res, names, ARRAY_SIZE(names), col))
            n = 0; /* every stream ends: its browser reconnects and is checked again */
        for (int i = 0; i < n; i++) {
            live[i].id = strtoll(PQgetvalue(r->res, i, col[0]), NULL, 10);
            snprintf(live[i].role, sizeof live[i].role, "%s", PQgetvalue(r->res, i, col[1]));
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
            if (!l || strcmp(l->role, s->role) != 0) {
                ended++;
                sub_end(s);
            }
        }
        free(live);
        if (ended)
            log_info("events_streams_ended", "count=%u reason=\"session ended or role changed\"", ended);
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
                        "SELECT s.id, u.role FROM sessions s"
                        "  JOIN users u ON u.org_id = s.org_id AND u.id = s.user_id"
                        " WHERE s.id = ANY($1::bigint[]) AND s.expires_at > now()"
                        "   AND s.created_at > now() - make_interval(secs => $2::int)"
                        "   AND u.disabled_at IS NULL",
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
        tocsin_db_listen(h->dash->d->db, "tocsin_blasts", on_blast_notify, h) != 0)
        return -1;
    tocsin_db_on_listen_connected(h->dash->d->db, on_listen_connected, h);
    uv_timer_init(h->dash->d->loop, &h->heartbeat);
    h->heartbeat.data = h;
    uv_timer_start(&h->heartbeat, on_heartbeat, HEARTBEAT_MS, HEARTBEAT_MS);
    uv_timer_init(h->dash->d->loop, &h->blast_timer);
    h->blast_timer.data = h;
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
}

void dash_events_free(struct events_hub *h)
{
    free(h);
}

void api_events(struct api_call *call)
{
    dash_events_subscribe(call->dash->events, call);
}
