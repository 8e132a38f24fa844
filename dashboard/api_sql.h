/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_sql.h — the statements that answer the inbox routes. Each returns
 * one row (status, json body) or none (404), scoped by $1 org, $2 user,
 * $3 role; $4.. are path parameters then body fields (api_routes.c).
 * Assignment changes NOTIFY tocsin_conversations so live streams update.
 * Every send, assignment and opt-out writes audit_events in the same
 * statement. */
#ifndef DASHBOARD_API_SQL_H
#define DASHBOARD_API_SQL_H

/* The conversation c is one the caller may see. */
#define VISIBLE(c)                                                                                 \
    " " c ".org_id = $1::bigint AND ($3::text <> 'volunteer' OR " c ".assignee_id = $2::bigint) "

#define NOTIFY(conv, event, assignee, previous)                                                          \
    "pg_notify('tocsin_conversations', json_build_object('org_id', $1::bigint, 'conversation_id', " conv \
    ", 'event', '" event "', 'assignee_id', " assignee ", 'previous_assignee_id', " previous             \
    ")::text)"

/* Lists of conversations: rows of dashboard_conversation_rows (008) as
 * JSON; a volunteer's own inbox is a function so its plan is cached. What
 * the caller sees of a contact is asked once (a FROM item), not per row. */
#define LIST_OF(where_order_limit)                                                                 \
    "SELECT coalesce(json_agg(tocsin_dashboard_row_json(r, $3::text, s.seen)), '[]') FROM ("       \
    " SELECT * FROM dashboard_conversation_rows r WHERE " where_order_limit ") r,"                 \
    " tocsin_contact_seen_fields($1::bigint, $3::text) s(seen)"

#define SQL_INBOX "SELECT 200, tocsin_dashboard_inbox($1::bigint, $2::bigint, $3::text)"

/* The org's 500 newest open conversations are chosen on conversations
 * alone, then shown: no index keeps them in order (schema 036: a reply's
 * update stays HOT), and sorting the rows of the view would join every
 * open conversation to its contact first. */
#define SQL_ALL_OPEN                                                                               \
    "SELECT 200, (" LIST_OF("r.org_id = $1::bigint AND r.id IN (SELECT c.id FROM conversations c"  \
                            "  WHERE c.org_id = $1::bigint AND c.state = 'open'"                   \
                            "  ORDER BY c.last_inbound_at DESC NULLS LAST, c.id DESC LIMIT 500)"   \
                            " ORDER BY r.last_inbound_at DESC NULLS LAST, r.id DESC") ")"

#define SQL_POOL                                                                                                                        \
    "SELECT 200, json_build_object("                                                                                                    \
    " 'waiting', (SELECT count(*) FROM conversations WHERE org_id = $1::bigint AND state = 'open'"                                      \
    "              AND assignee_id IS NULL),"                                                                                           \
    " 'oldest', (" LIST_OF(                                                                                                             \
        "r.org_id = $1::bigint AND r.state = 'open' AND r.assignee_id IS NULL"                                                          \
        " ORDER BY r.created_at, r.id LIMIT 50") "),"                                                                                   \
                                                 " 'holders', (SELECT coalesce(json_agg(h ORDER BY h.display_name, h.id), '[]') FROM (" \
                                                 "             SELECT u.id, u.display_name, u.email, count(*) AS open"                  \
                                                 "               FROM conversations c JOIN users u ON u.id = c.assignee_id"             \
                                                 "              WHERE c.org_id = $1::bigint AND c.state = 'open'"                       \
                                                 "              GROUP BY u.id) h))"

/* How many wait in the pool (a number only: volunteers may see it). */
#define SQL_WAITING                                                                                \
    "SELECT 200, json_build_object('waiting', count(*)) FROM conversations"                        \
    " WHERE org_id = $1::bigint AND state = 'open' AND assignee_id IS NULL"

#define SQL_USERS                                                                                   \
    "SELECT 200, coalesce(json_agg(json_build_object('id', u.id, 'email', u.email,"                 \
    "       'display_name', u.display_name, 'role', u.role, 'disabled', u.disabled_at IS NOT NULL)" \
    "       ORDER BY u.display_name, u.id), '[]')"                                                  \
    "  FROM users u WHERE u.org_id = $1::bigint"

