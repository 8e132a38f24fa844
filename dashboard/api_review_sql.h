/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_review_sql.h — the statements behind a lead's Message review
 * (api_review.c, schema/functions/review.sql). Each returns one row
 * (status, json) scoped by $1 org, or none (404); the functions validate,
 * lock, audit and NOTIFY. $4.. are path parameters, then the route's body
 * fields, then what the handler adds. */
#ifndef DASHBOARD_API_REVIEW_SQL_H
#define DASHBOARD_API_REVIEW_SQL_H

/* $4: the filters as one JSON object of text values (api_review_list). */
#define SQL_REVIEW_LIST "SELECT * FROM tocsin_review_list($1::bigint, $4::jsonb)"

/* $4 the body's user_id, $5 the ids as a bigint[] literal. */
#define SQL_REVIEW_REASSIGN                                                                        \
    "SELECT * FROM tocsin_review_reassign($1::bigint, $2::bigint, $5::bigint[], $4::text)"

/* $4 the ids. */
#define SQL_REVIEW_CLOSE "SELECT * FROM tocsin_review_close($1::bigint, $2::bigint, $4::bigint[])"

/* $4 the conversation, $5 step_id, $6 choice_id (empty or absent: clear). */
#define SQL_REVIEW_ANSWER                                                                          \
    "SELECT * FROM tocsin_review_answer($1::bigint, $2::bigint, $4::bigint, $5::text, $6::text)"

#endif
