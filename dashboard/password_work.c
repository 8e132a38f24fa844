/* SPDX-License-Identifier: AGPL-3.0-or-later
 * password_work.c — argon2id hashing and verification on libuv's thread
 * pool: each takes tens of milliseconds and 64 MiB by design, which must
 * never stall the loop that serves every other request. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dashboard.h"

/* A valid argon2id hash of a random password: verifying an unknown email
 * costs the same as a known one, so timing does not tell which exist. */
static char dummy_hash[TOCSIN_PASSWORD_HASH_MAX];

int password_work_init(void)
{
    char pw[32];
    if (tocsin_random_token(16, pw, sizeof pw) != 0)
        return -1;
    return tocsin_password_hash(pw, strlen(pw), dummy_hash);
}

struct pw_work {
    uv_work_t work;
    char *encoded, *password;
    int ok;
    char hash[TOCSIN_PASSWORD_HASH_MAX];
    void (*verified)(int ok, void *arg);
    void (*hashed)(const char *hash, void *arg);
    void *arg;
};

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

static void verify_done(uv_work_t *req, int status)
{
    struct pw_work *w = container_of(req, struct pw_work, work);
    w->verified(status == 0 && w->ok, w->arg);
    pw_free(w);
}

int password_verify_async(uv_loop_t *loop, const char *encoded, const char *password,
                          void (*done)(int ok, void *arg), void *arg)
{
    struct pw_work *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->encoded = encoded ? strdup(encoded) : NULL;
    w->password = strdup(password);
    w->verified = done;
    w->arg = arg;
    if (!w->password || (encoded && !w->encoded) ||
        uv_queue_work(loop, &w->work, verify_work, verify_done) != 0) {
        pw_free(w);
        return -1;
    }
    return 0;
}

static void hash_work(uv_work_t *req)
{
    struct pw_work *w = container_of(req, struct pw_work, work);
    w->ok = tocsin_password_hash(w->password, strlen(w->password), w->hash) == 0;
}

static void hash_done(uv_work_t *req, int status)
{
    struct pw_work *w = container_of(req, struct pw_work, work);
    w->hashed(status == 0 && w->ok ? w->hash : NULL, w->arg);
    pw_free(w);
}

int password_hash_async(uv_loop_t *loop, const char *password,
                        void (*done)(const char *hash, void *arg), void *arg)
{
    struct pw_work *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->password = strdup(password);
    w->hashed = done;
    w->arg = arg;
    if (!w->password || uv_queue_work(loop, &w->work, hash_work, hash_done) != 0) {
        pw_free(w);
        return -1;
    }
    return 0;
}
