/* SPDX-License-Identifier: AGPL-3.0-or-later
 * sender_limit.c — `tocsinctl sender limit`: a carrier account's own rate
 * limit (provider_account_limits), which the worker keeps on top of each
 * sender's messages per second. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "sender_check.h"
#include "tocsinctl.h"

int tocsinctl_sender_limit(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *provider = NULL, *account = NULL, *mps = NULL;
    const struct ctl_opt opts[] = {CTL_NEEDED("--provider", provider),
                                   CTL_NEEDED("--account", account), CTL_NEEDED("--mps", mps),
                                   CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    if (strcmp(provider, "twilio") && strcmp(provider, "telnyx")) {
        fprintf(stderr,
                "tocsinctl sender limit: invalid provider \"%s\": must be twilio or telnyx\n",
                provider);
        return TOCSINCTL_USAGE;
    }
    double rate;
    char why[160];
    if (tocsin_sender_account_limit_check(mps, &rate, why, sizeof why) != 0) {
        fprintf(stderr, "tocsinctl sender limit: %s (--mps)\n", why);
        return TOCSINCTL_USAGE;
    }
    if (strlen(account) < 1 || strlen(account) > 100) {
        fprintf(stderr, "tocsinctl sender limit: invalid account: 1 to 100 characters\n");
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    const char *params[] = {provider, account, mps};
    PGresult *res = tocsinctl_exec(
        conn, "sender limit",
        rate > 0
            ? "INSERT INTO provider_account_limits (provider, account, messages_per_second)"
              " VALUES ($1, $2, $3::numeric)"
              " ON CONFLICT (provider, account) DO UPDATE SET messages_per_second = EXCLUDED.messages_per_second"
            : "DELETE FROM provider_account_limits WHERE provider = $1 AND account = $2 AND $3::numeric = 0",
        3, params);
    int rc = res ? TOCSINCTL_OK : TOCSINCTL_FAIL;
    if (res) {
        if (rate > 0)
            printf("account %s:%s limited to %s segments per second\n", provider, account, mps);
        else
            printf("account %s:%s has no account limit\n", provider, account);
        PQclear(res);
    }
    return rc;
}
