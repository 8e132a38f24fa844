/* SPDX-License-Identifier: AGPL-3.0-or-later
 * keyword.c — `tocsinctl keyword add`: an opt-in keyword (JOIN, UNETE...)
 * with its list and its confirmation. Refuses reserved words (STOP, HELP,
 * START and their Spanish forms), patterns pcre2 cannot compile or that
 * match an empty message or a reserved word, and confirmations that lack
 * a CTIA part (lib/keyword_rules, which the dashboard shares). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "keyword_rules.h"
#include "dbsync.h"
#include "records.h"
#include "tocsinctl.h"

int ctl_insert_keyword(PGconn *conn, long long org_id, const struct ctl_keyword *k, char *err,
                       size_t errlen)
{
    char org[24];
    snprintf(org, sizeof org, "%lld", org_id);
    const char *p1[] = {org};
    PGresult *res =
        tocsin_dbsync_exec(conn, "SELECT name FROM orgs WHERE id = $1", 1, p1, err, errlen);
    if (!res)
        return -1;
    char org_name[256];
    snprintf(org_name, sizeof org_name, "%s", PQntuples(res) ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    if (k->language && strcmp(k->language, "en") && strcmp(k->language, "es")) {
        snprintf(err, errlen, "invalid language \"%s\": must be en or es", k->language);
        return -1;
    }
    struct tocsin_keyword_checked ok;
    if (tocsin_keyword_rules_check(k->keyword, k->pattern, k->reply, org_name, &ok, err, errlen))
        return -1;
    const char *up = ok.keyword, *pattern = ok.pattern;
    const char *params[] = {org, k->sender, k->list, up, pattern, k->reply, k->language};
    char dberr[512];
    res = tocsin_dbsync_exec(
        conn,
        "WITH l AS (INSERT INTO lists (org_id, name) VALUES ($1, $3)"
        "           ON CONFLICT (org_id, name) DO UPDATE SET name = EXCLUDED.name RETURNING id),"
        " s AS (SELECT id FROM senders WHERE org_id = $1 AND address = $2)"
        " INSERT INTO keywords (org_id, sender_id, list_id, keyword, pattern, reply, language)"
        " SELECT $1, (SELECT id FROM s), l.id, $4, $5, $6, $7 FROM l"
        " WHERE $2::text IS NULL OR EXISTS (SELECT 1 FROM s) RETURNING id",
        7, params, dberr, sizeof dberr);
    if (!res) {
        if (strcmp(tocsin_dbsync_last_sqlstate(), "23505") == 0)
            snprintf(err, errlen, "keyword \"%s\" already exists", up);
        else
            snprintf(err, errlen, "%s", dberr);
        return -1;
    }
    int found = PQntuples(res) == 1;
    PQclear(res);
    if (!found) {
        snprintf(err, errlen, "sender \"%s\" does not exist in this org", k->sender);
        return -1;
    }
    return 0;
}

static int add_keyword(PGconn *conn, long long org_id, void *arg, char *err, size_t errlen)
{
    return ctl_insert_keyword(conn, org_id, arg, err, errlen);
}

int tocsinctl_keyword_add(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL;
    struct ctl_keyword k = {0};
    const struct ctl_opt opts[] = {CTL_NEEDED("--org", org),
                                   CTL_NEEDED("--keyword", k.keyword),
                                   CTL_VALUE("--pattern", k.pattern),
                                   CTL_VALUE("--sender", k.sender),
                                   CTL_NEEDED("--list", k.list),
                                   CTL_NEEDED("--reply", k.reply),
                                   CTL_VALUE("--language", k.language),
                                   CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    char done[300];
    snprintf(done, sizeof done, "added keyword %s (list %s) to org %s", k.keyword, k.list, org);
    return tocsinctl_for_org(ctl, "keyword add", org, add_keyword, &k, done);
}
