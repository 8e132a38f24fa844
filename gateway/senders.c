/* SPDX-License-Identifier: AGPL-3.0-or-later
 * senders.c — finding the sender a webhook is for (by its To), with its
 * org's HELP text and keywords. Compiled keyword sets are cached by sender
 * and recompiled only when the org's keywords change. Numbers that are no
 * sender's are remembered briefly too, so a flood of webhooks to unknown
 * numbers costs no database work; a NOTIFY on tocsin_senders (schema 018)
 * forgets them when a sender is added or changed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "gateway.h"
#include "hash.h"
#include "log.h"

#define CACHE_SLOTS 64
/* How long a looked-up sender is trusted without asking the database:
 * keyword, HELP-text and credential changes take effect within this. */
#define CACHE_FRESH_MS 2000

/* Numbers no sender has: a bounded table, one entry per hash slot (a
 * collision evicts, costing one more lookup), trusted for MISS_FRESH_MS. */
#define MISS_SLOTS 1024
#define MISS_FRESH_MS 5000
struct miss {
    char address[20];
    uint64_t at_ms;
};

/* The sender cache (g->senders). */
struct gw_senders {
    struct gw_sender *cache[CACHE_SLOTS]; /* by id */
    struct miss misses[MISS_SLOTS];       /* by address */
};

static struct tocsin_metric m_lookups = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_sender_lookups_total", "database queries for a webhook's sender", NULL);
static struct tocsin_metric m_misses_cached =
    TOCSIN_METRIC_COUNTER("tocsin_gateway_unknown_sender_cached_total",
                          "webhooks to a number no sender has, refused from the cache", NULL);
/* Sender changes heard (NOTIFY tocsin_senders), each of which empties the
 * cache: an operator sees a change reach the gateway, and a test waits for
 * it instead of sleeping. Reconnects empty the cache too, uncounted. */
static struct tocsin_metric m_changes = TOCSIN_METRIC_COUNTER(
    "tocsin_gateway_sender_changes_total",
    "sender changes notified by the database, each emptying the sender cache", NULL);

static struct miss *miss_slot(struct gw_senders *ss, const char *address)
{
    return &ss->misses[tocsin_hash(address, strlen(address)) % MISS_SLOTS];
}

/* Forgets every unknown number, and makes every cached sender be asked
 * for again (its credentials or address may have changed). */
static void senders_changed(const char *channel, const char *payload, void *ctx)
{
    struct gateway *g = ctx;
    struct gw_senders *ss = g->senders;
    (void)payload;
    memset(ss->misses, 0, sizeof ss->misses);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (ss->cache[i])
            ss->cache[i]->fetched_ms = 0;
    if (channel)
        tocsin_metric_add(&m_changes, 1);
}

/* After a reconnect notifications may have been lost. */
static void listen_connected(void *ctx)
{
    senders_changed(NULL, NULL, ctx);
}

int gw_senders_start(struct gateway *g)
{
    if (!(g->senders = calloc(1, sizeof *g->senders)))
        return -1;
    tocsin_metric_register(&m_lookups);
    tocsin_metric_register(&m_misses_cached);
    tocsin_metric_register(&m_changes);
    if (tocsin_db_listen(g->d->db, "tocsin_senders", senders_changed, g) != 0)
        return -1;
    tocsin_db_on_listen_connected(g->d->db, listen_connected, g);
    return 0;
}

static void sender_free(struct gw_sender *s)
{
    if (!s)
        return;
    tocsin_keyword_set_free(s->keywords);
    for (size_t i = 0; i < s->nreplies; i++)
        free(s->replies[i].reply);
    free(s->replies);
    free(s->help_text);
    free(s->keywords_json);
    free(s->sealed);
    free(s->telnyx_pk_b64);
    memset(s->secret, 0, sizeof s->secret);
    free(s);
}

void gw_senders_free(struct gateway *g)
{
    struct gw_senders *ss = g->senders;
    for (int i = 0; ss && i < CACHE_SLOTS; i++)
        sender_free(ss->cache[i]);
    free(ss);
    g->senders = NULL;
}

const char *gw_keyword_reply(const struct gw_sender *s, long long keyword_id)
{
    for (size_t i = 0; i < s->nreplies; i++)
        if (s->replies[i].id == keyword_id)
            return s->replies[i].reply;
    return NULL;
}

