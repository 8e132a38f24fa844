/* SPDX-License-Identifier: AGPL-3.0-or-later
 * contacts_import_row.c — the pure half of the CSV import: the header's
 * columns and one row's validation (phone through lib/phone, zip, name
 * lengths, UTF-8, timezone against the system tz database, custom fields
 * as a JSON object), the header read through a mapping (lib/
 * import_presets builds them), and the status values that mean "opted
 * out". No database here. */
#include "contacts_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <jansson.h>

#include "common.h"
#include "sms.h"

static const char *const known_names[IMPORT_COL_KNOWN] = {"phone", "first_name", "last_name", "zip",
                                                          "timezone"};

/* Trims ASCII spaces and tabs: returns the start, sets *len. */
static const char *trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    *len = n;
    return s;
}

static int printable_utf8(const char *s, size_t len)
{
    struct tocsin_sms_info utf8;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return tocsin_sms_count(s, len, &utf8) == 0;
}

static void columns_init(struct tocsin_import_columns *cols, size_t ncols)
{
    memset(cols, 0, sizeof *cols);
    for (int k = 0; k < IMPORT_COL_KNOWN; k++)
        cols->known[k] = -1;
    for (int k = 0; k < TOCSIN_IMPORT_MAX_PHONES; k++)
        cols->phones[k] = -1;
    cols->status = -1;
    cols->ncols = ncols;
}

int tocsin_import_header(const struct tocsin_csv_row *row, struct tocsin_import_columns *cols,
                         char *err, size_t errlen)
{
    return tocsin_import_header_phone(row, NULL, cols, err, errlen);
}

/* The phone column's name as the header's are kept: trimmed, lower case;
 * "" when it cannot be a header name. */
static void column_key(const char *name, char out[65])
{
    size_t len = strlen(name);
    name = trim(name, &len);
    if (len == 0 || len > 64) {
        out[0] = '\0';
        return;
    }
    for (size_t c = 0; c < len; c++)
        out[c] = (name[c] >= 'A' && name[c] <= 'Z') ? (char)(name[c] + 32) : name[c];
    out[len] = '\0';
}

