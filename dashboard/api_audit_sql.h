/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_audit_sql.h — the single statements of the audit screen's routes
 * and of the two-person rule: each calls one function of
 * schema/functions/audit.sql or blast_approval.sql, scoped by $1 org and
 * $2 user; $4.. are the path parameter then body fields (api_routes.c). */
#ifndef DASHBOARD_API_AUDIT_SQL_H
#define DASHBOARD_API_AUDIT_SQL_H

#define SQL_ALERTS "SELECT * FROM tocsin_audit_alerts_list($1::bigint)"

#define SQL_ALERT_ACK "SELECT * FROM tocsin_audit_alert_ack($1::bigint, $2::bigint, $4::bigint)"

#define SQL_PROTECTION "SELECT * FROM tocsin_protection_settings($1::bigint)"

#define SQL_PROTECTION_SAVE                                                                        \
    "SELECT * FROM tocsin_protection_settings_save($1::bigint, $2::bigint, $4, $5, $6)"

#define SQL_BLAST_APPROVE                                                                          \
    "SELECT * FROM tocsin_lead_blast_approve($1::bigint, $2::bigint, $4::bigint, $5)"

#endif
