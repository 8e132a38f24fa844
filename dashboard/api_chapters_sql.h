/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_chapters_sql.h — a national admin's chapter statements: the list
 * (with each chapter's phone region and the deployment's default),
 * and a chapter created (api_chapter_create checks its phone region). Scoped by $1 the caller's org
 * (404 unless it is a national one) and $2 the admin; the rules are
 * schema/functions/chapters.sql, the handlers api_chapters.c. */
#ifndef DASHBOARD_API_CHAPTERS_SQL_H
#define DASHBOARD_API_CHAPTERS_SQL_H

/* $4: the deployment's phone region (TOCSIN_DEFAULT_REGION), which a
 * chapter without its own (phone_region null) reads numbers in. */
#define SQL_CHAPTERS                                                                               \
    "SELECT status, CASE WHEN status = 200"                                                        \
    "  THEN (body::jsonb || jsonb_build_object('default_phone_region', $4::text))::json"           \
    "  ELSE body END FROM tocsin_chapters($1::bigint)"

/* $6: the chapter's phone region (NULL: the deployment's), checked by
 * api_chapter_create against libphonenumber's regions first. */
#define SQL_CHAPTER_CREATE                                                                         \
    "SELECT status, body FROM tocsin_chapter_create($1::bigint, $2::bigint, $4::text, $5::text,"   \
    " $6::text)"

#endif
