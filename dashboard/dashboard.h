/* SPDX-License-Identifier: AGPL-3.0-or-later
 * dashboard.h — the dashboard's shared state and its internal API: the
 * route table (api_routes.c), the request pipeline that authenticates a
 * call and answers it from SQL (api.c), and the pieces that run beside it
 * (live events, auto-release, login throttling, password hashing off the
 * loop). One file per resource: api_auth.c, api_messages.c, api_leads.c, ... */
#ifndef DASHBOARD_DASHBOARD_H
#define DASHBOARD_DASHBOARD_H

#include <stddef.h>
#include <stdio.h>

#include "daemon.h"
#include "http.h"

struct static_files;
struct tocsin_ratelimit;
struct events_hub;
struct sso_cache;

struct dashboard {
    struct tocsin_daemon *d;
    struct static_files *static_files;
    struct tocsin_ratelimit *throttle;      /* login attempts per account */
    struct tocsin_ratelimit *throttle_ip;   /* login attempts per client address (IPv6: /64) */
    struct tocsin_ratelimit *throttle_code; /* second-factor codes per user (api_two_factor.c) */
    struct events_hub *events;
    uv_timer_t release_timer;
    int release_running, release_busy;
    int secure_cookies;                    /* TOCSIN_DASHBOARD_URL is https:// */
    int imports_running;                   /* list imports and audience uploads (api_import.c) */
    struct sso_cache *sso;                 /* OpenID providers' endpoints and keys (sso.h) */
    struct tocsin_ratelimit *sso_throttle; /* sign-in starts and callbacks per client address */
};

enum api_role { API_VOLUNTEER = 0, API_LEAD = 1, API_ADMIN = 2 };

#define API_MAX_PARAMS 16
#define API_MAX_PATH_PARAMS 3

/* One authenticated request. params[0..2] are always the caller's org id,
 * user id and role (text), so every statement scopes itself by them;
 * path parameters follow, then the route's body fields. While a national
 * admin acts in a chapter (acting, schema 028) they are the chapter's and
 * her acting account's there. Lives in the request's arena. */
struct api_call {
    struct tocsin_http_req *req;
    struct dashboard *dash;
    const struct api_route *route;
    char org_id[24], user_id[24], role[16], session_id[24];
    char stage[8];  /* the session's: "full", or "code"/"enrol" while half logged in */
    char region[3]; /* the org's phone_region, "" when it has none (schema 037) */
    int acting;     /* a national admin's session acting in a chapter (schema 028) */
    enum api_role role_level;
    char csrf[64];
    const char *params[API_MAX_PARAMS];
    int nparams;
    json_t *body; /* the parsed JSON body of a POST (NULL for GET) */
};

typedef void (*api_handler)(struct api_call *call);

#define API_PUBLIC 1u /* no session needed (login, invite pages) */
/* Open to a half-logged-in session too (password right, second factor
 * owed: api_two_factor.c); every other route answers it 401. */
#define API_HALF 2u
/* The session's own account: $1..$3 are her home org, user and role even
 * while she acts in a chapter (her sessions: ending them only takes
 * access away, and she must be able to from anywhere). */
#define API_OWN 4u
/* Her own account's security settings (two-factor login): refused, 409
 * acting_in_chapter, while she acts in a chapter, where the acting
 * account must never gain them and her own must not change from a
 * session scoped to another org. */
#define API_NOT_ACTING 8u
/* How long a half-logged-in session lives: the time to find the phone
 * and type a code, or to enrol one. */
#define API_HALF_LOGIN_S 600

/* A route: METHOD and a pattern whose ":id" parts match a positive
 * integer and ":token" parts a URL-safe token. Either sql (which returns
 * one row: status int, body json) runs with params $1 org, $2 user, $3
 * role, then path parameters, then fields from the JSON body (as text, or
 * NULL when absent); or handler does the work. */
struct api_route {
    const char *method;
    const char *pattern;
    enum api_role min_role;
    unsigned flags;
    const char *sql;
    const char *const *fields;
    api_handler handler;
    const char *name; /* the statement's or the handler's name (--routes) */
};

extern const struct api_route api_routes[];
extern const size_t api_routes_count;

/* Prints one line per route: METHOD PATH ROLE ACCESS NAME, where ROLE is
 * the least role allowed (volunteer, lead, admin), ACCESS "public" (no
 * session needed) or "session", and NAME the SQL statement's or the
 * handler's name. tocsin-dashboard --routes; the integration tests read it. */
