/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_leads_sql.h — the statements behind a campaign lead's routes
 * (audiences, senders, keywords, blasts, stats). Each calls a function of
 * schema/functions/leads.sql that returns one row (status, json) scoped by $1
 * org; the blast actions go through 006's functions, which write the
 * audit events. $4.. are path parameters, then the route's body fields. */
#ifndef DASHBOARD_API_LEADS_SQL_H
#define DASHBOARD_API_LEADS_SQL_H

#define SQL_LISTS "SELECT * FROM tocsin_lead_lists($1::bigint)"
#define SQL_SENDERS "SELECT * FROM tocsin_lead_senders($1::bigint)"
#define SQL_KEYWORDS "SELECT * FROM tocsin_lead_keywords($1::bigint)"
#define SQL_BLASTS "SELECT * FROM tocsin_lead_blasts($1::bigint)"
#define SQL_BLAST "SELECT * FROM tocsin_lead_blast($1::bigint, $4::bigint)"

/* Body fields sender_id, list_id, filter_field, filter_equals, body. */
#define SQL_BLAST_PREVIEW                                                                          \
    "SELECT * FROM tocsin_lead_blast_preview($1::bigint, $4::text, $5::text, $6::text, $7::text, $8::text)"
#define SQL_BLAST_CREATE                                                                           \
    "SELECT * FROM tocsin_lead_blast_create($1::bigint, $2::bigint, $4::text, $5::text, $6::text," \
    " $7::text, $8::text)"

/* schedule takes the body field "at" (ISO time; absent: now). */
#define SQL_BLAST_ACTION(action, at)                                                               \
    "SELECT * FROM tocsin_lead_blast_action($1::bigint, $2::bigint, $4::bigint, '" action "', " at \
    ")"
#define SQL_BLAST_SCHEDULE SQL_BLAST_ACTION("schedule", "$5::text")
#define SQL_BLAST_PAUSE SQL_BLAST_ACTION("pause", "NULL")
#define SQL_BLAST_RESUME SQL_BLAST_ACTION("resume", "NULL")
#define SQL_BLAST_CANCEL SQL_BLAST_ACTION("cancel", "NULL")

#endif
