/* SPDX-License-Identifier: AGPL-3.0-or-later
 * phone_cmd.c — `tocsinctl phone INPUT [--region CC] [--org SLUG]`: how
 * Tocsin reads a number (E.164, type, region, place), through lib/phone.
 * A number without +country is read in --region, else the org's phone
 * region as its imports read it (tocsinctl_org_region), else
 * TOCSIN_DEFAULT_REGION; the database is used only for --org. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "phone.h"
#include "tocsinctl.h"

int tocsinctl_phone(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *region = NULL, *org = NULL;
    const char *pos[1];
    const struct ctl_opt opts[] = {CTL_VALUE("--region", region), CTL_VALUE("--org", org), CTL_END};
    int go = ctl_begin(
        ctl, argc, argv,
        &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1, .pos_missing = "missing INPUT"});
    if (go != CTL_GO)
        return go;
    /* A usage error never needs the database. */
    if (region && strlen(region) != 2) {
        fprintf(stderr, "tocsinctl phone: invalid region \"%.20s\": must be two letters\n", region);
        return TOCSINCTL_USAGE;
    }
    /* The org is looked up even when --region wins: a slug that names no
     * org is a mistake to report, not to pass over. */
    char org_region[3];
    if (org) {
        long long org_id;
        PGconn *conn = ctl_connect(ctl, org, &org_id);
        if (!conn || tocsinctl_org_region(&ctl->cfg, conn, org_id, org_region) != 0)
            return TOCSINCTL_FAIL;
        if (!region)
            region = org_region;
    }
    if (!region)
        region = ctl->cfg.default_region; /* its form checked when loaded */
    struct tocsin_phone p;
    char err[256];
    if (tocsin_phone_parse(pos[0], strlen(pos[0]), region, &p, err, sizeof err)) {
        fprintf(stderr, "tocsinctl phone: %s\n", err);
        return TOCSINCTL_FAIL;
    }
    char place[128];
    tocsin_phone_describe(p.e164, place, sizeof place);
    printf("e164=%s type=%s region=%s", p.e164, tocsin_phone_type_name(p.type),
           p.region[0] ? p.region : "-");
    if (place[0])
        printf(" place=\"%s\"", place);
    printf("\n");
    return TOCSINCTL_OK;
}