int tocsin_import_header_phone(const struct tocsin_csv_row *row, const char *phone_column,
                               struct tocsin_import_columns *cols, char *err, size_t errlen)
{
    char phone_key[65];
    column_key(phone_column ? phone_column : "phone", phone_key);
    columns_init(cols, row->nfields);
    for (size_t i = 0; i < row->nfields; i++) {
        size_t len = row->lens[i];
        const char *name = trim(row->fields[i], &len);
        if (len == 0 || len > 64) {
            snprintf(err, errlen, "header column %zu: names must be 1 to 64 characters", i + 1);
            return -1;
        }
        if (!printable_utf8(name, len)) {
            /* They become JSON keys, shown back in the dashboard. */
            snprintf(err, errlen,
                     "header column %zu: names must be UTF-8 text without control characters",
                     i + 1);
            return -1;
        }
        for (size_t c = 0; c < len; c++) {
            char ch = name[c];
            cols->names[i][c] = (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : ch;
        }
        cols->names[i][len] = '\0';
        for (size_t j = 0; j < i; j++) {
            if (strcmp(cols->names[i], cols->names[j]) == 0) {
                snprintf(err, errlen, "header: column \"%s\" appears twice", cols->names[i]);
                return -1;
            }
        }
        for (int k = 0; k < IMPORT_COL_KNOWN; k++)
            if (strcmp(cols->names[i], k == IMPORT_COL_PHONE ? phone_key : known_names[k]) == 0)
                cols->known[k] = (int)i;
    }
    if (cols->known[IMPORT_COL_PHONE] < 0 && phone_column) {
        snprintf(err, errlen, "header: no column named \"%.64s\"", phone_column);
        return -1;
    }
    if (cols->known[IMPORT_COL_PHONE] < 0) {
        snprintf(err, errlen,
                 "header: no \"phone\" column (columns are phone, first_name, "
                 "last_name, zip, timezone and any of your own)");
        return -1;
    }
    return 0;
}

int tocsin_import_header_mapped(const struct tocsin_csv_row *row,
                                const struct tocsin_import_mapping *mapping,
                                struct tocsin_import_columns *cols, char *err, size_t errlen)
{
    if (mapping->ncols != row->nfields) {
        snprintf(err, errlen, "header: the file has %zu columns but the mapping names %zu",
                 row->nfields, mapping->ncols);
        return -1;
    }
    columns_init(cols, row->nfields);
    for (size_t i = 0; i < row->nfields; i++) {
        char key[65];
        column_key(mapping->target[i], key);
        if (!key[0]) {
            cols->dropped[i] = 1;
            continue;
        }
        if (!printable_utf8(key, strlen(key))) {
            snprintf(err, errlen,
                     "column %zu: a field name must be UTF-8 text without control"
                     " characters",
                     i + 1);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (!cols->dropped[j] && strcmp(cols->names[j], key) == 0) {
                snprintf(err, errlen, "columns %zu and %zu both go to \"%s\"", j + 1, i + 1, key);
                return -1;
            }
        }
        memcpy(cols->names[i], key, sizeof key);
        int *slot = NULL;
        for (int k = 0; k < IMPORT_COL_KNOWN; k++)
            if (strcmp(key, known_names[k]) == 0)
                slot = &cols->known[k];
        if (strcmp(key, "sms_status") == 0)
            slot = &cols->status;
        if (strncmp(key, "phone", 5) == 0 && key[5] >= '2' &&
            key[5] < '2' + TOCSIN_IMPORT_MAX_PHONES - 1 && key[6] == '\0')
            slot = &cols->phones[key[5] - '2'];
        if (slot)
            *slot = (int)i;
    }
    if (cols->known[IMPORT_COL_PHONE] < 0) {
        snprintf(err, errlen, "no column goes to \"phone\": pick the column of the numbers");
        return -1;
    }
    return 0;
}

int tocsin_import_opted_out_value(const char *v, size_t len)
{
    static const char *const words[] = {
        "unsubscribed", "opted out", "opted_out", "optedout", "opt out", "opt_out", "opt-out",
        "true",         "yes",       "y",         "1",        "stop",    "stopped", "unsubscribe"};
    v = trim(v, &len);
    for (size_t w = 0; w < ARRAY_SIZE(words); w++)
        if (strlen(words[w]) == len && strncasecmp(v, words[w], len) == 0)
            return 1;
    return 0;
}

/* 1 when column i is not a custom field: a known one, a fallback phone,
 * the status, or dropped. */
static int is_known(const struct tocsin_import_columns *cols, size_t i)
{
    if (cols->dropped[i] || cols->status == (int)i)
        return 1;
    for (int k = 0; k < IMPORT_COL_KNOWN; k++)
        if (cols->known[k] == (int)i)
            return 1;
    for (int k = 0; k < TOCSIN_IMPORT_MAX_PHONES; k++)
        if (cols->phones[k] == (int)i)
            return 1;
    return 0;
}

/* A field trimmed into a view; "" when the column is absent. */
static const char *field(const struct tocsin_csv_row *row, int col, size_t *len)
{
    if (col < 0) {
        *len = 0;
        return "";
    }
    *len = row->lens[col];
    return trim(row->fields[col], len);
}

static int parse_zip(const char *z, size_t len, char out[6])
{
    out[0] = '\0';
    if (len == 0)
        return 0;
    if (len != 5 && len != 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (i == 5 && len == 10) {
            if (z[i] != '-')
                return -1;
            continue;
        }
        if (z[i] < '0' || z[i] > '9')
            return -1;
    }
    memcpy(out, z, 5); /* ZIP+4 keeps the five-digit ZIP */
    out[5] = '\0';
    return 0;
}

/* An IANA zone name ("America/Chicago", "UTC"): letters, digits, _ + -
 * in up to three parts, and a file of that name in the tz database
 * (TZDIR, else /usr/share/zoneinfo: the one PostgreSQL reads on Debian),
 * so the quiet-hours check can never meet a zone it does not know. */
static int valid_timezone(const char *z, size_t len)
{
    if (len == 0 || len > 64 || z[0] == '/' || z[len - 1] == '/')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = z[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '+' || c == '-' || c == '/'))
            return 0;
        if (c == '/' && z[i + 1] == '/')
            return 0;
    }
    const char *dir = getenv("TZDIR");
    char path[512];
    snprintf(path, sizeof path, "%s/%.*s", dir && *dir ? dir : "/usr/share/zoneinfo", (int)len, z);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode); /* "America" is a folder */
}

/* The row's phone field checked and normalised into e164. */
static int row_phone(const struct tocsin_import_columns *cols, const struct tocsin_csv_row *row,
                     const char *region, char e164[TOCSIN_E164_MAX + 1], char *reason,
                     size_t reasonlen)
{
    size_t len;
    const char *phone = field(row, cols->known[IMPORT_COL_PHONE], &len);
    /* An export with several numbers (VAN's cell, preferred, home): the
     * first one the row has, in the mapping's order. */
    for (int k = 0; len == 0 && k < TOCSIN_IMPORT_MAX_PHONES; k++)
        phone = field(row, cols->phones[k], &len);
    if (len == 0) {
        snprintf(reason, reasonlen, "missing phone");
        return -1;
    }
    return tocsin_phone_normalize(phone, len, region, e164, reason, reasonlen);
}

