/* SPDX-License-Identifier: AGPL-3.0-or-later
 * db_listen.c — LISTEN/NOTIFY: the channel list, the dedicated listening
 * connection (started on the first LISTEN), subscribing again after every
 * (re)connect, and handing notifications to subscribers. Reading them off
 * the socket is in db_conn.c. */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static void listen_done(const struct tocsin_db_result *r, void *ctx)
{
    struct tocsin_db *db = ctx;
    if (r->error) {
        if (!db->closing)
            log_warn("db_listen_failed", "reason=%s", tocsin_log_q(r->error));
        return;
    }
    log_debug("db_listening", "channels=%u", db->nchannels);
    if (db->on_listen_connected)
        db->on_listen_connected(db->on_listen_connected_ctx);
}

/* Sends one LISTEN per channel (all of them: LISTEN twice is harmless) as
 * one simple-protocol query. */
void db_listen_send(struct db_conn *c)
{
    struct tocsin_db *db = c->db;
    if (db->nchannels == 0 || c->state != DB_READY)
        return;
    char sql[DB_MAX_CHANNELS * 80] = "";
    size_t n = 0;
    for (unsigned i = 0; i < db->nchannels; i++) {
        const char *name = db->channels[i].name;
        char *q = PQescapeIdentifier(c->pg, name, strlen(name));
        if (!q)
            continue;
        int w = snprintf(sql + n, sizeof sql - n, "LISTEN %s;", q);
        PQfreemem(q);
        if (w < 0 || (size_t)w >= sizeof sql - n)
            return; /* cannot happen: names are short and validated */
        n += (size_t)w;
    }
    struct db_job *job = db_job_new_single(sql, 0, NULL);
    if (!job)
        return;
    job->stmts[0].nparams = -1; /* simple protocol: several statements */
    job->internal = 1;
    job->cb = listen_done;
    job->ctx = db;
    db_conn_send(c, job);
}

static int channel_valid(const char *channel)
{
    size_t len = strlen(channel);
    if (len == 0 || len > 63)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = channel[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
            return 0;
    }
    return 1;
}

int tocsin_db_listen(struct tocsin_db *db, const char *channel, tocsin_db_notify_cb cb, void *ctx)
{
    if (!channel_valid(channel) || !cb || db->nchannels == DB_MAX_CHANNELS || db->closing)
        return -1;
    int start = !db->listener;
    if (start) {
        db->listener = calloc(1, sizeof *db->listener);
        if (!db->listener)
            return -1;
        db_conn_init(db, db->listener, 1);
        db->handles_open++; /* released by db_conn_closed at shutdown */
    }
    struct db_channel *chan = &db->channels[db->nchannels++];
    snprintf(chan->name, sizeof chan->name, "%s", channel);
    chan->cb = cb;
    chan->ctx = ctx;
    if (start)
        db_conn_start(db->listener);
    else if (db->listener->state == DB_READY)
        db_listen_send(db->listener);
    else
        db->relisten = 1; /* LISTEN again once the listener is idle */
    return 0;
}

void tocsin_db_on_listen_connected(struct tocsin_db *db, void (*cb)(void *ctx), void *ctx)
{
    db->on_listen_connected = cb;
    db->on_listen_connected_ctx = ctx;
}

void db_notify(struct tocsin_db *db, const char *channel, const char *payload)
{
    for (unsigned i = 0; i < db->nchannels; i++)
        if (strcmp(db->channels[i].name, channel) == 0)
            db->channels[i].cb(channel, payload, db->channels[i].ctx);
}
