/* SPDX-License-Identifier: AGPL-3.0-or-later
 * import_presets.c — the presets table (one row per export people have),
 * detection from a header, and a preset turned into a column mapping for
 * lib/contacts_import. Header names in the table are written normalised
 * (tocsin_import_header_key): lower case, no spaces, "_" or "-". What a
 * row of the file then means is the import engine's business. */
#include "import_presets.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "sms.h"

/* Spoke's exports name a contact's columns contact[firstName] and its
 * uploads firstName; both are listed. Action Network's people export
 * uses can2_* for its own columns; VAN's export has one column per phone
 * type, and a cell phone is the one to text. */
static const struct tocsin_import_preset presets[] = {
    {"spoke_contacts",
     "Spoke campaign contacts",
     0,
     "contact[cell]|contact[firstname]|externalid|contact[externalid]|contact[messagestatus]",
     {{"phone", "cell|contact[cell]"},
      {"first_name", "firstname|contact[firstname]"},
      {"last_name", "lastname|contact[lastname]"},
      {"zip", "zip|contact[zip]"},
      {"sms_status", "contact[optout]|optout|isoptedout"},
      {"external_id", "externalid|contact[externalid]"},
      {"", "campaignid|campaign|assignmentid|texter[firstname]|texter[lastname]|texter[email]|"
           "texter[alias]|texter[cell]|texter[assignedcell]|contact[messagestatus]|"
           "messagestatus|contact[errorcode]|errorcode"},
      {NULL, NULL}}},
    {"spoke_opt_outs",
     "Spoke opt-outs",
     1,
     "createdat|reason|reasoncode|optedoutat",
     {{"phone", "cell|number|phone|phonenumber"}, {NULL, NULL}}},
    {"action_network",
     "Action Network people",
     0,
     "can2phone|can2smsstatus|can2usertags|can2subscriptionstatus|zipcode|smsstatus|"
     "smssubscriptionstatus",
     {{"phone", "can2phone|phonenumber|phone|mobilephone|mobilenumber"},
      {"first_name", "firstname|givenname"},
      {"last_name", "lastname|familyname"},
      {"zip", "zipcode|zip|postalcode"},
      {"sms_status", "can2smsstatus|smsstatus|smssubscriptionstatus|smssubscription|mobilestatus"},
      {"email", "email|emailaddress"},
      {"tags", "tags|can2usertags|can2tags"},
      {NULL, NULL}}},
    {"van",
     "VAN / EveryAction export",
     0,
     "vanid|voterfilevanid|myvoters|myc",
     {{"phone", "cellphone|cell|mobilephone|mobile"},
      {"phone2", "preferredphone"},
      {"phone3", "homephone|phone"},
      {"phone4", "workphone|otherphone"},
      {"first_name", "firstname|first"},
      {"last_name", "lastname|last"},
      {"zip", "zip5|zip|zipcode|ziporpostal|postalcode"},
      {"sms_status", "smsoptinstatus|smsoptin|smsstatus"},
      {"vanid", "vanid|voterfilevanid"},
      {"email", "email|preferredemail|personalemail"},
      {NULL, NULL}}},
    {"plain",
     "Plain CSV (phone, first_name, last_name, zip, timezone)",
     0,
     NULL,
     {{"phone", "phone|phonenumber|cell|cellphone|mobile|mobilephone|number"},
      {"first_name", "firstname"},
      {"last_name", "lastname"},
      {"zip", "zip|zipcode|postalcode"},
      {"timezone", "timezone|tz"},
      {"sms_status", "smsstatus|optout|optedout"},
      {NULL, NULL}}},
};

size_t tocsin_import_presets_count(void)
{
    return ARRAY_SIZE(presets);
}

const struct tocsin_import_preset *tocsin_import_preset_at(size_t i)
{
    return i < ARRAY_SIZE(presets) ? &presets[i] : NULL;
}

const struct tocsin_import_preset *tocsin_import_preset_find(const char *id)
{
    for (size_t i = 0; id && i < ARRAY_SIZE(presets); i++)
        if (strcmp(presets[i].id, id) == 0)
            return &presets[i];
    return NULL;
}

void tocsin_import_header_key(const char *name, size_t len, char out[65])
{
    size_t w = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c == ' ' || c == '\t' || c == '_' || c == '-')
            continue;
        if (w == 64) {
            out[0] = '\0';
            return;
        }
        out[w++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    out[w] = '\0';
}

/* The position of key in the '|'-separated list (0-based), or -1. */
static int list_index(const char *list, const char *key)
{
    size_t klen = strlen(key);
    int idx = 0;
    for (const char *p = list; klen && *p; idx++) {
        const char *end = strchr(p, '|');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == klen && memcmp(p, key, n) == 0)
            return idx;
        if (!end)
            break;
        p = end + 1;
    }
    return -1;
}

static void header_keys(const struct tocsin_csv_row *h, char keys[][65])
{
    for (size_t i = 0; i < h->nfields; i++)
        tocsin_import_header_key(h->fields[i], h->lens[i], keys[i]);
}