/* Compiles the keywords JSON ([{id, pattern, reply}]) into s. */
static int sender_compile(struct gw_sender *s, const char *json, char *err, size_t errlen)
{
    json_error_t e;
    json_t *arr = json_loads(json, 0, &e);
    size_t n = json_array_size(arr);
    struct tocsin_keyword_def *defs = calloc(n ? n : 1, sizeof *defs);
    s->replies = calloc(n ? n : 1, sizeof *s->replies);
    if (!arr || !defs || !s->replies) {
        snprintf(err, errlen, "could not read the keywords");
        json_decref(arr);
        free(defs);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *k = json_array_get(arr, i);
        defs[i].id = json_integer_value(json_object_get(k, "id"));
        defs[i].pattern = json_string_value(json_object_get(k, "pattern"));
        s->replies[i].id = defs[i].id;
        s->replies[i].reply = strdup(json_string_value(json_object_get(k, "reply")));
        if (!defs[i].pattern)
            defs[i].pattern = "(*FAIL)";
    }
    s->nreplies = n;
    s->keywords = tocsin_keyword_set_new(defs, n, err, errlen);
    free(defs);
    json_decref(arr);
    return s->keywords ? 0 : -1;
}

struct lookup {
    struct gateway *g;
    gw_sender_cb cb;
    void *ctx;
    char address[20];
};

/* The cached sender for address, however old, or NULL. */
static struct gw_sender *cached(struct gw_senders *ss, const char *address)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (ss->cache[i] && strcmp(ss->cache[i]->address, address) == 0)
            return ss->cache[i];
    return NULL;
}

static void lookup_done(const struct tocsin_db_result *r, void *arg)
{
    struct lookup *l = arg;
    struct gateway *g = l->g;
    if (r->error) {
        struct gw_sender *stale = gw_db_error_transient(r->sqlstate, r->ambiguous)
                                      ? cached(g->senders, l->address)
                                      : NULL;
        log_warn("sender_lookup_failed", "reason=%s using_cached=%d", tocsin_log_q(r->error),
                 stale != NULL);
        if (stale)
            l->cb(stale, 200, NULL, l->ctx);
        else
            l->cb(NULL, 503, "database unavailable", l->ctx);
        free(l);
        return;
    }
    if (PQntuples(r->res) != 1) {
        struct miss *m = miss_slot(g->senders, l->address);
        snprintf(m->address, sizeof m->address, "%s", l->address);
        m->at_ms = uv_now(g->d->loop);
        l->cb(NULL, 404, "no sender has this number", l->ctx);
        free(l);
        return;
    }
    PGresult *res = r->res;
    int i_id = PQfnumber(res, "id"), i_org_id = PQfnumber(res, "org_id"),
        i_provider = PQfnumber(res, "provider"), i_sealed = PQfnumber(res, "credentials_sealed"),
        i_org_name = PQfnumber(res, "org_name"), i_help = PQfnumber(res, "help_text"),
        i_keywords = PQfnumber(res, "keywords"), i_address = PQfnumber(res, "address"),
        i_pk = PQfnumber(res, "telnyx_public_key");
    long long id = strtoll(PQgetvalue(res, 0, i_id), NULL, 10);
    const char *keywords = PQgetvalue(res, 0, i_keywords);
    struct gw_sender **slot = &g->senders->cache[id % CACHE_SLOTS];
    struct gw_sender *s = *slot;
    /* Rebuilt when anything it was made from changed: keywords, HELP text,
     * credentials, the Telnyx key. */
    const char *sealed = PQgetvalue(res, 0, i_sealed), *pk = PQgetvalue(res, 0, i_pk);
    if (!s || s->id != id || strcmp(s->keywords_json, keywords) != 0 ||
        strcmp(s->sealed, sealed) != 0 || strcmp(s->help_text, PQgetvalue(res, 0, i_help)) != 0 ||
        strcmp(s->telnyx_pk_b64, pk) != 0) {
        char err[256];
        struct gw_sender *fresh = calloc(1, sizeof *fresh);
        if (!fresh) {
            l->cb(NULL, 503, "out of memory", l->ctx);
            free(l);
            return;
        }
        fresh->id = id;
        fresh->org_id = strtoll(PQgetvalue(res, 0, i_org_id), NULL, 10);
        snprintf(fresh->address, sizeof fresh->address, "%s", PQgetvalue(res, 0, i_address));
        snprintf(fresh->provider, sizeof fresh->provider, "%s", PQgetvalue(res, 0, i_provider));
        snprintf(fresh->org_name, sizeof fresh->org_name, "%s", PQgetvalue(res, 0, i_org_name));
        fresh->help_text = strdup(PQgetvalue(res, 0, i_help));
        fresh->keywords_json = strdup(keywords);
        fresh->sealed = strdup(sealed);
        fresh->telnyx_pk_b64 = strdup(pk);
        fresh->has_telnyx_pk = *pk && tocsin_base64_decode(pk, strlen(pk), fresh->telnyx_pk,
                                                           sizeof fresh->telnyx_pk) == 32;
        const struct tocsin_config *cfg = &g->d->cfg;
        const char *why = NULL;
        long opened = -1;
        if (!fresh->help_text || !fresh->keywords_json || !fresh->sealed || !fresh->telnyx_pk_b64)
            why = "out of memory";
        else if (cfg->has_secret_key)
            opened = tocsin_credential_open(cfg->secret_key, id, fresh->provider, sealed,
                                            strlen(sealed), fresh->secret, sizeof fresh->secret);
        if (!why && opened < 0)
            why = tocsin_credential_problem(opened, cfg->has_secret_key);
        if (!why && sender_compile(fresh, keywords, err, sizeof err))
            why = err;
        if (why) {
            log_error("sender_unusable", "sender_id=%lld reason=%s", id, tocsin_log_q(why));
            sender_free(fresh);
            l->cb(NULL, 503, "sender misconfigured", l->ctx);
            free(l);
            return;
        }
        sender_free(*slot);
        *slot = s = fresh;
    }
    s->fetched_ms = uv_now(g->d->loop);
    l->cb(s, 200, NULL, l->ctx);
    free(l);
}