void api_routes_print(FILE *out);

/* Registers /api/ on the server: every request goes through the table. */
void api_register(struct dashboard *dash);

/* Runs sql with the call's params (nparams of them) and answers with the
 * row's (status, json) — or 404 for no row, 422 for a violated check, 503
 * when the database is unavailable. */
void api_run_sql(struct api_call *call, const char *sql);

/* Adds p (copied into the request arena) to the call's parameters; NULL
 * stays SQL NULL. Returns 0, or -1 when the table is full. */
int api_add_param(struct api_call *call, const char *p);

/* A phone number typed by a person (phone: a body field), normalised by
 * lib/phone (US for numbers without +country) and added as the next
 * parameter in E.164. Returns 0, or -1 after answering 400. */
int api_add_phone(struct api_call *call, const char *phone);

/* A string field of the JSON body, or NULL. Numbers are returned as text
 * in the request arena. */
const char *api_body_text(struct api_call *call, const char *name);

/* 1 when the database answered with an error and the request got 503. */
void api_db_error(struct api_call *call, const char *what, const char *error);

/* The query string as one JSON object of text (each name at most once,
 * only the names in known, each value at most value_max bytes of UTF-8),
 * added as the call's next parameter. Returns 0, or -1 after answering
 * 400 naming what is wrong (500 when out of memory). */
int api_query_json_param(struct api_call *call, const char *const *known, size_t n,
                         size_t value_max);

struct tocsin_dynbuf;
/* Answers 200 with b as a CSV download named filename (a name of the
 * server's making: no quotes), never cached; frees b. */
void api_respond_csv(struct api_call *call, const char *filename, struct tocsin_dynbuf *b);

/* Looks up the n columns named in names of res, once per result as
 * pg_dump does (PQfnumber), into cols. Returns 0, or -1 after logging the
 * first name the result lacks (the statement and its reader disagree). */
int dash_columns(const PGresult *res, const char *const *names, size_t n, int *cols);

/* The two columns every route statement answers with (api_run_sql):
 * whatever they are named, the status first, the JSON body second. */
enum { API_COL_STATUS = 0, API_COL_BODY = 1 };

/* SHA-256 of a token as a bytea literal ("\\x" + 64 hex digits). */
void api_token_hash_hex(const char *token, size_t len, char out[67]);

/* Handlers that are more than SQL. */
void api_login(struct api_call *call);
void api_logout(struct api_call *call);
void api_logout_everywhere(struct api_call *call);
void api_me(struct api_call *call);
void api_invite_create(struct api_call *call);
void api_invite_show(struct api_call *call);
void api_invite_accept(struct api_call *call);
void api_user_reset_password(struct api_call *call); /* api_people.c */
/* Two-factor login (api_two_factor.c). */
void api_login_code(struct api_call *call);
void api_two_factor_enrol(struct api_call *call);
void api_two_factor_confirm(struct api_call *call);
void api_two_factor_disable(struct api_call *call);
void api_two_factor_renew(struct api_call *call);
/* The caller's sessions (api_sessions.c). */
void api_sessions_list(struct api_call *call);
void api_session_end(struct api_call *call);
/* Counts one code attempt of the call's user against the code throttle;
 * 0 when it may go on, else -1 after answering 429 (api_auth.c). */
int api_code_attempt(struct api_call *call);
/* Answers 503 with Retry-After: the password queue is full
 * (DASH_PASSWORD_BUSY). */
void api_password_busy(struct api_call *call);
/* Clears the user's code attempts after a right code. */
void api_code_attempts_clear(struct api_call *call);
/* Makes an invite's token: its SHA-256 as a bytea literal (for the
 * database) and the link that carries the token in its #fragment (shown
 * once). Returns 0, or -1 after answering 500. */
int api_invite_token(struct api_call *call, char hex[67], char url[600]);
/* A national admin's chapters (api_chapters.c, schema/functions/chapters.sql). */
void api_chapters_list(struct api_call *call);
void api_chapter_create(struct api_call *call);
void api_chapter_invite(struct api_call *call);
void api_chapter_enter(struct api_call *call);
void api_chapter_leave(struct api_call *call);
void api_reply(struct api_call *call);
/* Checks a message a person is about to send (not empty, UTF-8, at most
 * 1600 characters) and adds its encoding and segment count as the next
 * two parameters. Returns 0, or -1 after answering 400/422/500. */