/* An admin disables a user of her org (not herself): the user's sessions
 * end (schema 018's trigger) and her conversations go back to the pool
 * (010's); enabling does not bring the sessions back. Revoking ends every
 * session of a user without disabling her. */
#define SQL_USER_DISABLE                                                                           \
    "WITH t AS (SELECT id FROM users WHERE id = $4::bigint AND org_id = $1::bigint),"              \
    " u AS (UPDATE users SET disabled_at = coalesce(disabled_at, now())"                           \
    "        WHERE id = (SELECT id FROM t) AND id <> $2::bigint RETURNING id),"                    \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)"          \
    "       SELECT $1::bigint, $2::bigint, 'user.disable', 'user', id FROM u)"                     \
    "SELECT CASE WHEN t.id = $2::bigint THEN 409 ELSE 200 END,"                                    \
    "       CASE WHEN t.id = $2::bigint"                                                           \
    "            THEN tocsin_api_error(409, 'conflict', 'you cannot disable yourself')"            \
    "            ELSE json_build_object('user_id', t.id, 'disabled', true) END FROM t"

#define SQL_USER_ENABLE                                                                            \
    "WITH u AS (UPDATE users SET disabled_at = NULL"                                               \
    "            WHERE id = $4::bigint AND org_id = $1::bigint RETURNING id),"                     \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)"          \
    "       SELECT $1::bigint, $2::bigint, 'user.enable', 'user', id FROM u)"                      \
    "SELECT 200, json_build_object('user_id', id, 'disabled', false) FROM u"

/* An admin ends a user's sessions. A national admin's acting account has
 * none of its own: her visits to this chapter end instead (the windows
 * close; her session in her own org is not the chapter's to end). */
#define SQL_USER_REVOKE                                                                            \
    "WITH t AS (SELECT id FROM users WHERE id = $4::bigint AND org_id = $1::bigint),"              \
    " d AS (DELETE FROM sessions WHERE user_id = (SELECT id FROM t) RETURNING id),"                \
    " v AS (SELECT tocsin_acting_visits_end($1::bigint, t.id) AS n FROM t),"                       \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $2::bigint, 'user.revoke_sessions', 'user', t.id,"                  \
    "              jsonb_build_object('sessions', (SELECT count(*) FROM d),"                       \
    "                                 'visits_ended', (SELECT n FROM v)) FROM t)"                  \
    "SELECT 200, json_build_object('user_id', t.id, 'revoked', (SELECT count(*) FROM d),"          \
    "       'visits_ended', (SELECT n FROM v)) FROM t"

/* Opening a conversation reads a member's number and messages: audited,
 * once per person and conversation in 10 minutes (the inbox reads it
 * again on every live update). */
#define SQL_CONVERSATION                                                                            \
    "WITH j AS (SELECT tocsin_dashboard_conversation($1::bigint, $2::bigint, $3::text, $4::bigint)" \
    "            AS j),"                                                                            \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)"           \
    "       SELECT $1::bigint, $2::bigint, 'conversation.view', 'conversation', $4::bigint FROM j"  \
    "        WHERE j.j IS NOT NULL AND NOT EXISTS ("                                                \
    "              SELECT 1 FROM audit_events e WHERE e.org_id = $1::bigint"                        \
    "                 AND e.user_id = $2::bigint AND e.created_at > now() - interval '10 minutes'"  \
    "                 AND e.action = 'conversation.view' AND e.subject_id = $4::bigint))"           \
    "SELECT 200, j.j FROM j"

/* Who took a conversation from the caller and who moved it (schema 021):
 * 404 unless a lead reassigned it away from her and it is not hers now. */
#define SQL_HANDOFF                                                                                \
    "SELECT 200, j FROM tocsin_dashboard_handoff($1::bigint, $2::bigint, $4::bigint) j"            \
    " WHERE j IS NOT NULL"

/* The next N of the pool, oldest first (1 to 50, default 5), for a
 * volunteer no more than her org's cap on what she holds
 * (orgs.volunteer_max_conversations): one function call
 * (schema/functions/dashboard.sql). */
#define SQL_CLAIM                                                                                  \
    "SELECT 200, tocsin_conversations_claim($1::bigint, $2::bigint, $3::text, $4::int)"