int tocsin_import_row_phone(const struct tocsin_import_columns *cols,
                            const struct tocsin_csv_row *row, const char *region,
                            char e164[TOCSIN_E164_MAX + 1], char *reason, size_t reasonlen)
{
    e164[0] = '\0';
    if (row->nfields != cols->ncols) {
        snprintf(reason, reasonlen, "expected %zu columns, found %zu", cols->ncols, row->nfields);
        return -1;
    }
    struct tocsin_sms_info utf8;
    for (int k = -1; k < TOCSIN_IMPORT_MAX_PHONES; k++) {
        int col = k < 0 ? cols->known[IMPORT_COL_PHONE] : cols->phones[k];
        if (col >= 0 && tocsin_sms_count(row->fields[col], row->lens[col], &utf8) != 0) {
            snprintf(reason, reasonlen, "column \"%s\" is not valid UTF-8", cols->names[col]);
            return -1;
        }
    }
    return row_phone(cols, row, region, e164, reason, reasonlen);
}

int tocsin_import_row(const struct tocsin_import_columns *cols, const struct tocsin_csv_row *row,
                      const char *region, struct tocsin_import_contact *out, char *reason,
                      size_t reasonlen)
{
    memset(out, 0, sizeof *out);
    if (row->nfields != cols->ncols) {
        snprintf(reason, reasonlen, "expected %zu columns, found %zu", cols->ncols, row->nfields);
        return -1;
    }
    struct tocsin_sms_info utf8;
    for (size_t i = 0; i < row->nfields; i++) {
        if (tocsin_sms_count(row->fields[i], row->lens[i], &utf8) != 0) {
            snprintf(reason, reasonlen, "column \"%s\" is not valid UTF-8", cols->names[i]);
            return -1;
        }
    }
    size_t len;
    if (row_phone(cols, row, region, out->phone, reason, reasonlen))
        return -1;
    if (cols->status >= 0) {
        const char *st = field(row, cols->status, &len);
        out->opt_out = tocsin_import_opted_out_value(st, len);
    }
    if (out->opt_out) {
        /* The member left: the number is all that is kept, and a bad zip
         * or name elsewhere in the row must not lose the opt-out. */
        out->fields_json = strdup("{}");
        if (!out->fields_json) {
            snprintf(reason, reasonlen, "out of memory");
            return -1;
        }
        return 0;
    }
    const char *zip = field(row, cols->known[IMPORT_COL_ZIP], &len);
    if (parse_zip(zip, len, out->zip)) {
        snprintf(reason, reasonlen, "invalid zip \"%.20s\": must be 5 digits or ZIP+4", zip);
        return -1;
    }
    const char *tz = field(row, cols->known[IMPORT_COL_TZ], &len);
    if (len && !valid_timezone(tz, len)) {
        snprintf(reason, reasonlen,
                 "invalid timezone \"%.*s\": not an IANA zone such as America/Chicago",
                 (int)(len > 64 ? 64 : len), tz);
        return -1;
    }
    memcpy(out->timezone, tz, len);
    out->timezone[len] = '\0';
    static const int name_cols[] = {IMPORT_COL_FIRST, IMPORT_COL_LAST};
    for (int n = 0; n < 2; n++) {
        const char *v = field(row, cols->known[name_cols[n]], &len);
        if (len > 100) {
            snprintf(reason, reasonlen, "%s is longer than 100 characters",
                     known_names[name_cols[n]]);
            return -1;
        }
        if (len) {
            char *copy = (char *)v; /* trim in place: the row buffer is ours until the next read */
            copy[len] = '\0';
        }
        if (n == 0)
            out->first_name = len ? v : NULL;
        else
            out->last_name = len ? v : NULL;
    }
    json_t *fields = json_object();
    for (size_t i = 0; fields && i < row->nfields; i++) {
        if (is_known(cols, i))
            continue;
        const char *v = field(row, (int)i, &len);
        if (len)
            json_object_set_new(fields, cols->names[i], json_stringn(v, len));
    }
    out->fields_json = fields ? json_dumps(fields, JSON_COMPACT) : NULL;
    json_decref(fields);
    if (!out->fields_json) {
        snprintf(reason, reasonlen, "out of memory");
        return -1;
    }
    return 0;
}