int api_add_message_body(struct api_call *call, const char *body);
void api_events(struct api_call *call);
/* A campaign lead's (api_leads.c, api_import.c). */
void api_list_export(struct api_call *call);
void api_list_import(struct api_call *call);
/* One cap for every CSV import the dashboard runs (list imports and
 * outreach audience uploads): each holds a thread of libuv's pool and a
 * database connection for as long as it runs. take returns 0 with a slot,
 * or -1 after answering 429 (Retry-After) when DASH_IMPORTS_MAX run;
 * release gives the slot back (on the loop thread, once the work is done). */
#define DASH_IMPORTS_MAX 2
int api_import_slot_take(struct api_call *call);
void api_import_slot_release(struct dashboard *dash);
/* Writes an import's audit row (action, its batch and counts) on conn,
 * after the import committed; a failure is logged, not returned. */
struct tocsin_import_report;
void api_import_audit(PGconn *conn, long long org_id, long long user_id, const char *action,
                      const struct tocsin_import_report *rep, int opt_outs);
/* The one region every import, its preview and a number typed for the
 * call's org are read in when written without +country: the org's
 * phone_region (schema 037), else TOCSIN_DEFAULT_REGION (US when unset).
 * Alive as long as call. */
const char *api_import_region(const struct api_call *call);
/* The deployment's: TOCSIN_DEFAULT_REGION, US when unset. */
const char *api_default_region(const struct dashboard *dash);
/* What api_import_start imports: csv (the file's text, UTF-8; copied)
 * to list (created when missing), or as an opt-out list with its phone
 * column, or as an outreach campaign's audience (subscribed to nothing).
 * filename is kept with the batch ("upload.csv" when absent or over 200
 * bytes); numbers without +country are read in api_import_region(). */
struct api_import_request {
    const char *csv, *filename, *list, *column;
    long long campaign_id;
};
/* Queues the import on libuv's thread pool once one of DASH_IMPORTS_MAX
 * slots is free (else 429), audits it when it commits, and answers with
 * api_import_answer when it is done. */
void api_import_start(struct api_call *call, const struct api_import_request *r);
/* An import's report as the dashboard answers it: counts (targeted: an
 * outreach audience's), the import batch, and the first rejections with
 * their lines; with opt_outs also the opt-out counts. */
json_t *api_import_report_json(const struct tocsin_import_report *r, int opt_outs);
/* Answers an import job's outcome: 503 when unavailable (the job did not
 * run or found no database), else 200 with the report (rc 0; returns 1,
 * the caller logs it), the database's refusal (api_import_db_failed,
 * what names the import), or 400 import_failed with err and the report. */
int api_import_answer(struct api_call *call, int unavailable, int rc,
                      const struct tocsin_import_report *rep, int opt_outs, const char *what,
                      const char *err);
/* Answers an import (a list's or an outreach audience's) that the database
 * refused or failed (rep->db_error): logs err, escaped, and answers 422
 * "import_refused" when the data was at fault (SQLSTATE class 22 or 23),
 * else 503, in plain words either way. */
void api_import_db_failed(struct api_call *call, const char *what,
                          const struct tocsin_import_report *rep, const char *err);
void api_keyword_save(struct api_call *call);
/* Imports through presets, uploaded in chunks (api_import_upload.c). */
#define API_IMPORT_UPLOAD_MAX_BYTES (64u << 20)
void api_import_presets(struct api_call *call);
void api_import_preview(struct api_call *call);
void api_import_upload_start(struct api_call *call);
void api_import_upload_chunk(struct api_call *call);
void api_import_upload_commit(struct api_call *call);
/* The org's opt-outs (api_opt_outs.c; the import runs in api_import.c). */
void api_opt_out_preview(struct api_call *call);
void api_opt_out_import(struct api_call *call);
void api_opt_out_export(struct api_call *call);
void api_opt_out_lookup(struct api_call *call);
void api_opt_out_undo(struct api_call *call);
/* A lead's Message review (api_review.c). */
void api_review_list(struct api_call *call);
void api_review_reassign(struct api_call *call);
void api_review_close(struct api_call *call);
/* An admin's Senders screen (api_senders.c). */
void api_senders_list(struct api_call *call);
void api_sender_add(struct api_call *call);
void api_sender_update(struct api_call *call);
void api_sender_credentials(struct api_call *call);
void api_sender_test(struct api_call *call);
/* An admin's org settings (api_settings.c). */
void api_settings_save(struct api_call *call);
void api_settings_get(struct api_call *call);
void api_contact_forget_preview(struct api_call *call);
void api_contact_forget(struct api_call *call);
void api_stats(struct api_call *call);
/* An admin's audit screen and its export (api_audit.c). */
void api_audit_list(struct api_call *call);
void api_audit_export(struct api_call *call);

