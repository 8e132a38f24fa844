/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_two_factor_sql.h — the statements that finish a second-factor step
 * (api_two_factor.c). Each proves the factor inside the statement that
 * acts on it, so two requests with one code cannot both pass: a TOTP code
 * moves user_totp.last_step forward only if it is later than the last one
 * used, a recovery code is marked used only if it was not. Parameters: $1
 * org, $2 user, $3 role, $4 the caller's session, $5 the proof (the
 * code's step, or a recovery code's SHA-256), then the statement's own.
 * A refused proof answers 401 in the same statement. */
#ifndef DASHBOARD_API_TWO_FACTOR_SQL_H
#define DASHBOARD_API_TWO_FACTOR_SQL_H

#define TF_ERROR(status, code, message)                                                            \
    "SELECT " #status ", json_build_object('error', json_build_object('status', " #status          \
    ", 'code', '" code "', 'message', '" message "'))"

#define TF_WRONG_CODE TF_ERROR(401, "invalid_code", "wrong code, or one already used")

#define TF_PROOF_TOTP                                                                              \
    "WITH f AS (UPDATE user_totp SET last_step = $5::bigint"                                       \
    "            WHERE user_id = $2::bigint AND confirmed_at IS NOT NULL"                          \
    "              AND last_step < $5::bigint RETURNING user_id, 'totp' AS factor),"
#define TF_PROOF_RECOVERY                                                                           \
    "WITH f AS (UPDATE recovery_codes SET used_at = now()"                                          \
    "            WHERE user_id = $2::bigint AND code_hash = $5::bytea AND used_at IS NULL"          \
    "           RETURNING user_id, 'recovery_code' AS factor),"                                     \
    " ru AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "        SELECT $1::bigint, $2::bigint, 'two_factor.recovery_code_used', 'user', $2::bigint,"   \
    "               jsonb_build_object('left', (SELECT count(*) - 1 FROM recovery_codes"            \
    "                                            WHERE user_id = $2::bigint AND used_at IS NULL))"  \
    "          FROM f),"

/* Login, second step: the half-logged-in session becomes a full one with
 * the sliding lifetime ($6) inside the absolute one ($7). */
#define TF_LOGIN_TAIL                                                                              \
    " p AS (UPDATE sessions SET stage = 'full', factor_attempts = 0, last_seen_at = now(),"        \
    "              expires_at = least(now() + make_interval(secs => $6::int),"                     \
    "                                 created_at + make_interval(secs => $7::int))"                \
    "        WHERE id = $4::bigint AND user_id = $2::bigint AND stage = 'code'"                    \
    "          AND EXISTS (SELECT 1 FROM f) RETURNING user_id, csrf_token, stage),"                \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $2::bigint, 'session.login', 'user', $2::bigint,"                   \
    "              jsonb_build_object('factor', (SELECT factor FROM f)) FROM p)"                   \
    "SELECT 200, json_build_object('user', json_build_object('id', u.id, 'email', u.email,"        \
    "       'display_name', u.display_name, 'role', u.role,"                                       \
    "       'org', json_build_object('slug', o.slug, 'name', o.name)),"                            \
    "       'csrf_token', p.csrf_token, 'stage', p.stage)"                                         \
    "  FROM p JOIN users u ON u.id = p.user_id JOIN orgs o ON o.id = u.org_id"                     \
    " UNION ALL " TF_WRONG_CODE " WHERE NOT EXISTS (SELECT 1 FROM p)"

#define SQL_TF_LOGIN_TOTP TF_PROOF_TOTP TF_LOGIN_TAIL
#define SQL_TF_LOGIN_RECOVERY TF_PROOF_RECOVERY TF_LOGIN_TAIL

/* Turning two-factor login off (password and a code already checked):
 * the authenticator and its recovery codes go; where the org requires it
 * for her role, this session goes back to stage 'enrol' ($6 seconds at
 * most) and her other sessions end. A TOTP proof only reads last_step:
 * the row it would move is the one deleted. */
#define TF_DISABLE_TAIL                                                                            \
    " d AS (DELETE FROM user_totp WHERE user_id = $2::bigint AND EXISTS (SELECT 1 FROM f)"         \
    "       RETURNING user_id),"                                                                   \
    " dr AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT user_id FROM d)),"                \
    " req AS (SELECT 1 FROM users u JOIN orgs o ON o.id = u.org_id"                                \
    "          WHERE u.id = $2::bigint AND o.require_two_factor AND u.role IN ('admin', 'lead'))," \
    " p AS (UPDATE sessions SET stage = 'enrol',"                                                  \
    "              expires_at = least(expires_at, now() + make_interval(secs => $6::int))"         \
    "        WHERE id = $4::bigint AND EXISTS (SELECT 1 FROM d) AND EXISTS (SELECT 1 FROM req)"    \
    "       RETURNING stage),"                                                                     \
    " others AS (DELETE FROM sessions WHERE user_id = $2::bigint AND id <> $4::bigint"             \
    "          AND EXISTS (SELECT 1 FROM d) AND EXISTS (SELECT 1 FROM req)),"                      \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $2::bigint, 'two_factor.disable', 'user', $2::bigint,"              \
    "              jsonb_build_object('factor', (SELECT factor FROM f)) FROM d)"                   \
    "SELECT 200, json_build_object('enrolled', false,"                                             \
    "       'stage', coalesce((SELECT stage FROM p), 'full')) FROM d"                              \
    " UNION ALL " TF_WRONG_CODE " WHERE NOT EXISTS (SELECT 1 FROM d)"