void gw_sender_lookup(struct gateway *g, const char *address, int cache_only, gw_sender_cb cb,
                      void *ctx)
{
    /* While the database is unreachable a sender seen before is trusted as
     * it was (its webhooks are spooled); one never seen gets 503. */
    struct gw_sender *s = cached(g->senders, address);
    if (s && (cache_only || uv_now(g->d->loop) - s->fetched_ms < CACHE_FRESH_MS ||
              !tocsin_db_is_ready(g->d->db))) {
        cb(s, 200, NULL, ctx);
        return;
    }
    struct miss *m = miss_slot(g->senders, address);
    if (!s && m->at_ms && strcmp(m->address, address) == 0 &&
        uv_now(g->d->loop) - m->at_ms < MISS_FRESH_MS) {
        tocsin_metric_add(&m_misses_cached, 1);
        cb(NULL, 404, "no sender has this number", ctx);
        return;
    }
    if (cache_only) {
        cb(NULL, 429, "too many unverified webhooks from this address; retry later", ctx);
        return;
    }
    if (!tocsin_db_is_ready(g->d->db)) {
        cb(NULL, 503, "database unavailable and this sender is not cached", ctx);
        return;
    }
    tocsin_metric_add(&m_lookups, 1);
    struct lookup *l = calloc(1, sizeof *l);
    if (!l) {
        cb(NULL, 503, "out of memory", ctx);
        return;
    }
    l->g = g;
    l->cb = cb;
    l->ctx = ctx;
    snprintf(l->address, sizeof l->address, "%s", address);
    const char *params[] = {address};
    if (tocsin_db_query(
            g->d->db,
            "SELECT s.id, s.org_id, s.provider, s.account_sid, s.credentials_sealed,"
            " o.name AS org_name, coalesce(o.help_text, '') AS help_text,"
            " coalesce((SELECT json_agg(json_build_object('id', k.id, 'pattern', k.pattern,"
            "   'reply', k.reply) ORDER BY k.id)::text FROM keywords k"
            "   WHERE k.org_id = s.org_id AND (k.sender_id IS NULL OR k.sender_id = s.id)), '[]')"
            " AS keywords,"
            " s.address, coalesce(s.telnyx_public_key, '') AS telnyx_public_key"
            " FROM senders s JOIN orgs o ON o.id = s.org_id WHERE s.address = $1",
            1, params, lookup_done, l) != 0) {
        free(l);
        cb(NULL, 503, "database unavailable", ctx);
    }
}
