/* SPDX-License-Identifier: AGPL-3.0-or-later
 * contacts_import.c — placeholder until the import lands in this commit series. */
#include <stdio.h>

#include "tocsinctl.h"

int tocsinctl_contacts_import(struct tocsinctl *ctl, int argc, char **argv)
{
    (void)ctl;
    (void)argc;
    (void)argv;
    fprintf(stderr, "tocsinctl contacts import: not built yet\n");
    return TOCSINCTL_FAIL;
}
