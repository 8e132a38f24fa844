/* SPDX-License-Identifier: AGPL-3.0-or-later
 * contacts_import.c — `tocsinctl contacts import`: runs lib's CSV import
 * and prints its report (counts, then one line per rejected row). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "contacts_import.h"
#include "tocsinctl.h"

static void print_progress(long rows, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "tocsinctl contacts import: %ld rows read\n", rows);
}

int tocsinctl_contacts_import(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *list = NULL, *region = NULL, *outreach = NULL, *opt_outs = NULL;
    int strict = 0, dry_run = 0, progress = 0;
    const char *pos[1];
    const struct ctl_opt opts[] = {{"--org", &org, NULL},
                                   {"--list", &list, NULL},
                                   {"--region", &region, NULL},
                                   {"--strict", NULL, &strict},
                                   {"--outreach", &outreach, NULL},
                                   {"--opt-outs", &opt_outs, NULL},
                                   {"--dry-run", NULL, &dry_run},
                                   {"--progress", NULL, &progress},
                                   {NULL, NULL, NULL}};
    int np = ctl_parse("contacts import", argc, argv, opts, pos, 1);
    if (np == -2)
        return TOCSINCTL_OK;
    if (np < 0 || ctl_require("contacts import", "--org", org))
        return TOCSINCTL_USAGE;
    long long campaign = 0;
    if (opt_outs && (list || outreach)) {
        fprintf(
            stderr,
            "tocsinctl contacts import: --opt-outs cannot be combined with --list or --outreach\n");
        return TOCSINCTL_USAGE;
    }
    if (outreach) {
        char *end;
        campaign = strtoll(outreach, &end, 10);
        if (*end || campaign <= 0 || list) {
            fprintf(stderr, "tocsinctl contacts import: %s\n",
                    list ? "--list and --outreach cannot be combined"
                         : "--outreach takes a campaign id (tocsinctl outreach status lists them)");
            return TOCSINCTL_USAGE;
        }
    }
    if (np != 1) {
        fprintf(stderr, "tocsinctl contacts import: missing FILE.csv (see --help)\n");
        return TOCSINCTL_USAGE;
    }
    FILE *in = strcmp(pos[0], "-") == 0 ? stdin : fopen(pos[0], "rb");
    if (!in) {
        fprintf(stderr, "tocsinctl contacts import: could not open \"%s\"\n", pos[0]);
        return TOCSINCTL_FAIL;
    }
    PGconn *conn = tocsinctl_db(ctl);
    long long org_id;
    int rc = TOCSINCTL_FAIL;
    if (!conn || tocsinctl_find_org(conn, org, &org_id))
        goto out;
    struct tocsin_import_options o = {.org_id = org_id,
                                      .filename = pos[0],
                                      .list_name = list,
                                      .outreach_campaign_id = campaign,
                                      .opt_outs = opt_outs != NULL,
                                      .phone_column = opt_outs,
                                      .region = region ? region : ctl->cfg.default_region,
                                      .strict = strict,
                                      .dry_run = dry_run,
                                      .progress = (progress || isatty(2)) ? print_progress : NULL};
    struct tocsin_import_report rep;
    char err[512];
    int failed = tocsin_contacts_import(conn, in, &o, &rep, err, sizeof err);
    if (opt_outs)
        printf("opted_out=%ld already_opted_out=%ld rejected=%ld duplicates=%ld%s\n",
               failed ? 0 : rep.opted_out, failed ? 0 : rep.already_opted_out, rep.rejected,
               rep.duplicates, dry_run && !failed ? " (dry run: nothing written)" : "");
    else
        printf("imported=%ld updated=%ld rejected=%ld kept_opted_out=%ld%s\n",
               failed ? 0 : rep.imported, failed ? 0 : rep.updated, rep.rejected,
               failed ? 0 : rep.kept_opted_out,
               dry_run && !failed ? " (dry run: nothing written)" : "");
    if (list && !failed)
        printf("subscribed=%ld list=%s\n", rep.subscribed, list);
    if (campaign && !failed)
        printf("targeted=%ld outreach=%lld\n", rep.targeted, campaign);
    for (size_t i = 0; i < rep.nrejections; i++)
        printf("line %lu: %s\n", rep.rejections[i].line, rep.rejections[i].reason);
    if ((size_t)rep.rejected > rep.nrejections)
        printf("... and %ld more rejected rows\n", rep.rejected - (long)rep.nrejections);
    if (o.progress)
        fprintf(stderr,
                "tocsinctl contacts import: %ld rows: read+validate+copy %.2f s, upsert %.2f s, "
                "subscribe %.2f s\n",
                rep.rows, rep.seconds_read, rep.seconds_upsert, rep.seconds_subscribe);
    if (failed)
        fprintf(stderr, "tocsinctl contacts import: %s\n", err);
    else
        rc = TOCSINCTL_OK;
    tocsin_import_report_free(&rep);
out:
    if (in != stdin)
        fclose(in);
    return rc;
}