#define SQL_RELEASE                                                                                         \
    "WITH old AS (SELECT c.id, c.assignee_id FROM conversations c"                                          \
    "              WHERE c.id = $4::bigint AND" VISIBLE(                                                    \
        "c") "FOR UPDATE),"                                                                                 \
             " u AS (UPDATE conversations c SET assignee_id = NULL, assigned_at = NULL,"                    \
             "              assignee_active_at = NULL"                                                      \
             "         FROM old WHERE c.id = old.id AND old.assignee_id IS NOT NULL AND c.state = 'open'"   \
             "       RETURNING c.id, old.assignee_id AS previous),"                                         \
             " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
             "       SELECT $1::bigint, $2::bigint, 'conversation.release', 'conversation', id,"            \
             "              jsonb_build_object('from', previous) FROM u)"                                   \
             "SELECT 200, json_build_object('id', old.id, 'released', u.id IS NOT NULL),"                   \
             "       CASE WHEN u.id IS NOT NULL THEN " NOTIFY(                                              \
                 "u.id", "released", "NULL::bigint",                                                        \
                 "u.previous") " END"                                                                       \
                               "  FROM old LEFT JOIN u ON u.id = old.id"

#define SQL_ASSIGN                                                                                  \
    "WITH t AS (SELECT id FROM users WHERE id = $5::bigint AND org_id = $1::bigint"                 \
    "            AND disabled_at IS NULL),"                                                         \
    " old AS (SELECT c.id, c.assignee_id FROM conversations c"                                      \
    "          WHERE c.id = $4::bigint AND c.org_id = $1::bigint AND c.state = 'open' FOR UPDATE)," \
    " u AS (UPDATE conversations c SET assignee_id = t.id, assigned_at = now(),"                    \
    "              assignee_active_at = now()"                                                      \
    "         FROM old, t WHERE c.id = old.id"                                                      \
    "       RETURNING c.id, t.id AS assignee, old.assignee_id AS previous),"                        \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)"  \
    "       SELECT $1::bigint, $2::bigint, 'conversation.assign', 'conversation', id,"              \
    "              jsonb_build_object('to', assignee, 'from', previous) FROM u)"                    \
    "SELECT 200, json_build_object('id', id, 'assignee_id', assignee),"                             \
    "       " NOTIFY("id", "assigned", "assignee", "previous") " FROM u"

#define SQL_READ                                                                                   \
    "UPDATE conversations c SET unread = 0, assignee_active_at = CASE WHEN c.assignee_id ="        \
    "       $2::bigint THEN now() ELSE c.assignee_active_at END"                                   \
    " WHERE c.id = $4::bigint AND" VISIBLE(                                                        \
        "c") "RETURNING 200, json_build_object('id', c.id, 'unread', c.unread)"

#define SQL_CLOSE                                                                                     \
    "WITH u AS (UPDATE conversations c SET state = 'closed', unread = 0"                              \
    "            WHERE c.id = $4::bigint AND c.state = 'open' AND" VISIBLE(                           \
        "c") "           RETURNING c.id, c.assignee_id),"                                             \
             " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)"    \
             "       SELECT $1::bigint, $2::bigint, 'conversation.close', 'conversation', id FROM u)" \
             "SELECT 200, json_build_object('id', id, 'state', 'closed'),"                            \
             "       " NOTIFY("id", "closed", "NULL::bigint", "assignee_id") " FROM u"

/* One click (after the UI's confirm): the number goes on the org's
 * opt-out list with its consent event, subscriptions end, queued messages
 * to it are cancelled, and nothing is sent (no confirmation text: the
 * member did not text STOP). The gateway's "likely opt-out" flag is
 * cleared, as it is by SQL_KEEP when a volunteer judges it was not one. */
