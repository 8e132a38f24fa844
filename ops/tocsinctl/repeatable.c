/* SPDX-License-Identifier: AGPL-3.0-or-later
 * repeatable.c — the repeatable schema files (schema/functions/) for
 * `tocsinctl migrate`: applies one inside the caller's transaction, records
 * its checksum and the functions, views and triggers it defined in
 * schema_repeatables, and drops what it defined last time and no longer
 * does. Which files to apply, and when, is migrate.c's business. */
#include <stdio.h>
#include <string.h>

#include "dbsync.h"
#include "repeatable.h"

const char ctl_repeatable_table_sql[] = "CREATE TABLE IF NOT EXISTS schema_repeatables ("
                                        " name text PRIMARY KEY, checksum text NOT NULL,"
                                        " objects text[] NOT NULL DEFAULT '{}',"
                                        " applied_at timestamptz NOT NULL DEFAULT now())";

int ctl_recorded_checksum(PGconn *conn, const char *sql, const char *key, char sum_out[65],
                          char *err, size_t errlen)
{
    const char *params[] = {key};
    PGresult *res = tocsin_dbsync_exec(conn, sql, 1, params, err, errlen);
    if (!res)
        return -1;
    int found = PQntuples(res) == 1;
    if (found)
        snprintf(sum_out, 65, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return found;
}

/* The functions, views and triggers whose catalog row this transaction
 * wrote, each as the text that follows DROP and the row version (ctid):
 * every CREATE [OR REPLACE] writes a new row version, whose xmin is this
 * transaction's id. What a file defined is what has a new version after it
 * ran, so objects that a numbered migration or another file wrote earlier
 * in the same transaction are not taken for the file's. */
/* clang-format off */
#define TOUCHED_SQL                                                                       \
    "WITH x AS (SELECT (pg_current_xact_id()::text::bigint % 4294967296)::text::xid AS id)"\
    " SELECT 'FUNCTION ' || p.oid::regprocedure::text AS obj, p.ctid::text AS ver"        \
    "   FROM pg_proc p, x"                                                                \
    "  WHERE p.pronamespace = 'public'::regnamespace AND p.xmin = x.id"                   \
    " UNION ALL"                                                                          \
    " SELECT 'VIEW ' || r.ev_class::regclass::text, r.ctid::text"                         \
    "   FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class, x"                       \
    "  WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'v'"                 \
    "    AND r.xmin = x.id"                                                               \
    " UNION ALL"                                                                          \
    " SELECT 'TRIGGER ' || quote_ident(t.tgname) || ' ON ' || t.tgrelid::regclass::text," \
    "        t.ctid::text"                                                                \
    "   FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid, x"                        \
    "  WHERE c.relnamespace = 'public'::regnamespace AND NOT t.tgisinternal"              \
    "    AND t.xmin = x.id"

#define BEFORE_SQL                                                                        \
    "SELECT coalesce(array_agg(obj || '@' || ver), '{}') FROM (" TOUCHED_SQL ") t"

/* Records name's checksum and objects ($3: BEFORE_SQL's answer before the
 * file ran); returns what it defined before and defines no more, which no
 * other file defines either and which still exists (a file may drop an
 * old signature itself, for databases that never recorded it), in the
 * order they can be dropped (triggers, then views, then functions). */
#define RECORD_SQL                                                                        \
    "WITH now_defined AS ("                                                               \
    "   SELECT coalesce(array_agg(obj ORDER BY obj), '{}') AS objs"                       \
    "     FROM (" TOUCHED_SQL ") t WHERE obj || '@' || ver <> ALL ($3::text[])),"         \
    " old AS (SELECT objects FROM schema_repeatables WHERE name = $1),"                   \
    " up AS (INSERT INTO schema_repeatables (name, checksum, objects)"                    \
    "        SELECT $1, $2, n.objs FROM now_defined n"                                    \
    "        ON CONFLICT (name) DO UPDATE"                                                \
    "        SET checksum = EXCLUDED.checksum, objects = EXCLUDED.objects,"               \
    "            applied_at = now())"                                                     \
    " SELECT o.obj FROM old, unnest(old.objects) o(obj), now_defined n"                   \
    "  WHERE o.obj <> ALL (n.objs)"                                                       \
    "    AND NOT EXISTS (SELECT 1 FROM schema_repeatables r"                              \
    "                     WHERE r.name <> $1 AND o.obj = ANY (r.objects))"                \
    "    AND CASE split_part(o.obj, ' ', 1)"                                              \
    "        WHEN 'FUNCTION' THEN to_regprocedure(substr(o.obj, 10)) IS NOT NULL"         \
    "        WHEN 'VIEW' THEN to_regclass(substr(o.obj, 6)) IS NOT NULL ELSE true END"    \
    "  ORDER BY CASE split_part(o.obj, ' ', 1)"                                           \
    "           WHEN 'TRIGGER' THEN 0 WHEN 'VIEW' THEN 1 ELSE 2 END, o.obj"
/* clang-format on */

int ctl_repeatable_apply(PGconn *conn, const char *name, const char *sql, const char *sum,
                         char *err, size_t errlen)
{
    /* As pg_dump's output does: a function body is checked when it runs, so
     * a function may name one defined later in the same file or another. */
    PGresult *before = tocsin_dbsync_exec(conn, BEFORE_SQL, 0, NULL, err, errlen);
    if (!before)
        return -1;
    if (tocsin_dbsync_command(conn, "SET LOCAL check_function_bodies = off", err, errlen) ||
        tocsin_dbsync_command(conn, sql, err, errlen)) {
        PQclear(before);
        return -1;
    }
    const char *params[] = {name, sum, PQgetvalue(before, 0, 0)};
    PGresult *res = tocsin_dbsync_exec(conn, RECORD_SQL, 3, params, err, errlen);
    PQclear(before);
    if (!res)
        return -1;
    int rc = 0;
    for (int i = 0; i < PQntuples(res) && rc == 0; i++) {
        /* The text comes from the catalog (regprocedure, regclass and
         * quote_ident quote what needs quoting), never from a file. */
        char drop[1024];
        int n = snprintf(drop, sizeof drop, "DROP %s", PQgetvalue(res, i, 0));
        if (n < 0 || (size_t)n >= sizeof drop) {
            snprintf(err, errlen, "%s: an object name is too long to drop", name);
            rc = -1;
        } else if (tocsin_dbsync_command(conn, drop, err, errlen)) {
            rc = -1;
        } else {
            printf("dropped %s (no longer in %s)\n", PQgetvalue(res, i, 0), name);
        }
    }
    PQclear(res);
    if (rc == 0)
        rc = tocsin_dbsync_command(conn, "SET LOCAL check_function_bodies = on", err, errlen);
    return rc;
}

int ctl_repeatable_validate(PGconn *conn, char *err, size_t errlen)
{
    /* The checks CREATE FUNCTION skipped: PL/pgSQL syntax, SQL bodies
     * against the tables, columns and functions they name, which all
     * exist now. An error's message starts with its function. */
    if (tocsin_dbsync_command(conn, "SET LOCAL check_function_bodies = on", err, errlen))
        return -1;
    return tocsin_dbsync_command(
        conn,
        "DO $$ DECLARE f regprocedure; lang name; BEGIN"
        " FOR f, lang IN SELECT p.oid, l.lanname"
        "                  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang"
        "                 WHERE p.pronamespace = 'public'::regnamespace"
        "                   AND l.lanname IN ('plpgsql', 'sql') ORDER BY 1 LOOP"
        "  BEGIN"
        "   IF lang = 'plpgsql' THEN PERFORM plpgsql_validator(f);"
        "   ELSE PERFORM fmgr_sql_validator(f); END IF;"
        "  EXCEPTION WHEN OTHERS THEN RAISE EXCEPTION '%: %', f, SQLERRM USING ERRCODE = SQLSTATE;"
        "  END;"
        " END LOOP; END $$",
        err, errlen);
}
