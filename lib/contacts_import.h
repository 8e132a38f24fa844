/* SPDX-License-Identifier: AGPL-3.0-or-later
 * contacts_import.h — importing contacts from CSV, shared by `tocsinctl
 * contacts import` and the dashboard's upload. Columns: phone (required),
 * first_name, last_name, zip, timezone (an IANA zone such as
 * America/Chicago, for quiet hours), and any others into the contact's fields.
 * Or a mapping (lib/import_presets: an export's columns renamed, some
 * dropped, several phone columns in order of preference, a subscription
 * status whose "unsubscribed" makes the row an opt-out).
 * Rows are validated one by one (bad rows are reported with their line and
 * reason); valid rows go into PostgreSQL in one transaction through COPY
 * and one set-based upsert, so the import is all or nothing. Blocking
 * (libpq): the dashboard runs it on libuv's thread pool. */
#ifndef TOCSIN_CONTACTS_IMPORT_H
#define TOCSIN_CONTACTS_IMPORT_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "csv.h"
#include "phone.h"

#define TOCSIN_IMPORT_MAX_REJECTIONS 1000

struct tocsin_import_rejection {
    unsigned long line;
    char reason[200];
};

struct tocsin_import_report {
    long rows;              /* data rows read (header excluded) */
    long imported;          /* new contacts */
    long updated;           /* existing contacts updated */
    long rejected;          /* rows not imported (exact count) */
    long kept_opted_out;    /* imported rows whose number stays opted out */
    long subscribed;        /* added to the list */
    long targeted;          /* added as targets of the outreach campaign (new to it) */
    long opted_out;         /* an opt-out list: numbers opted out by this import */
    long already_opted_out; /* an opt-out list: numbers that were opted out before */
    long duplicates;        /* an opt-out list: rows repeating a number of an earlier row */
    long long batch_id;
    char region[3]; /* the region numbers without +country were read in ("MX") */
    /* Where the time went (wall clock): reading, validating and COPYing the
     * file; the contacts upsert; the list's subscriptions and consent. */
    double seconds_read, seconds_upsert, seconds_subscribe;
    struct tocsin_import_rejection *rejections; /* the first MAX, in line order */
    size_t nrejections;
    /* Set when the import failed because the database refused or failed:
     * err then holds the database's own words (table and constraint names,
     * a DETAIL with a whole row), fit for an operator's terminal or a log,
     * not for a browser. sqlstate: the server's code for it ("" if none). */
    int db_error;
    char sqlstate[6];
};

struct tocsin_import_options {
    long long org_id;
    const char *filename;  /* recorded on the import batch */
    const char *list_name; /* subscribe to this list (created if missing), or NULL */
    /* Or add the contacts as pending targets of this outreach campaign
     * (outreach_campaigns.id of the org; 0: none) instead: they are then
     * subscribed to nothing and never in a blast. Not with list_name. */
    long long outreach_campaign_id;
    /* Or the file is an opt-out list (a Spoke or vendor export): only the
     * column phone_column is read (any header name; NULL: "phone"), each
     * valid number is opted out for the org (opt_outs and consent_events,
     * source 'import', evidence "import:<batch>"; its subscriptions end and
     * its queued messages are cancelled, as a STOP does), a number already
     * opted out keeps its first opt-out, and no contact is created or
     * changed. A repeated number is counted in duplicates, not rejected.
     * Not with list_name or outreach_campaign_id. */
    int opt_outs;
    const char *phone_column;
    /* The region for numbers written without +country ("mx" or "MX"; NULL:
     * US). Every caller passes the org's phone_region, else
     * TOCSIN_DEFAULT_REGION, or the operator's --region. One libphonenumber
     * does not know refuses the import: it would refuse every national
     * number. */
    const char *region;
    long long created_by;                   /* users.id, or 0 from the CLI */
    int strict;                             /* any rejected row aborts the whole import */
    int dry_run;                            /* validate and count, then roll back */
    void (*progress)(long rows, void *ctx); /* every progress_every rows, or NULL */
    void *progress_ctx;
    long progress_every; /* 0: 100,000 */
    /* The header's columns renamed (lib/import_presets), or NULL: the
     * names as they are. With opt_outs, only its phone columns count. */
    const struct tocsin_import_mapping *mapping;
    /* Runs inside the import's transaction just before COMMIT (not on a
     * dry run); returns 0, or -1 with the reason in err: then nothing is
     * written. The dashboard marks its upload imported here, so the import
     * and its upload's state commit together. NULL: none. */
    int (*before_commit)(PGconn *conn, const struct tocsin_import_report *rep, void *ctx, char *err,
                         size_t errlen);
    void *before_commit_ctx;
};

/* --- the pure part, testable without a database --- */

