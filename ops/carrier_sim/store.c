/* SPDX-License-Identifier: AGPL-3.0-or-later
 * store.c — the simulator's memory: accepted and member messages by sid,
 * counts per (to, body) for "exactly once" checks, accepted segments per
 * second per sender for rate checks, and the carrier's opt-out list. The
 * indexes are table.c's; the control API (control.c) turns them into JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"
#include "sms.h"

uint64_t sim_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct sim_message *sim_store_add(struct sim *s, const char *account, const char *from,
                                  const char *to, tocsin_str body, const char *callback,
                                  int outbound)
{
    if (s->nlist == s->caplist) {
        size_t cap = s->caplist ? s->caplist * 2 : 1024;
        struct sim_message **l = realloc(s->list, cap * sizeof *l);
        if (!l)
            return NULL;
        s->list = l;
        s->caplist = cap;
    }
    struct sim_message *m = calloc(1, sizeof *m);
    if (!m || !(m->body = malloc(body.len + 1))) {
        free(m);
        return NULL;
    }
    memcpy(m->body, body.base, body.len);
    m->body[body.len] = '\0';
    char hex[33];
    sim_randpool_hex16(&s->random, hex);
    snprintf(m->sid, sizeof m->sid, "SM%s", hex);
    snprintf(m->account, sizeof m->account, "%s", account);
    snprintf(m->from, sizeof m->from, "%s", from);
    snprintf(m->to, sizeof m->to, "%s", to);
    m->status_callback = callback && *callback ? strdup(callback) : NULL;
    snprintf(m->status, sizeof m->status, "%s", outbound ? "queued" : "received");
    struct tocsin_sms_info info;
    m->segments =
        tocsin_sms_count(body.base, body.len, &info) == 0 && info.segments ? (int)info.segments : 1;
    m->created_ms = sim_now_ms();
    m->outbound = outbound;
    uint64_t *i = sim_table_put(&s->messages, m->sid, strlen(m->sid), NULL);
    if (!i) {
        free(m->status_callback);
        free(m->body);
        free(m);
        return NULL;
    }
    *i = s->nlist;
    s->list[s->nlist++] = m;
    return m;
}

struct sim_message *sim_store_find(struct sim *s, const char *sid)
{
    uint64_t *i = sim_table_get(&s->messages, sid, strlen(sid));
    return i ? s->list[*i] : NULL;
}

/* A two-part key "a\nb": in buf when it fits, as it nearly always does,
 * else on the heap. */
struct pair_key {
    char *base;
    size_t len;
    char buf[256];
};

/* Makes the key; 0, or -1 if out of memory. Release it with pair_key_done. */
static int pair_key(struct pair_key *k, const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    k->len = la + 1 + lb;
    k->base = k->len <= sizeof k->buf ? k->buf : malloc(k->len);
    if (!k->base)
        return -1;
    memcpy(k->base, a, la);
    k->base[la] = '\n';
    memcpy(k->base + la + 1, b, lb);
    return 0;
}

static void pair_key_done(struct pair_key *k)
{
    if (k->base != k->buf)
        free(k->base);
}

/* from's entry, made on first use; NULL if out of memory. */
static struct sim_sender *sender_of(struct sim *s, const char *from)
{
    int created;
    uint64_t *i = sim_table_put(&s->rates, from, strlen(from), &created);
    if (!i)
        return NULL;
    if (created) {
        if (s->nsenders == s->capsenders) {
            size_t cap = s->capsenders ? s->capsenders * 2 : 16;
            struct sim_sender *v = realloc(s->senders, cap * sizeof *v);
            if (!v) {
                sim_table_del(&s->rates, from, strlen(from));
                return NULL;
            }
            s->senders = v;
            s->capsenders = cap;
        }
        *i = s->nsenders;
        s->senders[s->nsenders++] = (struct sim_sender){0};
    }
    return &s->senders[*i];
}

/* Adds segments to second. Seconds come in order, but the wall clock may
 * step back, so the second is looked for from the newest down. */
