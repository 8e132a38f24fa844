/* SPDX-License-Identifier: AGPL-3.0-or-later
 * contacts_import.c — `tocsinctl contacts import`: runs lib's CSV import
 * and prints its report (counts, then one line per rejected row). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "contacts_import.h"
#include "import_presets.h"
#include "tocsinctl.h"

static void print_progress(long rows, void *ctx)
{
    (void)ctx;
    fprintf(stderr, "tocsinctl contacts import: %ld rows read\n", rows);
}

/* The mapping of --preset (a name, or auto) for the header of in, which
 * is then rewound. Returns the preset, or NULL after saying why. */
static const struct tocsin_import_preset *preset_mapping(FILE *in, const char *name,
                                                         struct tocsin_import_mapping *m)
{
    struct tocsin_csv *csv = malloc(sizeof *csv); /* 64 KiB of buffer */
    struct tocsin_csv_row row;
    char err[200] = "out of memory";
    const struct tocsin_import_preset *p = NULL;
    if (csv) {
        tocsin_csv_init_file(csv, in);
        if (tocsin_csv_next(csv, &row, err, sizeof err) != TOCSIN_CSV_ROW) {
            snprintf(err, sizeof err, "the file has no header row");
        } else if (strcmp(name, "auto") == 0) {
            p = tocsin_import_preset_detect(&row);
        } else if (!(p = tocsin_import_preset_find(name))) {
            snprintf(err, sizeof err,
                     "unknown preset \"%.40s\" (spoke_contacts, spoke_opt_outs, action_network,"
                     " van, plain or auto)",
                     name);
        }
        if (p)
            tocsin_import_preset_map(p, &row, m);
        tocsin_csv_free(csv);
        free(csv);
    }
    if (p && fseek(in, 0, SEEK_SET) != 0) {
        snprintf(err, sizeof err, "the file cannot be read twice");
        p = NULL;
    }
    if (!p)
        fprintf(stderr, "tocsinctl contacts import: %s\n", err);
    return p;
}

int tocsinctl_contacts_import(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *list = NULL, *region = NULL, *outreach = NULL, *opt_outs = NULL,
               *preset = NULL;
    int strict = 0, dry_run = 0, progress = 0;
    const char *pos[1];
    const struct ctl_opt opts[] = {
        CTL_NEEDED("--org", org),          CTL_VALUE("--list", list),
        CTL_VALUE("--region", region),     CTL_FLAG("--strict", strict),
        CTL_VALUE("--outreach", outreach), CTL_VALUE("--opt-outs", opt_outs),
        CTL_VALUE("--preset", preset),     CTL_FLAG("--dry-run", dry_run),
        CTL_FLAG("--progress", progress),  CTL_END};
    int np;
    int go = ctl_begin(ctl, argc, argv,
                       &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1, .npos = &np});
    if (go != CTL_GO)
        return go;
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
    if (preset && (opt_outs || strcmp(pos[0], "-") == 0)) {
        fprintf(stderr, "tocsinctl contacts import: --preset %s\n",
                opt_outs ? "cannot be combined with --opt-outs (the preset says which column)"
                         : "needs a file, not standard input");
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
    struct tocsin_import_mapping mapping;
    const struct tocsin_import_preset *p = preset ? preset_mapping(in, preset, &mapping) : NULL;
    char org_region[3];
    if ((preset && !p) || !conn || tocsinctl_find_org(conn, org, &org_id) ||
        (!region && tocsinctl_org_region(&ctl->cfg, conn, org_id, org_region) != 0))
        goto out;
    if (p && p->opt_outs && (list || outreach)) {
        fprintf(stderr,
                "tocsinctl contacts import: %s is an opt-out list: no --list or --outreach\n",
                p->id);
        goto out;
    }
    if (p)
        fprintf(stderr, "tocsinctl contacts import: read as %s\n", p->label);
    int as_opt_outs = opt_outs || (p && p->opt_outs);
    struct tocsin_import_options o = {.org_id = org_id,
                                      .filename = pos[0],
                                      .list_name = list,
                                      .outreach_campaign_id = campaign,
                                      .opt_outs = as_opt_outs,
                                      .phone_column = opt_outs,
                                      .mapping = p ? &mapping : NULL,
                                      .region = region ? region : org_region,
                                      .strict = strict,
                                      .dry_run = dry_run,
                                      .progress = (progress || isatty(2)) ? print_progress : NULL};
    struct tocsin_import_report rep;
    char err[512];
    int failed = tocsin_contacts_import(conn, in, &o, &rep, err, sizeof err);
    if (rep.region[0])
        fprintf(stderr, "tocsinctl contacts import: numbers without +country read as %s\n",
                rep.region);
    if (as_opt_outs)
        printf("opted_out=%ld already_opted_out=%ld rejected=%ld duplicates=%ld%s\n",
               failed ? 0 : rep.opted_out, failed ? 0 : rep.already_opted_out, rep.rejected,
               rep.duplicates, dry_run && !failed ? " (dry run: nothing written)" : "");
    else
        printf("imported=%ld updated=%ld rejected=%ld kept_opted_out=%ld%s\n",
               failed ? 0 : rep.imported, failed ? 0 : rep.updated, rep.rejected,
               failed ? 0 : rep.kept_opted_out,
               dry_run && !failed ? " (dry run: nothing written)" : "");
    if (p && !p->opt_outs && !failed)
        printf("opted_out=%ld already_opted_out=%ld\n", rep.opted_out, rep.already_opted_out);
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
