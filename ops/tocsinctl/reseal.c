/* SPDX-License-Identifier: AGPL-3.0-or-later
 * reseal.c — the last step of `tocsinctl migrate`: carrier credentials
 * sealed before they were bound to their sender row (plain secretbox) are
 * opened with the key and sealed again for their row (crypto.h,
 * tocsin_credential_seal). The daemons open only the bound formats, so an
 * old sealed credential copied to another row is useless once this ran.
 * Also publishes the public half of the sealing key pair, with which the
 * dashboard seals the credentials an admin types (format v3). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "dbsync.h"
#include "tocsinctl.h"

/* Without the key there is nothing to publish: the worker does it at start. */
static int publish_sealing_key(PGconn *conn, const struct tocsin_config *cfg)
{
    char param[67], err[512];
    if (!cfg->has_secret_key)
        return 0;
    if (tocsin_sealing_public_key_param(cfg->secret_key, param) != 0) {
        fprintf(stderr, "tocsinctl migrate: could not derive the sealing key\n");
        return -1;
    }
    const char *params[] = {param};
    PGresult *res =
        tocsin_dbsync_exec(conn, TOCSIN_SEALING_KEY_PUBLISH_SQL, 1, params, err, sizeof err);
    if (!res) {
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
        return -1;
    }
    PQclear(res);
    return 0;
}

int ctl_reseal_credentials(PGconn *conn, const struct tocsin_config *cfg)
{
    char err[512];
    if (publish_sealing_key(conn, cfg) != 0)
        return -1;
    PGresult *res = tocsin_dbsync_exec(
        conn,
        "SELECT id, provider, credentials_sealed FROM senders"
        " WHERE credentials_sealed NOT LIKE '" TOCSIN_CREDENTIAL_PREFIX "%'"
        "   AND credentials_sealed NOT LIKE '" TOCSIN_CREDENTIAL_PUBLIC_PREFIX "%'"
        " ORDER BY id",
        0, NULL, err, sizeof err);
    if (!res) {
        fprintf(stderr, "tocsinctl migrate: %s\n", err);
        return -1;
    }
    int n = PQntuples(res), resealed = 0, unopened = 0;
    if (n && !cfg->has_secret_key) {
        fprintf(
            stderr,
            "tocsinctl migrate: %d sender credential(s) in the old format, which the daemons no "
            "longer open; run tocsinctl migrate again with TOCSIN_SECRET_KEY or "
            "TOCSIN_SECRET_KEY_FILE set to re-seal them\n",
            n);
        PQclear(res);
        return 0;
    }
    int i_id = PQfnumber(res, "id"), i_provider = PQfnumber(res, "provider"),
        i_sealed = PQfnumber(res, "credentials_sealed");
    for (int i = 0; i < n; i++) {
        const char *id = PQgetvalue(res, i, i_id), *provider = PQgetvalue(res, i, i_provider);
        const char *old = PQgetvalue(res, i, i_sealed);
        char plain[4097], sealed[8192];
        long len = tocsin_secret_open(cfg->secret_key, old, strlen(old), plain, sizeof plain);
        if (len < 0 || tocsin_credential_seal(cfg->secret_key, strtoll(id, NULL, 10), provider,
                                              plain, (size_t)len, sealed, sizeof sealed) != 0) {
            fprintf(stderr,
                    "tocsinctl migrate: sender %s: its credential does not open with this key; "
                    "left as it is (tocsinctl sender add a new one)\n",
                    id);
            unopened++;
            sodium_memzero(plain, sizeof plain);
            continue;
        }
        sodium_memzero(plain, sizeof plain);
        /* Only if nobody replaced it meanwhile. */
        const char *params[] = {sealed, id, old};
        PGresult *u = tocsin_dbsync_exec(conn,
                                         "UPDATE senders SET credentials_sealed = $1"
                                         " WHERE id = $2 AND credentials_sealed = $3",
                                         3, params, err, sizeof err);
        if (!u) {
            fprintf(stderr, "tocsinctl migrate: %s\n", err);
            PQclear(res);
            return -1;
        }
        resealed += strcmp(PQcmdTuples(u), "1") == 0;
        PQclear(u);
    }
    PQclear(res);
    if (resealed)
        printf("re-sealed %d sender credential(s), each bound to its sender row\n", resealed);
    return 0;
}
