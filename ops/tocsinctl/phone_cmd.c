/* SPDX-License-Identifier: AGPL-3.0-or-later
 * phone_cmd.c — `tocsinctl phone INPUT [--region CC]`: how Tocsin reads a
 * number (E.164, type, region, place), through lib/phone. */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "phone.h"
#include "tocsinctl.h"

int tocsinctl_phone(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *region = NULL;
    const char *pos[1];
    const struct ctl_opt opts[] = {CTL_VALUE("--region", region), CTL_END};
    int go = ctl_begin(
        ctl, argc, argv,
        &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1, .pos_missing = "missing INPUT"});
    if (go != CTL_GO)
        return go;
    if (!region)
        region = ctl->cfg.default_region;
    if (strlen(region) != 2) {
        fprintf(stderr, "tocsinctl phone: invalid region \"%s\": must be two letters\n", region);
        return TOCSINCTL_USAGE;
    }
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
