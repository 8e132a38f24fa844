/* SPDX-License-Identifier: AGPL-3.0-or-later
 * import_presets.h — the exports people bring when they move in (Spoke's
 * campaign contacts and opt-outs, Action Network's people, VAN's export
 * with phone columns), each one row of a table: which header names go to
 * which of the import's targets. Detects the preset from a file's header
 * and turns it into a mapping for lib/contacts_import (the one import
 * engine). Header names are compared case-, space-, underscore- and
 * hyphen-insensitively ("First Name" = "first_name" = "firstName"). Pure:
 * no database, no allocation. */
#ifndef TOCSIN_IMPORT_PRESETS_H
#define TOCSIN_IMPORT_PRESETS_H

#include <stddef.h>

#include "contacts_import.h"
#include "csv.h"

/* One rule: the header names (normalised, '|'-separated, in order of
 * preference: the first one the file has wins) that go to target. */
struct tocsin_import_rule {
    const char *target; /* as in struct tocsin_import_mapping; "" = drop */
    const char *names;
};

#define TOCSIN_IMPORT_PRESET_RULES 12

struct tocsin_import_preset {
    const char *id;    /* "spoke_contacts" */
    const char *label; /* "Spoke campaign contacts" */
    int opt_outs;      /* the file is an opt-out list */
    /* Names of which at least one must be in the header for the preset
     * to be detected ('|'-separated, normalised); NULL: the fallback. */
    const char *signature;
    struct tocsin_import_rule rules[TOCSIN_IMPORT_PRESET_RULES]; /* ends at target NULL */
};

/* The table: count and the preset at i (in the order the dashboard lists
 * them; the last is the plain fallback, "plain"). */
size_t tocsin_import_presets_count(void);
const struct tocsin_import_preset *tocsin_import_preset_at(size_t i);

/* The preset of that id, or NULL. */
const struct tocsin_import_preset *tocsin_import_preset_find(const char *id);

/* A header name normalised into out: trimmed, lower case, without spaces,
 * underscores and hyphens; "" when empty or longer than 64 bytes. */
void tocsin_import_header_key(const char *name, size_t len, char out[65]);

/* The preset whose signature the header carries and whose rules match
 * the most of its columns (the first in the table on a tie); the plain
 * fallback when none does. Never NULL. */
const struct tocsin_import_preset *tocsin_import_preset_detect(const struct tocsin_csv_row *header);

/* Fills out with the preset's targets for this header's columns. A column
 * no rule names becomes a custom field of its own name (lower case,
 * trimmed; Spoke's "contact[ward]" becomes "ward"); with an opt-out
 * preset it is dropped. Returns the number of columns a rule matched. */
int tocsin_import_preset_map(const struct tocsin_import_preset *p,
                             const struct tocsin_csv_row *header,
                             struct tocsin_import_mapping *out);

/* Checks one target an admin chose for a column (the dashboard's
 * override): "" or a known target or a custom field name of 1 to 64
 * printable characters. Returns 0, or -1 with the reason in err. */
int tocsin_import_target_check(const char *target, char *err, size_t errlen);

#endif
