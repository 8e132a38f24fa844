/* SPDX-License-Identifier: AGPL-3.0-or-later
 * key_rotate.c — `tocsinctl reseal --old-key-file FILE`: after the secret
 * key changed, every sender's credential (v2, v3 sealed by the dashboard,
 * or the unbound format of before) is opened with the old key and sealed
 * again with the new one (v2), and the new key's public sealing key is
 * published for the dashboard, in one transaction: a credential that opens
 * with neither key changes nothing at all. Also the key-file reader doctor
 * uses. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "args.h"
#include "crypto.h"
#include "dbsync.h"
#include "tocsinctl.h"

int ctl_read_key_file(const char *path, unsigned char key[32])
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[130] = "";
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    size_t l = strcspn(line, "\r\n");
    size_t got = 0;
    ok = ok && l == 64 && sodium_hex2bin(key, 32, line, l, NULL, &got, NULL) == 0 && got == 32;
    sodium_memzero(line, sizeof line);
    return ok ? 0 : -1;
}

/* Opens sealed (any format) with key into plain; returns its length or -1. */
static long open_any(const unsigned char key[32], long long id, const char *provider,
                     const char *sealed, char *plain, size_t size)
{
    long n = tocsin_credential_open(key, id, provider, sealed, strlen(sealed), plain, size);
    if (n == TOCSIN_CREDENTIAL_LEGACY)
        n = tocsin_secret_open(key, sealed, strlen(sealed), plain, size);
    return n;
}

static int exec_ok(PGconn *conn, const char *sql, int n, const char *const *params)
{
    char err[512];
    PGresult *res = tocsin_dbsync_exec(conn, sql, n, params, err, sizeof err);
    if (!res) {
        fprintf(stderr, "tocsinctl reseal: %s\n", err);
        return -1;
    }
    PQclear(res);
    return 0;
}

/* Re-seals every row inside the caller's transaction; counts into *done and
 * *already. Returns 0, or -1 after saying which sender opens with neither key. */
static int reseal_rows(PGconn *conn, const unsigned char old_key[32], const unsigned char key[32],
                       int *done, int *already)
{
    char err[512];
    PGresult *res = tocsin_dbsync_exec(
        conn, "SELECT id, provider, credentials_sealed FROM senders ORDER BY id FOR UPDATE", 0,
        NULL, err, sizeof err);
    if (!res) {
        fprintf(stderr, "tocsinctl reseal: %s\n", err);
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        const char *id = PQgetvalue(res, i, 0), *provider = PQgetvalue(res, i, 1);
        const char *sealed = PQgetvalue(res, i, 2);
        long long sid = strtoll(id, NULL, 10);
        char plain[4097], fresh[8192];
        long n = open_any(old_key, sid, provider, sealed, plain, sizeof plain);
        if (n < 0 && strncmp(sealed, TOCSIN_CREDENTIAL_PREFIX, 3) == 0 &&
            tocsin_credential_open(key, sid, provider, sealed, strlen(sealed), plain,
                                   sizeof plain) >= 0) {
            (*already)++; /* a second run: this one has the new key already */
        } else if (n < 0 || tocsin_credential_seal(key, sid, provider, plain, (size_t)n, fresh,
                                                   sizeof fresh) != 0) {
            fprintf(stderr,
                    "tocsinctl reseal: sender %s: its credential opens with neither the old "
                    "key nor the new one; nothing was changed (replace its credentials first, "
                    "or remove the sender)\n",
                    id);
            rc = -1;
        } else {
            const char *params[] = {fresh, id};
            rc = exec_ok(conn, "UPDATE senders SET credentials_sealed = $1 WHERE id = $2", 2,
                         params);
            (*done)++;
        }
        sodium_memzero(plain, sizeof plain);
    }
    PQclear(res);
    return rc;
}

int tocsinctl_reseal(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *old_file = NULL;
    const struct ctl_opt opts[] = {CTL_NEEDED("--old-key-file", old_file), CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (!ctl->cfg.has_secret_key) {
        fprintf(stderr, "tocsinctl reseal: the new key must be set (TOCSIN_SECRET_KEY_FILE or "
                        "TOCSIN_SECRET_KEY)\n");
        return TOCSINCTL_USAGE;
    }
    unsigned char old_key[32];
    if (ctl_read_key_file(old_file, old_key) != 0) {
        fprintf(stderr,
                "tocsinctl reseal: cannot read the old key from \"%s\": it must hold 64 "
                "hex digits\n",
                old_file);
        return TOCSINCTL_FAIL;
    }
    char pk[67];
    PGconn *conn = tocsinctl_db(ctl);
    int done = 0, already = 0, rc = -1;
    if (conn && tocsin_sealing_public_key_param(ctl->cfg.secret_key, pk) == 0 &&
        exec_ok(conn, "BEGIN", 0, NULL) == 0) {
        const char *params[] = {pk};
        rc = reseal_rows(conn, old_key, ctl->cfg.secret_key, &done, &already);
        if (rc == 0)
            rc = exec_ok(conn, TOCSIN_SEALING_KEY_PUBLISH_SQL, 1, params);
        if (rc == 0)
            rc = exec_ok(conn, "COMMIT", 0, NULL);
        if (rc != 0)
            exec_ok(conn, "ROLLBACK", 0, NULL);
    }
    sodium_memzero(old_key, sizeof old_key);
    if (rc != 0)
        return TOCSINCTL_FAIL;
    printf("re-sealed %d sender credential(s) with the new key (%d had it already) and published "
           "its sealing key; restart the gateway and the worker with the new key\n",
           done, already);
    return TOCSINCTL_OK;
}
