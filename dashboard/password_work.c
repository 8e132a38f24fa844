/* SPDX-License-Identifier: AGPL-3.0-or-later
 * password_work.c — argon2id hashing and verification on libuv's thread
 * pool: each takes tens of milliseconds and 64 MiB by design, which must
 * never stall the loop that serves every other request. At most
 * `concurrency` run at once (memory, and thread-pool slots the database
 * and file work also need); the rest wait in one first-come-first-served
 * queue of bounded length, so a flood cannot starve a login that arrived
 * earlier, and a full queue is refused at once (the caller answers 503). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dashboard.h"
#include "metrics.h"

/* A valid argon2id hash of a random password: verifying an unknown email
 * costs the same as a known one, so timing does not tell which exist. */
static char dummy_hash[TOCSIN_PASSWORD_HASH_MAX];

struct pw_work {
    uv_work_t work;
    struct pw_work *next; /* in the queue */
    char *encoded, *password;
    int ok;
    char hash[TOCSIN_PASSWORD_HASH_MAX];
    void (*verified)(int ok, void *arg);
    void (*hashed)(const char *hash, void *arg);
    void *arg;
};

/* The one queue of the process (one dashboard, one loop). */
static struct {
    uv_loop_t *loop;
    unsigned running, waiting, max_running, max_waiting;
    struct pw_work *head, *tail;
} q;

static struct tocsin_metric m_verifications =
    TOCSIN_METRIC_COUNTER("tocsin_dashboard_password_verifications_total",
                          "argon2id password checks started (logins)", NULL);
static struct tocsin_metric m_hashes =
    TOCSIN_METRIC_COUNTER("tocsin_dashboard_password_hashes_total",
                          "argon2id password hashes started (invite accepts)", NULL);
static struct tocsin_metric m_refused =
    TOCSIN_METRIC_COUNTER("tocsin_dashboard_password_queue_full_total",
                          "password checks refused with 503: queue full", NULL);
static struct tocsin_metric m_waiting = TOCSIN_METRIC_GAUGE(
    "tocsin_dashboard_password_waiting", "password checks waiting for an argon2id slot", NULL);

int dash_password_init(uv_loop_t *loop, unsigned concurrency, unsigned queue_max)
{
    q.loop = loop;
    q.max_running = concurrency ? concurrency : 1;
    q.max_waiting = queue_max;
    tocsin_metric_register(&m_verifications);
    tocsin_metric_register(&m_hashes);
    tocsin_metric_register(&m_refused);
    tocsin_metric_register(&m_waiting);
    char pw[32];
    if (tocsin_random_token(16, pw, sizeof pw) != 0)
        return -1;
    return tocsin_password_hash(pw, strlen(pw), dummy_hash);
}

static void pw_free(struct pw_work *w)
{
    if (w->password) {
        sodium_memzero(w->password, strlen(w->password));
        free(w->password);
    }
    free(w->encoded);
    free(w);
}

static void verify_work(uv_work_t *req)
{
    struct pw_work *w = container_of(req, struct pw_work, work);
    int ok = tocsin_password_verify(w->encoded ? w->encoded : dummy_hash, w->password,
                                    strlen(w->password));
    w->ok = w->encoded ? ok : 0;
}

static void hash_work(uv_work_t *req)
{
    struct pw_work *w = container_of(req, struct pw_work, work);
    w->ok = tocsin_password_hash(w->password, strlen(w->password), w->hash) == 0;
}

static void work_done(uv_work_t *req, int status);

/* Starts waiting work while there are free slots. A start that fails
 * (libuv refuses) answers that work as failed. */
static void pump(void)
{
    while (q.head && q.running < q.max_running) {
        struct pw_work *w = q.head;
        q.head = w->next;
        if (!q.head)
            q.tail = NULL;
        q.waiting--;
        tocsin_metric_set(&m_waiting, q.waiting);
        q.running++;
        tocsin_metric_add(w->verified ? &m_verifications : &m_hashes, 1);
        if (uv_queue_work(q.loop, &w->work, w->verified ? verify_work : hash_work, work_done) != 0)
            work_done(&w->work, UV_EINVAL);
    }
}

static void work_done(uv_work_t *req, int status)
{
    struct pw_work *w = container_of(req, struct pw_work, work);
    q.running--;
    if (w->verified)
        w->verified(status == 0 && w->ok, w->arg);
    else
        w->hashed(status == 0 && w->ok ? w->hash : NULL, w->arg);
    pw_free(w);
    pump();
}

/* Queues w behind everything already waiting; DASH_PASSWORD_BUSY when full. */
static int submit(struct pw_work *w)
{
    if (q.waiting >= q.max_waiting && q.running >= q.max_running) {
        tocsin_metric_add(&m_refused, 1);
        pw_free(w);
        return DASH_PASSWORD_BUSY;
    }
    if (q.tail)
        q.tail->next = w;
    else
        q.head = w;
    q.tail = w;
    q.waiting++;
    tocsin_metric_set(&m_waiting, q.waiting);
    pump();
    return 0;
}

int dash_password_verify(const char *encoded, const char *password, void (*done)(int ok, void *arg),
                         void *arg)
{
    struct pw_work *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->encoded = encoded ? strdup(encoded) : NULL;
    w->password = strdup(password);
    w->verified = done;
    w->arg = arg;
    if (!w->password || (encoded && !w->encoded)) {
        pw_free(w);
        return -1;
    }
    return submit(w);
}

int dash_password_hash(const char *password, void (*done)(const char *hash, void *arg), void *arg)
{
    struct pw_work *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->password = strdup(password);
    w->hashed = done;
    w->arg = arg;
    if (!w->password) {
        pw_free(w);
        return -1;
    }
    return submit(w);
}