/* The session cookie's name: over https (TOCSIN_DASHBOARD_URL) it carries
 * the __Host- prefix, so browsers take it only with Secure, Path=/ and no
 * Domain, and a sibling subdomain cannot plant or shadow it. */
#define API_SESSION_COOKIE "tocsin_session"
#define API_SESSION_COOKIE_HOST "__Host-tocsin_session"
const char *api_session_cookie_name(const struct dashboard *dash);
/* The request's User-Agent as a session records it (printable ASCII, at
 * most 256 bytes, in the request's arena), or NULL (api_auth.c). */
const char *dash_user_agent(struct tocsin_http_req *req);
/* The value of the cookie called name in the request's Cookie header (a
 * view into it), or {NULL,0}. name is at most 60 bytes. */
tocsin_str dash_cookie(struct tocsin_http_req *req, const char *name);

/* --- live events (events.c) --- */
struct events_hub *dash_events_new(struct dashboard *dash);
/* Starts LISTEN and the heartbeat; returns 0 or -1. */
int dash_events_start(struct events_hub *h);
/* Takes the request as a stream for this session (after authentication). */
void dash_events_subscribe(struct events_hub *h, struct api_call *call);
/* The integer member key of a NOTIFY payload o, or 0 when absent or of
 * another type (events.c). */
long long dash_json_id(json_t *o, const char *key);
/* Sends msg (a whole SSE event) to every stream of org whose session's
 * role is at least min_role. */
void dash_events_send_org(struct events_hub *h, long long org, enum api_role min_role,
                          const char *msg, size_t len);
/* LISTENs on tocsin_alerts: an audit alert raised or acknowledged goes to
 * its org's admins as "event: alert" (events_alerts.c). Returns 0 or -1. */
struct tocsin_db;
int dash_events_alerts_listen(struct events_hub *h, struct tocsin_db *db);
/* Ends the streams of a session (logout). */
void dash_events_end_session(struct events_hub *h, const char *session_id);
/* Rechecks the session of every open stream against the database (soon,
 * in one query) and ends the streams whose session ended (logout
 * elsewhere, revoked, expired, past its absolute lifetime, its user
 * disabled) or whose user's role changed: the browser reconnects, and the
 * new stream is scoped by the new role. Runs on every NOTIFY
 * tocsin_sessions (schema 018) and with every heartbeat. */
void dash_events_recheck(struct events_hub *h);
/* Ends every stream and stops the heartbeat (daemon stop). */
void dash_events_stop(struct events_hub *h);
void dash_events_free(struct events_hub *h);

/* --- auto-release of idle assignments (release.c) --- */
void dash_release_start(struct dashboard *dash);
void dash_release_stop(struct dashboard *dash);

/* --- passwords off the loop (password_work.c) --- */
/* Makes the dummy hash and sets the bounds: concurrency argon2id at once,
 * queue_max waiting in order (once, on the loop thread, before any
 * request). Returns 0 or -1. */
int dash_password_init(uv_loop_t *loop, unsigned concurrency, unsigned queue_max);
#define DASH_PASSWORD_BUSY (-2) /* the queue is full: answer 503 with Retry-After */
/* Verifies password against encoded (NULL: a dummy hash, same cost) on the
 * libuv thread pool, after the work queued before it; done(ok, arg) runs
 * on the loop. Returns 0, DASH_PASSWORD_BUSY, or -1 (out of memory); done is
 * called only after 0. */
int dash_password_verify(const char *encoded, const char *password, void (*done)(int ok, void *arg),
                         void *arg);
/* Hashes password the same way; done(hash or NULL on failure, arg). */
int dash_password_hash(const char *password, void (*done)(const char *hash, void *arg), void *arg);

#endif