#define SQL_TF_DISABLE_TOTP                                                                        \
    "WITH f AS (SELECT user_id, 'totp' AS factor FROM user_totp"                                   \
    "            WHERE user_id = $2::bigint AND confirmed_at IS NOT NULL"                          \
    "              AND last_step < $5::bigint)," TF_DISABLE_TAIL
#define SQL_TF_DISABLE_RECOVERY TF_PROOF_RECOVERY TF_DISABLE_TAIL

/* Enrolment, confirmed by its first code ($5, its step): the
 * authenticator is on, the ten recovery codes' hashes ($6, comma-separated
 * hex) replace any older ones, and a session owing enrolment becomes a
 * full one (lifetimes $8, $9). The codes themselves ($7) go back to the
 * person once, in the answer, and are stored nowhere. */
#define SQL_TF_CONFIRM                                                                             \
    "WITH f AS (UPDATE user_totp SET confirmed_at = now(), last_step = $5::bigint"                 \
    "            WHERE user_id = $2::bigint AND org_id = $1::bigint AND confirmed_at IS NULL"      \
    "              AND last_step < $5::bigint RETURNING user_id, org_id),"                         \
    " dr AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT user_id FROM f)),"                \
    " r AS (INSERT INTO recovery_codes (org_id, user_id, code_hash)"                               \
    "       SELECT f.org_id, f.user_id, decode(h, 'hex')"                                          \
    "         FROM f, unnest(string_to_array($6::text, ',')) h),"                                  \
    " p AS (UPDATE sessions SET stage = 'full', factor_attempts = 0, last_seen_at = now(),"        \
    "              expires_at = least(now() + make_interval(secs => $8::int),"                     \
    "                                 created_at + make_interval(secs => $9::int))"                \
    "        WHERE id = $4::bigint AND stage = 'enrol' AND EXISTS (SELECT 1 FROM f)"               \
    "       RETURNING id),"                                                                        \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $2::bigint, 'two_factor.enrol', 'user', $2::bigint,"                \
    "              jsonb_build_object('recovery_codes', 10) FROM f"                                \
    "       UNION ALL SELECT $1::bigint, $2::bigint, 'session.login', 'user', $2::bigint,"         \
    "              jsonb_build_object('factor', 'totp_enrolment') FROM p)"                         \
    "SELECT 200, json_build_object('enrolled', true, 'stage', 'full',"                             \
    "       'recovery_codes', string_to_array($7::text, ',')) FROM f"                              \
    " UNION ALL " TF_WRONG_CODE " WHERE NOT EXISTS (SELECT 1 FROM f)"

/* New recovery codes (a code already checked): the ten hashes ($6)
 * replace every older code, the codes themselves ($7) go back once. A
 * recovery code given as the proof is spent by f, and stays as a used row
 * (the delete skips the row this statement already changed). */
#define TF_RENEW_TAIL                                                                                \
    " dr AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT user_id FROM f)),"                  \
    " r AS (INSERT INTO recovery_codes (org_id, user_id, code_hash)"                                 \
    "       SELECT $1::bigint, f.user_id, decode(h, 'hex')"                                          \
    "         FROM f, unnest(string_to_array($6::text, ',')) h),"                                    \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)"   \
    "       SELECT $1::bigint, $2::bigint, 'two_factor.recovery_codes_renewed', 'user', $2::bigint," \
    "              jsonb_build_object('factor', factor) FROM f)"                                     \
    "SELECT 200, json_build_object('recovery_codes', string_to_array($7::text, ',')) FROM f"         \
    " UNION ALL " TF_WRONG_CODE " WHERE NOT EXISTS (SELECT 1 FROM f)"
#define SQL_TF_RENEW_TOTP TF_PROOF_TOTP TF_RENEW_TAIL
#define SQL_TF_RENEW_RECOVERY TF_PROOF_RECOVERY TF_RENEW_TAIL

/* Enrolment begins (or begins again, before its first code): a new
 * secret ($4, hex) for the caller, unless she already has a confirmed one.
 * The secret ($5, base32), its otpauth URI ($6) and the QR code's modules
 * ($7 rows of $7 '0'/'1') go back once, to the page. */
