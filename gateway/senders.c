/* SPDX-License-Identifier: AGPL-3.0-or-later
 * senders.c — finding the sender a webhook is for (by its To), with its
 * org's HELP text and keywords. Compiled keyword sets are cached by sender
 * and recompiled only when the org's keywords change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "crypto.h"
#include "gateway.h"
#include "log.h"

#define CACHE_SLOTS 64
/* How long a looked-up sender is trusted without asking the database:
 * keyword, HELP-text and credential changes take effect within this. */
#define CACHE_FRESH_MS 2000

static struct gw_sender *cache[CACHE_SLOTS];

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
    memset(s->secret, 0, sizeof s->secret);
    free(s);
}

void gw_senders_free(void)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        sender_free(cache[i]);
        cache[i] = NULL;
    }
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
static struct gw_sender *cached(const char *address)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i] && strcmp(cache[i]->address, address) == 0)
            return cache[i];
    return NULL;
}

static void lookup_done(const struct tocsin_db_result *r, void *arg)
{
    struct lookup *l = arg;
    struct gateway *g = l->g;
    if (r->error) {
        struct gw_sender *stale =
            gw_db_error_transient(r->sqlstate, r->ambiguous) ? cached(l->address) : NULL;
        log_warn("sender_lookup_failed", "reason=\"%s\" using_cached=%d", r->error, stale != NULL);
        if (stale)
            l->cb(stale, 200, NULL, l->ctx);
        else
            l->cb(NULL, 503, "database unavailable", l->ctx);
        free(l);
        return;
    }
    if (PQntuples(r->res) != 1) {
        l->cb(NULL, 404, "no sender has this number", l->ctx);
        free(l);
        return;
    }
    PGresult *res = r->res;
    long long id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    const char *keywords = PQgetvalue(res, 0, 7);
    struct gw_sender **slot = &cache[id % CACHE_SLOTS];
    struct gw_sender *s = *slot;
    if (!s || s->id != id || strcmp(s->keywords_json, keywords) != 0) {
        char err[256];
        struct gw_sender *fresh = calloc(1, sizeof *fresh);
        if (!fresh) {
            l->cb(NULL, 503, "out of memory", l->ctx);
            free(l);
            return;
        }
        fresh->id = id;
        fresh->org_id = strtoll(PQgetvalue(res, 0, 1), NULL, 10);
        snprintf(fresh->address, sizeof fresh->address, "%s", PQgetvalue(res, 0, 8));
        snprintf(fresh->provider, sizeof fresh->provider, "%s", PQgetvalue(res, 0, 2));
        snprintf(fresh->org_name, sizeof fresh->org_name, "%s", PQgetvalue(res, 0, 5));
        fresh->help_text = strdup(PQgetvalue(res, 0, 6));
        fresh->keywords_json = strdup(keywords);
        const char *pk = PQgetvalue(res, 0, 9);
        fresh->has_telnyx_pk = *pk && tocsin_base64_decode(pk, strlen(pk), fresh->telnyx_pk,
                                                           sizeof fresh->telnyx_pk) == 32;
        const char *sealed = PQgetvalue(res, 0, 4);
        int ok = g->d->cfg.has_secret_key &&
                 tocsin_secret_open(g->d->cfg.secret_key, sealed, strlen(sealed), fresh->secret,
                                    sizeof fresh->secret) >= 0;
        if (!ok || sender_compile(fresh, keywords, err, sizeof err)) {
            log_error("sender_unusable", "sender_id=%lld reason=\"%s\"", id,
                      ok ? err
                         : "cannot open its credentials: TOCSIN_SECRET_KEY unset or different");
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
    struct gw_sender *s = cached(address);
    if (s && (cache_only || uv_now(g->d->loop) - s->fetched_ms < CACHE_FRESH_MS ||
              !tocsin_db_is_ready(g->d->db))) {
        cb(s, 200, NULL, ctx);
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
            "SELECT s.id, s.org_id, s.provider, s.account_sid, s.credentials_sealed, o.name,"
            " coalesce(o.help_text, ''),"
            " coalesce((SELECT json_agg(json_build_object('id', k.id, 'pattern', k.pattern,"
            "   'reply', k.reply) ORDER BY k.id)::text FROM keywords k"
            "   WHERE k.org_id = s.org_id AND (k.sender_id IS NULL OR k.sender_id = s.id)), '[]'),"
            " s.address, coalesce(s.telnyx_public_key, '')"
            " FROM senders s JOIN orgs o ON o.id = s.org_id WHERE s.address = $1",
            1, params, lookup_done, l) != 0) {
        free(l);
        cb(NULL, 503, "database unavailable", ctx);
    }
}
