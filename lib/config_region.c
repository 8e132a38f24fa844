/* SPDX-License-Identifier: AGPL-3.0-or-later
 * config_region.c — whether TOCSIN_DEFAULT_REGION names a country, for the
 * processes that read numbers people typed. Apart from config.c so that
 * a binary which never calls it (the worker) links neither the phone
 * shim nor libphonenumber's metadata. */
#include <stdio.h>

#include "config.h"
#include "phone.h"

int tocsin_config_check_region(const struct tocsin_config *cfg, char *err, size_t errlen)
{
    if (tocsin_phone_region_known(cfg->default_region))
        return 0;
    snprintf(err, errlen,
             "invalid TOCSIN_DEFAULT_REGION \"%s\": no country has this code (US, MX, GB)",
             cfg->default_region);
    return -1;
}