static void add_segments(struct sim_sender *d, uint64_t second, uint64_t segments)
{
    for (size_t i = d->n; i-- > 0;)
        if (d->v[i].second == second) {
            d->v[i].segments += segments;
            return;
        }
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct sim_second *v = realloc(d->v, cap * sizeof *v);
        if (!v)
            return;
        d->v = v;
        d->cap = cap;
    }
    d->v[d->n++] = (struct sim_second){second, segments};
}

void sim_store_count(struct sim *s, struct sim_message *m)
{
    struct pair_key k;
    if (pair_key(&k, m->to, m->body) == 0) {
        uint64_t *c = sim_table_put(&s->counts, k.base, k.len, NULL);
        if (c)
            (*c)++;
        pair_key_done(&k);
    }
    struct sim_sender *d = sender_of(s, m->from);
    if (d)
        add_segments(d, m->created_ms / 1000, (uint64_t)m->segments);
    s->accepted_total++;
}

uint64_t sim_store_accepted(struct sim *s, const char *to, const char *body)
{
    struct pair_key k;
    if (pair_key(&k, to, body))
        return 0;
    uint64_t *c = sim_table_get(&s->counts, k.base, k.len);
    pair_key_done(&k);
    return c ? *c : 0;
}

const struct sim_sender *sim_store_sender(struct sim *s, const char *from)
{
    uint64_t *i = sim_table_get(&s->rates, from, strlen(from));
    return i ? &s->senders[*i] : NULL;
}

int sim_store_opted_out(struct sim *s, const char *to, const char *from)
{
    struct pair_key k;
    if (pair_key(&k, to, from))
        return 0;
    int out = sim_table_get(&s->opted_out, k.base, k.len) != NULL;
    pair_key_done(&k);
    return out;
}

void sim_store_set_opted_out(struct sim *s, const char *to, const char *from, int out)
{
    struct pair_key k;
    if (pair_key(&k, to, from))
        return;
    uint64_t *v;
    if (!out)
        sim_table_del(&s->opted_out, k.base, k.len);
    else if ((v = sim_table_put(&s->opted_out, k.base, k.len, NULL)))
        *v = 1;
    pair_key_done(&k);
}

int sim_store_handling(struct sim *s, const char *number, const char *provider)
{
    uint64_t *v = sim_table_get(&s->handling, number, strlen(number));
    if (v)
        return (int)*v;
    return number[0] == '+' && strcmp(provider, "twilio") == 0 ? SIM_OPT_OUT_CARRIER
                                                               : SIM_OPT_OUT_PROGRAM;
}

int sim_store_set_handling(struct sim *s, const char *number, int handling)
{
    uint64_t *v = sim_table_put(&s->handling, number, strlen(number), NULL);
    if (!v)
        return -1;
    *v = (uint64_t)handling;
    return 0;
}

void sim_store_reset(struct sim *s)
{
    for (size_t i = 0; i < s->nlist; i++) {
        free(s->list[i]->body);
        free(s->list[i]->status_callback);
        free(s->list[i]);
    }
    s->nlist = 0;
    for (size_t i = 0; i < s->nsenders; i++)
        free(s->senders[i].v);
    free(s->senders);
    s->senders = NULL;
    s->nsenders = s->capsenders = 0;
    sim_table_clear(&s->messages);
    sim_table_clear(&s->counts);
    sim_table_clear(&s->rates);
    sim_table_clear(&s->opted_out);
    sim_table_clear(&s->handling);
    s->accepted_total = 0;
}

json_t *sim_message_json(const struct sim_message *m)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s,s:s}", "sid", m->sid, "from", m->from, "to",
                     m->to, "body", m->body, "status", m->status, "num_segments", m->segments,
                     "created_ms", (json_int_t)m->created_ms, "direction",
                     m->outbound ? "outbound" : "inbound", "sent_by",
                     m->carrier    ? "carrier"
                     : m->outbound ? "program"
                                   : "member");
}
