/* SPDX-License-Identifier: AGPL-3.0-or-later
 * store.c — the simulator's memory: accepted and member messages by sid,
 * counts per (to, body) for "exactly once" checks, accepted messages per
 * second per sender for rate checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "sim.h"
#include "sms.h"

uint64_t sim_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

struct sim_message *sim_store_add(struct sim *s, const char *account, const char *from,
                                  const char *to, tocsin_str body, const char *callback, int outbound)
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
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    char hex[33];
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    snprintf(m->sid, sizeof m->sid, "SM%s", hex);
    snprintf(m->account, sizeof m->account, "%s", account);
    snprintf(m->from, sizeof m->from, "%s", from);
    snprintf(m->to, sizeof m->to, "%s", to);
    m->status_callback = callback && *callback ? strdup(callback) : NULL;
    snprintf(m->status, sizeof m->status, "%s", outbound ? "queued" : "received");
    struct tocsin_sms_info info;
    m->segments = tocsin_sms_count(body.base, body.len, &info) == 0 && info.segments ? (int)info.segments : 1;
    m->created_ms = sim_now_ms();
    m->outbound = outbound;
    json_object_set_new(s->messages, m->sid, json_integer((json_int_t)s->nlist));
    s->list[s->nlist++] = m;
    return m;
}

struct sim_message *sim_store_find(struct sim *s, const char *sid)
{
    json_t *i = json_object_get(s->messages, sid);
    return i ? s->list[json_integer_value(i)] : NULL;
}

void sim_store_count(struct sim *s, struct sim_message *m)
{
    size_t klen = strlen(m->to) + 1 + strlen(m->body) + 1;
    char *key = malloc(klen);
    if (!key)
        return;
    snprintf(key, klen, "%s\n%s", m->to, m->body);
    json_t *c = json_object_get(s->counts, key);
    json_object_set_new(s->counts, key, json_integer(c ? json_integer_value(c) + 1 : 1));
    free(key);
    json_t *per = json_object_get(s->rates, m->from);
    if (!per) {
        per = json_object();
        json_object_set_new(s->rates, m->from, per);
    }
    char second[24];
    snprintf(second, sizeof second, "%llu", (unsigned long long)(m->created_ms / 1000));
    json_t *n = json_object_get(per, second);
    json_object_set_new(per, second, json_integer((n ? json_integer_value(n) : 0) + m->segments));
    s->accepted_total++;
}

void sim_store_reset(struct sim *s)
{
    for (size_t i = 0; i < s->nlist; i++) {
        free(s->list[i]->body);
        free(s->list[i]->status_callback);
        free(s->list[i]);
    }
    s->nlist = 0;
    json_object_clear(s->messages);
    json_object_clear(s->counts);
    json_object_clear(s->rates);
    json_object_clear(s->opted_out);
    s->accepted_total = 0;
}

json_t *sim_message_json(const struct sim_message *m)
{
    return json_pack("{s:s,s:s,s:s,s:s,s:s,s:i,s:I,s:s}", "sid", m->sid, "from", m->from, "to", m->to,
                     "body", m->body, "status", m->status, "num_segments", m->segments, "created_ms",
                     (json_int_t)m->created_ms, "direction", m->outbound ? "outbound" : "inbound");
}