/* For each rule, the column it takes (the one whose name comes first in
 * the rule's list); rule_of[col] = rule index or -1. Returns the number
 * of columns taken. */
static int assign(const struct tocsin_import_preset *p, const struct tocsin_csv_row *h,
                  char keys[][65], int rule_of[])
{
    int taken = 0;
    for (size_t i = 0; i < h->nfields; i++)
        rule_of[i] = -1;
    for (int r = 0; r < TOCSIN_IMPORT_PRESET_RULES && p->rules[r].target; r++) {
        int best = -1, best_rank = 0;
        for (size_t i = 0; i < h->nfields; i++) {
            if (rule_of[i] >= 0)
                continue;
            int rank = list_index(p->rules[r].names, keys[i]);
            /* A drop rule takes every column it names. */
            if (rank >= 0 && !p->rules[r].target[0]) {
                rule_of[i] = r;
                taken++;
            } else if (rank >= 0 && (best < 0 || rank < best_rank)) {
                best = (int)i;
                best_rank = rank;
            }
        }
        if (best >= 0) {
            rule_of[best] = r;
            taken++;
        }
    }
    return taken;
}

const struct tocsin_import_preset *tocsin_import_preset_detect(const struct tocsin_csv_row *header)
{
    char keys[TOCSIN_CSV_MAX_COLS][65];
    int rule_of[TOCSIN_CSV_MAX_COLS];
    header_keys(header, keys);
    const struct tocsin_import_preset *best = &presets[ARRAY_SIZE(presets) - 1];
    int best_score = 0;
    for (size_t k = 0; k < ARRAY_SIZE(presets); k++) {
        const struct tocsin_import_preset *p = &presets[k];
        if (!p->signature)
            continue;
        int signed_by = 0;
        for (size_t i = 0; i < header->nfields && !signed_by; i++)
            signed_by = list_index(p->signature, keys[i]) >= 0;
        if (!signed_by)
            continue;
        int score = assign(p, header, keys, rule_of);
        int has_phone = 0;
        for (size_t i = 0; i < header->nfields; i++)
            has_phone |= rule_of[i] >= 0 && strcmp(p->rules[rule_of[i]].target, "phone") == 0;
        if (has_phone && score > best_score) {
            best = p;
            best_score = score;
        }
    }
    return best;
}

/* A column no rule names: its own name as a custom field, trimmed and
 * lower-cased, contact[x] unwrapped. */
static void own_name(const char *name, size_t len, char out[65])
{
    while (len && (*name == ' ' || *name == '\t'))
        name++, len--;
    while (len && (name[len - 1] == ' ' || name[len - 1] == '\t'))
        len--;
    if (len > 9 && strncasecmp(name, "contact[", 8) == 0 && name[len - 1] == ']') {
        name += 8;
        len -= 9;
    }
    if (len > 64)
        len = 0; /* the import refuses it; dropped here, the admin may rename it */
    for (size_t i = 0; i < len; i++)
        out[i] = (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    out[len] = '\0';
}

int tocsin_import_preset_map(const struct tocsin_import_preset *p,
                             const struct tocsin_csv_row *header, struct tocsin_import_mapping *out)
{
    char keys[TOCSIN_CSV_MAX_COLS][65];
    int rule_of[TOCSIN_CSV_MAX_COLS];
    header_keys(header, keys);
    int taken = assign(p, header, keys, rule_of);
    memset(out, 0, sizeof *out);
    out->ncols = header->nfields;
    for (size_t i = 0; i < header->nfields; i++) {
        if (rule_of[i] >= 0)
            snprintf(out->target[i], sizeof out->target[i], "%s", p->rules[rule_of[i]].target);
        else if (!p->opt_outs)
            own_name(header->fields[i], header->lens[i], out->target[i]);
    }
    /* Two columns may not land on one name ("Zip" taken as zip, "zip"
     * unmatched): the second is dropped, and the preview shows it. */
    for (size_t i = 0; i < header->nfields; i++)
        for (size_t j = 0; out->target[i][0] && j < i; j++)
            if (strcmp(out->target[i], out->target[j]) == 0)
                out->target[i][0] = '\0';
    return taken;
}

int tocsin_import_target_check(const char *target, char *err, size_t errlen)
{
    size_t len = strlen(target);
    struct tocsin_sms_info info;
    if (len > 64) {
        snprintf(err, errlen, "a field name must be at most 64 characters");
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)target[i] < 0x20 || target[i] == 0x7f) {
            snprintf(err, errlen, "a field name must not hold control characters");
            return -1;
        }
    }
    if (tocsin_sms_count(target, len, &info) != 0) {
        snprintf(err, errlen, "a field name must be UTF-8 text");
        return -1;
    }
    if (len && (target[0] == ' ' || target[len - 1] == ' ')) {
        snprintf(err, errlen, "a field name must not start or end with a space");
        return -1;
    }
    return 0;
}