#define SQL_OPT_OUT                                                                                         \
    "WITH c AS (SELECT c.id, c.org_id, c.contact_id, ct.phone FROM conversations c"                         \
    "            JOIN contacts ct ON ct.org_id = c.org_id AND ct.id = c.contact_id"                         \
    "           WHERE c.id = $4::bigint AND" VISIBLE(                                                       \
        "c") "),"                                                                                           \
             " o AS (INSERT INTO opt_outs (org_id, phone, source, evidence)"                                \
             "       SELECT org_id, phone, 'volunteer', 'user ' || $2::bigint FROM c"                       \
             "       ON CONFLICT DO NOTHING RETURNING phone),"                                              \
             " e AS (INSERT INTO consent_events (org_id, phone, event, source, evidence)"                   \
             "       SELECT $1::bigint, phone, 'opt_out', 'volunteer', 'user ' || $2::bigint FROM o),"      \
             " s AS (UPDATE subscriptions SET unsubscribed_at = now()"                                      \
             "        WHERE org_id = $1::bigint AND contact_id = (SELECT contact_id FROM c)"                \
             "          AND unsubscribed_at IS NULL),"                                                      \
             " x AS (SELECT tocsin_unqueue(array(SELECT m.id FROM messages m, c WHERE m.org_id = c.org_id"  \
             "         AND m.to_phone = c.phone AND m.state = 'queued'), NULL) AS n),"                      \
             " v AS (UPDATE conversations SET likely_opt_out = false WHERE id = (SELECT id FROM c)),"       \
             " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
             "       SELECT $1::bigint, $2::bigint, 'contact.opt_out', 'contact', contact_id,"              \
             "              jsonb_build_object('conversation_id', id, 'cancelled', (SELECT n FROM x),"      \
             "                                 'already', NOT EXISTS (SELECT 1 FROM o)) FROM c)"            \
             "SELECT 200, json_build_object('opted_out', true, 'already', NOT EXISTS (SELECT 1 FROM o),"    \
             "       'cancelled', (SELECT n FROM x)) FROM c"

#define SQL_KEEP                                                                                            \
    "WITH u AS (UPDATE conversations c SET likely_opt_out = false"                                          \
    "            WHERE c.id = $4::bigint AND" VISIBLE(                                                      \
        "c") "RETURNING c.id),"                                                                             \
             " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id)"          \
             "       SELECT $1::bigint, $2::bigint, 'conversation.not_opt_out', 'conversation', id FROM u)" \
             "SELECT 200, json_build_object('id', id, 'likely_opt_out', false) FROM u"

#define SQL_NOTE                                                                                        \
    "WITH n AS (INSERT INTO conversation_notes (org_id, conversation_id, user_id, body)"                \
    "           SELECT c.org_id, c.id, $2::bigint, $5::text FROM conversations c"                       \
    "            WHERE c.id = $4::bigint AND" VISIBLE(                                                  \
        "c") "RETURNING id, body, created_at),"                                                         \
             " t AS (UPDATE conversations SET assignee_active_at = now()"                               \
             "        WHERE id = $4::bigint AND assignee_id = $2::bigint AND EXISTS (SELECT 1 FROM n))" \
             "SELECT 201, json_build_object('id', id, 'body', body, 'at', created_at) FROM n"

#define SQL_TAG_ADD                                                                                  \
    "WITH x AS (INSERT INTO conversation_tags (org_id, conversation_id, tag_id)"                     \
    "           SELECT c.org_id, c.id, t.id FROM conversations c"                                    \
    "             JOIN tags t ON t.org_id = c.org_id AND t.id = $5::bigint AND t.retired_at IS NULL" \
    "            WHERE c.id = $4::bigint AND" VISIBLE(                                               \
        "c") "           ON CONFLICT DO NOTHING RETURNING tag_id),"                                  \
             " v AS (SELECT t.id FROM conversations c JOIN tags t ON t.org_id = c.org_id"            \
             "        AND t.id = $5::bigint AND t.retired_at IS NULL"                                \
             "      WHERE c.id = $4::bigint AND" VISIBLE(                                            \
                 "c") ")"                                                                            \
                      "SELECT 200, json_build_object('tag_id', id, 'added', EXISTS (SELECT 1 FROM x)) FROM v"

#define SQL_TAG_REMOVE                                                                              \
    "WITH v AS (SELECT c.id FROM conversations c WHERE c.id = $4::bigint AND" VISIBLE(              \
        "c") "),"                                                                                   \
             " d AS (DELETE FROM conversation_tags x USING v"                                       \
             "        WHERE x.conversation_id = v.id AND x.tag_id = $5::bigint RETURNING x.tag_id)" \
             "SELECT 200, json_build_object('removed', EXISTS (SELECT 1 FROM d)) FROM v"

#endif