/* What each column of a file is for, by position: "" drops the column;
 * "phone", "phone2".."phone4" are the numbers' columns in order of
 * preference (a row's first non-empty one is its number); "first_name",
 * "last_name", "zip", "timezone" the contact's own; "sms_status" a
 * subscription status (tocsin_import_opted_out_value() says which values
 * make the row an opt-out); any other name a custom field of that name. */
#define TOCSIN_IMPORT_MAX_PHONES 4
struct tocsin_import_mapping {
    size_t ncols;
    char target[TOCSIN_CSV_MAX_COLS][65];
};

/* 1 when a subscription status value (trimmed, any case) says the
 * member left: "unsubscribed", "opted out", "true", "yes", "stop"... */
int tocsin_import_opted_out_value(const char *v, size_t len);

enum {
    IMPORT_COL_PHONE,
    IMPORT_COL_FIRST,
    IMPORT_COL_LAST,
    IMPORT_COL_ZIP,
    IMPORT_COL_TZ,
    IMPORT_COL_KNOWN
};

struct tocsin_import_columns {
    int known[IMPORT_COL_KNOWN]; /* column index of phone, first_name... or -1 */
    size_t ncols;
    char names[TOCSIN_CSV_MAX_COLS][65];  /* lower-cased, trimmed header names (or targets) */
    int phones[TOCSIN_IMPORT_MAX_PHONES]; /* fallback phone columns after known[PHONE], or -1 */
    int status;                           /* the sms_status column, or -1 */
    unsigned char dropped[TOCSIN_CSV_MAX_COLS]; /* mapped to "": not read */
};

struct tocsin_import_contact {
    char phone[TOCSIN_E164_MAX + 1];
    const char *first_name, *last_name; /* NULL when empty */
    char zip[6];                        /* "" when absent */
    char timezone[65];                  /* IANA zone, "" when absent */
    char *fields_json;                  /* malloc'd JSON object of the other columns */
    int opt_out;                        /* its sms_status says it left: an opt-out, not a contact */
};

/* Reads the header row. Returns 0, or -1 with the reason in err. */
int tocsin_import_header(const struct tocsin_csv_row *row, struct tocsin_import_columns *cols,
                         char *err, size_t errlen);

/* The same with the phone numbers in the column named phone_column
 * (compared as the header is: trimmed, case-insensitive); a column named
 * "phone" is then an ordinary one. */
int tocsin_import_header_phone(const struct tocsin_csv_row *row, const char *phone_column,
                               struct tocsin_import_columns *cols, char *err, size_t errlen);

/* The header read through a mapping (its ncols must be the header's):
 * the columns get the mapping's targets as their names. Returns 0, or -1
 * with the reason in err. */
int tocsin_import_header_mapped(const struct tocsin_csv_row *row,
                                const struct tocsin_import_mapping *mapping,
                                struct tocsin_import_columns *cols, char *err, size_t errlen);

/* Validates only the phone column of one data row (an opt-out list):
 * the row's column count, the field's UTF-8, the number through
 * lib/phone into e164. Returns 0, or -1 with the reason in reason. */
int tocsin_import_row_phone(const struct tocsin_import_columns *cols,
                            const struct tocsin_csv_row *row, const char *region,
                            char e164[TOCSIN_E164_MAX + 1], char *reason, size_t reasonlen);

/* Validates one data row into out (out->fields_json to be freed by the
 * caller). Returns 0, or -1 with the reason in reason. */
int tocsin_import_row(const struct tocsin_import_columns *cols, const struct tocsin_csv_row *row,
                      const char *region, struct tocsin_import_contact *out, char *reason,
                      size_t reasonlen);

/* --- the whole import --- */

/* Imports the CSV read from in (the caller keeps and closes it) for
 * opts->org_id, on conn (blocking; conn must be idle and not inside a
 * transaction; the import runs in its own). Returns 0 when the import
 * committed (rejected rows may still be reported; with dry_run nothing is
 * written but the counts are real), -1 when nothing was written (unreadable
 * input, a bad header or region, a database error, strict with a rejected
 * row) with the reason in err. The report is filled either way; free it
 * with tocsin_import_report_free(). */
int tocsin_contacts_import(PGconn *conn, FILE *in, const struct tocsin_import_options *opts,
                           struct tocsin_import_report *report, char *err, size_t errlen);

/* The same over any CSV reader (the dashboard's upload in memory:
 * tocsin_csv_init_mem()); the caller initialises and frees csv. */
int tocsin_contacts_import_csv(PGconn *conn, struct tocsin_csv *csv,
                               const struct tocsin_import_options *opts,
                               struct tocsin_import_report *report, char *err, size_t errlen);

/* Frees the report's rejection list (the struct itself is the caller's). */
void tocsin_import_report_free(struct tocsin_import_report *report);

#endif