#define SQL_TF_ENROL                                                                               \
    "WITH t AS (INSERT INTO user_totp (user_id, org_id, secret)"                                   \
    "           VALUES ($2::bigint, $1::bigint, decode($4::text, 'hex'))"                          \
    "           ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = now()," \
    "                                             last_step = 0"                                   \
    "            WHERE user_totp.confirmed_at IS NULL RETURNING user_id)"                          \
    "SELECT 200, json_build_object('secret', $5::text, 'uri', $6::text,"                           \
    "       'qr', json_build_object('size', $7::int, 'modules', $8::text)) FROM t"                 \
    " UNION ALL " TF_ERROR(409, "already_enrolled",                                                \
                           "two-factor login is already on: turn it off first to move it to "      \
                           "another authenticator") " WHERE NOT EXISTS (SELECT 1 FROM t)"

/* The caller's two-factor state (her Account page). */
#define SQL_TF_STATUS                                                                              \
    "SELECT 200, json_build_object('enrolled', t.user_id IS NOT NULL,"                             \
    "       'enrolled_at', t.confirmed_at,"                                                        \
    "       'recovery_codes_left', (SELECT count(*) FROM recovery_codes r"                         \
    "                                WHERE r.user_id = u.id AND r.used_at IS NULL),"               \
    "       'required', o.require_two_factor AND u.role IN ('admin', 'lead'))"                     \
    "  FROM users u JOIN orgs o ON o.id = u.org_id"                                                \
    "  LEFT JOIN user_totp t ON t.user_id = u.id AND t.confirmed_at IS NOT NULL"                   \
    " WHERE u.id = $2::bigint AND u.org_id = $1::bigint"

/* An admin clears a user's authenticator (she lost it and her recovery
 * codes): it, its codes and her sessions go; her next login enrols anew
 * where the org requires it. A national admin's acting account has none
 * (409: her two-factor login is her own org's). */
#define SQL_TF_RESET                                                                               \
    "WITH t AS (SELECT id FROM users WHERE id = $4::bigint AND org_id = $1::bigint"                \
    "             AND national_user_id IS NULL),"                                                  \
    " d AS (DELETE FROM user_totp WHERE user_id IN (SELECT id FROM t) RETURNING user_id),"         \
    " dr AS (DELETE FROM recovery_codes WHERE user_id IN (SELECT id FROM t)),"                     \
    " ds AS (DELETE FROM sessions WHERE user_id IN (SELECT id FROM t) RETURNING id),"              \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $2::bigint, 'two_factor.reset', 'user', t.id,"                      \
    "              jsonb_build_object('had_two_factor', EXISTS (SELECT 1 FROM d),"                 \
    "                                 'sessions', (SELECT count(*) FROM ds)) FROM t)"              \
    "SELECT 200, json_build_object('user_id', t.id, 'reset', true,"                                \
    "       'sessions_ended', (SELECT count(*) FROM ds)) FROM t"                                   \
    " UNION ALL " TF_ERROR(                                                                        \
        409, "acting_account",                                                                     \
        "this is a national admin acting in your chapter: her two-factor "                         \
        "login belongs to her own organisation (disable the account to end "                       \
        "her visits)") " WHERE EXISTS (SELECT 1 FROM users WHERE id = $4::bigint"                  \
                       "   AND org_id = $1::bigint AND national_user_id IS NOT NULL)"

/* The org's "require two-factor login for admins and leads" (admins):
 * read, and set from {"required": true|false}, the change audited. */
#define SQL_TF_ORG_SETTING                                                                         \
    "SELECT 200, json_build_object('require_two_factor', require_two_factor)"                      \
    "  FROM orgs WHERE id = $1::bigint"
#define SQL_TF_ORG_SETTING_SAVE                                                                    \
    "WITH v AS (SELECT CASE $4::text WHEN 'true' THEN true WHEN 'false' THEN false END AS req),"   \
    " old AS (SELECT require_two_factor AS req FROM orgs WHERE id = $1::bigint),"                  \
    " u AS (UPDATE orgs SET require_two_factor = v.req FROM v"                                     \
    "        WHERE orgs.id = $1::bigint AND v.req IS NOT NULL RETURNING require_two_factor),"      \
    " a AS (INSERT INTO audit_events (org_id, user_id, action, subject_type, subject_id, details)" \
    "       SELECT $1::bigint, $2::bigint, 'org.settings', 'org', $1::bigint,"                     \
    "              jsonb_build_object('require_two_factor', jsonb_build_object("                   \
    "                  'old', (SELECT req FROM old), 'new', u.require_two_factor))"                \
    "         FROM u WHERE u.require_two_factor IS DISTINCT FROM (SELECT req FROM old))"           \
    "SELECT 200, json_build_object('require_two_factor', require_two_factor) FROM u"               \
    " UNION ALL " TF_ERROR(                                                                        \
        400, "invalid", "invalid required: true or false") " WHERE NOT EXISTS (SELECT 1 FROM u)"

#endif
