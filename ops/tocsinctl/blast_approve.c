/* SPDX-License-Identifier: AGPL-3.0-or-later
 * blast_approve.c — `tocsinctl blast approve ID --as EMAIL [--count N]`:
 * the two-person rule (orgs.blast_approval_over) satisfied from a shell.
 * The rules are tocsin_blast_approve's (schema/functions/blast_approval.sql),
 * the dashboard's own: a lead or an admin of the blast's org other than its
 * creator, approving the audience count she was shown, audited as
 * blast.approve under her account (source "cli"); an edit of the blast
 * voids it (a trigger). Without --count it only shows what would be approved: the
 * body, list, filter, the audience now and who made it, and the command
 * that approves exactly that. Another org's blast is "does not exist", as in the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "tocsinctl.h"

#define APPROVE_EMAIL_MAX 254

/* The account EMAIL names (never a national admin's acting account, which
 * shares her address: schema 028), or -1 after saying there is none. */
static int find_user(PGconn *conn, const char *email, char user[24], char org[24])
{
    const char *params[] = {email};
    PGresult *res =
        tocsinctl_exec(conn, "blast approve",
                       "SELECT u.id, u.org_id FROM users u"
                       " WHERE lower(u.email) = lower($1) AND u.national_user_id IS NULL",
                       1, params);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found) {
        snprintf(user, 24, "%s", PQgetvalue(res, 0, 0));
        snprintf(org, 24, "%s", PQgetvalue(res, 0, 1));
    } else {
        fprintf(stderr, "tocsinctl blast approve: no account has the email \"%s\"\n", email);
    }
    PQclear(res);
    return found ? 0 : -1;
}

/* Prints the blast as the approver should see it; sets count to its
 * audience now. Returns 0, or -1 after saying why (not of her org). */
static int show(PGconn *conn, const char *id, const char *org, const char *email, char count[24])
{
    const char *params[] = {id, org};
    PGresult *res = tocsinctl_exec(
        conn, "blast approve",
        "SELECT b.state, b.body, coalesce(l.name, '-'), coalesce(s.address, '-'),"
        "       tocsin_blast_audience_count(b.id), coalesce(cu.email, 'tocsinctl'),"
        "       coalesce(o.blast_approval_over::text, 'none'), coalesce(au.email, ''),"
        "       CASE WHEN b.filter ? 'field' THEN format('%s equals \"%s\"', b.filter->>'field',"
        "                                               b.filter->>'equals') ELSE '' END"
        "  FROM blasts b JOIN orgs o ON o.id = b.org_id"
        "  LEFT JOIN lists l ON l.id = b.list_id LEFT JOIN senders s ON s.id = b.sender_id"
        "  LEFT JOIN users cu ON cu.id = b.created_by LEFT JOIN users au ON au.id = b.approved_by"
        " WHERE b.id = $1 AND b.org_id = $2",
        2, params);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "tocsinctl blast approve: blast %s does not exist in the org of %s\n", id,
                email);
        PQclear(res);
        return -1;
    }
    snprintf(count, 24, "%s", PQgetvalue(res, 0, 4));
    printf("blast %s (%s) from %s to the list \"%s\", made by %s\n", id, PQgetvalue(res, 0, 0),
           PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 5));
    printf("  audience now  %s members (the org asks for a second person above %s)\n", count,
           PQgetvalue(res, 0, 6));
    if (*PQgetvalue(res, 0, 8))
        printf("  only members  whose %s\n", PQgetvalue(res, 0, 8));
    if (*PQgetvalue(res, 0, 7))
        printf("  approved by   %s\n", PQgetvalue(res, 0, 7));
    printf("  body          %s\n", PQgetvalue(res, 0, 1));
    PQclear(res);
    return 0;
}

static int valid_count(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 12)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

int tocsinctl_blast_approve(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *as = NULL, *count = NULL, *id;
    const struct ctl_opt opts[] = {CTL_NEEDED("--as", as), CTL_VALUE("--count", count), CTL_END};
    int go = tocsinctl_blast_begin(ctl, argc, argv, opts, &id, NULL);
    if (go != CTL_GO)
        return go;
    if (strlen(as) > APPROVE_EMAIL_MAX || !strchr(as, '@')) {
        fprintf(stderr, "tocsinctl blast approve: invalid --as \"%.60s\": an account's email\n",
                as);
        return TOCSINCTL_USAGE;
    }
    if (count && !valid_count(count)) {
        fprintf(stderr,
                "tocsinctl blast approve: invalid --count \"%.20s\": the audience count shown, "
                "a whole number\n",
                count);
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = ctl_connect(ctl, NULL, NULL);
    if (!conn)
        return TOCSINCTL_FAIL;
    char user[24], org[24], now[24];
    if (find_user(conn, as, user, org) != 0 || show(conn, id, org, as, now) != 0)
        return TOCSINCTL_FAIL;
    if (!count) {
        printf("not approved: to approve what is shown, run\n"
               "  tocsinctl blast approve %s --as %s --count %s\n",
               id, as, now);
        return TOCSINCTL_FAIL;
    }
    /* The function checks again, under the blast's lock, that the count
     * is still the audience's and that she may approve it. */
    const char *params[] = {org, id, user, count};
    PGresult *res = tocsinctl_exec(
        conn, "blast approve",
        "SELECT tocsin_blast_approve($1::bigint, $2::bigint, $3::bigint, $4::bigint, 'cli')", 4,
        params);
    if (!res)
        return TOCSINCTL_FAIL;
    PQclear(res);
    printf("approved blast %s for %s members as %s\n", id, count, as);
    return TOCSINCTL_OK;
}
