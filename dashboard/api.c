/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api.c — the request pipeline under /api/: match the route table, find
 * the session from its cookie (stored hashed, sliding expiry), enforce the
 * route's role, check Origin and the CSRF header on every state-changing
 * request, collect parameters, and answer from one SQL statement or hand
 * over to the route's handler. Owns no resource's logic. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dashboard.h"
#include "dynbuf.h"
#include "static_files.h"
#include "log.h"
#include "phone.h"

/* A session is good while it is within both lifetimes: the sliding one
 * ($2, renewed by use) and the absolute one from its login ($3), and its
 * user is not disabled. Sliding never moves expires_at past the absolute
 * end, so what the table says is what holds. Its org, user and role are
 * what tocsin_session_scopes resolves (its own, or the chapter a national
 * admin acts in: schema 028), so every statement is scoped the one way;
 * that org's phone_region (schema 037) comes along for api_import_region.
 * A half-logged-in session (stage 'code' or 'enrol', schema 030) never
 * slides: it has the few minutes its login gave it. The home_* columns are
 * the session's own account, for the routes that act on it (API_OWN).
 * tocsin_session_find (schema/functions/sessions.sql) holds the SQL, so
 * that a connection plans it once. */
static const char session_sql[] = "SELECT * FROM tocsin_session_find($1::bytea, $2::int, $3::int)";

int dash_columns(const PGresult *res, const char *const *names, size_t n, int *cols)
{
    for (size_t i = 0; i < n; i++) {
        cols[i] = PQfnumber(res, names[i]);
        if (cols[i] < 0) {
            log_error("sql_column_missing", "column=%s", names[i]);
            return -1;
        }
    }
    return 0;
}

int api_add_param(struct api_call *call, const char *p)
{
    if (call->nparams >= API_MAX_PARAMS)
        return -1;
    call->params[call->nparams++] =
        p ? tocsin_arena_strndup(tocsin_http_arena(call->req), p, strlen(p)) : NULL;
    return 0;
}

int api_add_phone(struct api_call *call, const char *phone)
{
    char e164[TOCSIN_E164_MAX + 1], why[160];
    size_t n = phone ? strlen(phone) : 0;
    if (n == 0 ||
        tocsin_phone_normalize(phone, n, api_import_region(call), e164, why, sizeof why) != 0) {
        tocsin_http_error(call->req, 400, "invalid", "%s", n ? why : "type the phone number");
        return -1;
    }
    return api_add_param(call, e164) == 0 ? 0 : -1;
}

const char *api_body_text(struct api_call *call, const char *name)
{
    json_t *v = call->body ? json_object_get(call->body, name) : NULL;
    char num[32];
    if (json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v))
        return tocsin_arena_strndup(tocsin_http_arena(call->req), json_string_value(v),
                                    json_string_length(v));
    if (json_is_integer(v))
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(num, sizeof num, "%s", json_is_true(v) ? "true" : "false");
    else
        return NULL; /* absent, another type, or a string with a NUL in it */
    return tocsin_arena_strndup(tocsin_http_arena(call->req), num, strlen(num));
}

void api_respond_csv(struct api_call *call, const char *filename, struct tocsin_dynbuf *b)
{
    char disposition[200];
    snprintf(disposition, sizeof disposition, "attachment; filename=\"%s\"", filename);
    tocsin_http_add_header(call->req, "Content-Disposition", disposition);
    tocsin_http_add_header(call->req, "Cache-Control", "no-store");
    tocsin_http_respond(call->req, 200, "text/csv; charset=utf-8", b->data, b->len);
    tocsin_dynbuf_free(b);
}

void api_db_error(struct api_call *call, const char *what, const char *error)
{
    char reason[600];
    log_warn("api_db_failed", "route=\"%s\" what=%s reason=%s", call->route->pattern, what,
             tocsin_log_quote(reason, sizeof reason, error, strlen(error)));
    tocsin_http_error(call->req, 503, "unavailable", "the database is unavailable; try again");
}

/* A refused statement's answer. The database's text (r->error: a violated
 * constraint's DETAIL holds the whole row, and the message names tables)
 * goes to the log, escaped onto one line; the client gets a plain message
 * and a stable code: "invalid" with the words of a RAISE of our own SQL,
 * written for people; "constraint_violation" (23xxx but a duplicate) and
 * "invalid_value" (22xxx) when the server itself refused; "conflict" for a
 * duplicate; "internal" for the rest. */
static void sql_failed(struct api_call *call, const struct tocsin_db_result *r)
{
    const char *st = r->sqlstate;
    int constraint =
        strcmp(st, "23514") == 0 || strcmp(st, "23502") == 0 || strcmp(st, "23503") == 0;
    int refused = strncmp(st, "22", 2) == 0 || constraint;
    char reason[600];
    if (*st)
        tocsin_log_quote(reason, sizeof reason, r->error, strlen(r->error));
    if (refused && r->raised) {
        tocsin_http_error(call->req, 422, "invalid", "the request was refused: %s", r->raised);
        return;
    }
    if (refused) {
        log_info("api_request_refused", "route=\"%s\" sqlstate=%s reason=%s", call->route->pattern,
                 st, reason);
        if (constraint)
            tocsin_http_error(
                call->req, 422, "constraint_violation",
                "the request was refused: a value is missing, too long or not allowed");
        else
            tocsin_http_error(
                call->req, 422, "invalid_value",
                "the request was refused: a value is not of the expected kind or range");
        return;
    }
    if (strcmp(st, "23505") == 0) {
        tocsin_http_error(call->req, 409, "conflict", "that already exists");
        return;
    }
    if (*st) {
        log_error("api_sql_failed", "route=\"%s\" sqlstate=%s reason=%s", call->route->pattern, st,
                  reason);
        tocsin_http_error(call->req, 500, "internal", "the request failed");
        return;
    }
    api_db_error(call, "query", r->error);
}

static void sql_done(const struct tocsin_db_result *r, void *ctx)
{
    struct api_call *call = ctx;
    if (r->error) {
        sql_failed(call, r);
        return;
    }
    if (PQntuples(r->res) == 0 || PQnfields(r->res) < 2 || PQgetisnull(r->res, 0, API_COL_BODY)) {
        tocsin_http_error(call->req, 404, "not_found", "no such resource");
        return;
    }
    long status = strtol(PQgetvalue(r->res, 0, API_COL_STATUS), NULL, 10);
    if (status < 200 || status > 599)
        status = 500;
    tocsin_http_add_header(call->req, "Cache-Control", "no-store");
    tocsin_http_respond(call->req, (int)status, "application/json",
                        PQgetvalue(r->res, 0, API_COL_BODY),
                        (size_t)PQgetlength(r->res, 0, API_COL_BODY));
}

/* PostgreSQL refuses a parameter the statement never mentions (it cannot
 * infer its type), yet every statement gets org, user and role whether it
 * needs them or not: renumber the ones it uses ($1 $4 -> $1 $2) and pass
 * only those. The SQL is ours (api_sql.h) and has no dollar quoting. */
static const char *compact_params(struct api_call *call, const char *sql, const char **params,
                                  int *nparams)
{
    int used[API_MAX_PARAMS + 1] = {0}, map[API_MAX_PARAMS + 1] = {0};
    size_t len = strlen(sql);
    for (const char *p = strchr(sql, '$'); p; p = strchr(p + 1, '$')) {
        long n = strtol(p + 1, NULL, 10);
        if (n >= 1 && n <= call->nparams)
            used[n] = 1;
    }
    *nparams = 0;
    for (int i = 1; i <= call->nparams; i++)
        if (used[i]) {
            map[i] = ++*nparams;
            params[*nparams - 1] = call->params[i - 1];
        }
    char *out = tocsin_arena_alloc(tocsin_http_arena(call->req), len + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char *end;
        long n = sql[i] == '$' ? strtol(sql + i + 1, &end, 10) : 0;
        if (n >= 1 && n <= call->nparams) {
            o += (size_t)snprintf(out + o, len + 1 - o, "$%d", map[n]); /* never longer */
            i = (size_t)(end - sql);
        } else {
            out[o++] = sql[i++];
        }
    }
    out[o] = '\0';
    return out;
}

void api_run_sql(struct api_call *call, const char *sql)
{
    const char *params[API_MAX_PARAMS];
    int n;
    const char *compact = compact_params(call, sql, params, &n);
    if (!compact) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return;
    }
    if (tocsin_db_query(call->dash->d->db, compact, n, params, sql_done, call) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}

/* --- matching --- */

static int seg_is_id(tocsin_str s)
{
    if (s.len == 0 || s.len > 18 || s.base[0] == '0')
        return 0;
    for (size_t i = 0; i < s.len; i++)
        if (s.base[i] < '0' || s.base[i] > '9')
            return 0;
    return 1;
}

static int seg_is_token(tocsin_str s)
{
    if (s.len == 0 || s.len > 100)
        return 0;
    for (size_t i = 0; i < s.len; i++) {
        char c = s.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* Next '/'-separated segment of *p (advancing it); {NULL,0} at the end. */
static tocsin_str next_seg(tocsin_str *p)
{
    while (p->len && p->base[0] == '/') {
        p->base++;
        p->len--;
    }
    if (!p->len)
        return TSTR_NULL;
    size_t n = 0;
    while (n < p->len && p->base[n] != '/')
        n++;
    tocsin_str s = {p->base, n};
    p->base += n;
    p->len -= n;
    return s;
}

/* 1 if path matches pattern; the values of its ":" parts go to out. */
static int match(const char *pattern, tocsin_str path, tocsin_str *out, int *nout)
{
    tocsin_str pat = tocsin_str_from(pattern);
    *nout = 0;
    if (path.len && path.base[path.len - 1] == '/')
        return 0;
    for (;;) {
        tocsin_str a = next_seg(&pat), b = next_seg(&path);
        if (!a.base || !b.base)
            return !a.base && !b.base;
        if (a.base[0] == ':') {
            int ok = tocsin_str_eq(a, TSTR(":id")) ? seg_is_id(b) : seg_is_token(b);
            if (!ok || *nout == API_MAX_PATH_PARAMS)
                return 0;
            out[(*nout)++] = b;
        } else if (!tocsin_str_eq(a, b)) {
            return 0;
        }
    }
}

/* --- the pipeline --- */

static void run(struct api_call *call, tocsin_str *path_params, int npath)
{
    struct tocsin_arena *a = tocsin_http_arena(call->req);
    call->params[0] = call->org_id;
    call->params[1] = call->user_id;
    call->params[2] = call->role;
    call->nparams = 3;
    for (int i = 0; i < npath; i++)
        call->params[call->nparams++] =
            tocsin_arena_strndup(a, path_params[i].base, path_params[i].len);
    tocsin_str body = tocsin_http_body(call->req);
    if (body.len) {
        char err[200];
        call->body = tocsin_http_json(call->req, err, sizeof err);
        if (!call->body || !json_is_object(call->body)) {
            json_decref(call->body);
            tocsin_http_error(call->req, 400, "invalid_json", "%s",
                              call->body ? "the body must be a JSON object" : err);
            return;
        }
    }
    for (const char *const *f = call->route->fields; f && *f; f++)
        if (api_add_param(call, api_body_text(call, *f)) != 0)
            break;
    if (call->route->handler)
        call->route->handler(call);
    else
        api_run_sql(call, call->route->sql);
    json_decref(call->body); /* handlers copy what they keep */
    call->body = NULL;
}

static int is_state_changing(const struct api_call *call)
{
    return strcmp(call->route->method, "GET") != 0;
}

/* A browser sends Origin on every cross-origin request and on same-origin
 * POSTs; it must be the dashboard's own (as configured, or as the Host
 * header names it behind a proxy). Absent Origin: not a browser's
 * cross-site request (curl, the tests), and the CSRF header still holds. */
static int origin_ok(struct api_call *call)
{
    tocsin_str origin = tocsin_http_header(call->req, "Origin");
    if (!origin.base)
        return 1;
    if (tocsin_str_eq(origin, tocsin_str_from(call->dash->d->cfg.dashboard_url)))
        return 1;
    tocsin_str host = tocsin_http_header(call->req, "Host");
    char own[300];
    for (int https = 0; host.base && host.len < 256 && https < 2; https++) {
        int n = snprintf(own, sizeof own, "%s://%.*s", https ? "https" : "http", (int)host.len,
                         host.base);
        if (n > 0 && tocsin_str_eq(origin, (tocsin_str){own, (size_t)n}))
            return 1;
    }
    return 0;
}

static int csrf_ok(struct api_call *call)
{
    tocsin_str got = tocsin_http_header(call->req, "X-CSRF-Token");
    size_t want = strlen(call->csrf);
    return got.base && got.len == want && want > 0 && tocsin_ct_equal(got.base, call->csrf, want);
}

struct pending {
    struct api_call *call;
    tocsin_str path_params[API_MAX_PATH_PARAMS];
    int npath;
};

static void session_found(const struct tocsin_db_result *r, void *ctx)
{
    struct pending *p = ctx;
    struct api_call *call = p->call;
    if (r->error) {
        api_db_error(call, "session", r->error);
        return;
    }
    if (PQntuples(r->res) != 1) {
        tocsin_http_error(call->req, 401, "unauthenticated", "log in first");
        return;
    }
    static const char *const names[] = {"id",           "org_id",    "user_id",     "role",
                                        "csrf_token",   "stage",     "acting",      "home_org_id",
                                        "home_user_id", "home_role", "phone_region"};
    enum {
        I_ID,
        I_ORG,
        I_USER,
        I_ROLE,
        I_CSRF,
        I_STAGE,
        I_ACTING,
        I_HORG,
        I_HUSER,
        I_HROLE,
        I_REGION
    };
    int col[ARRAY_SIZE(names)];
    if (dash_columns(r->res, names, ARRAY_SIZE(names), col)) {
        tocsin_http_error(call->req, 500, "internal", "the request failed");
        return;
    }
    snprintf(call->session_id, sizeof call->session_id, "%s", PQgetvalue(r->res, 0, col[I_ID]));
    snprintf(call->org_id, sizeof call->org_id, "%s", PQgetvalue(r->res, 0, col[I_ORG]));
    snprintf(call->user_id, sizeof call->user_id, "%s", PQgetvalue(r->res, 0, col[I_USER]));
    snprintf(call->role, sizeof call->role, "%s", PQgetvalue(r->res, 0, col[I_ROLE]));
    snprintf(call->csrf, sizeof call->csrf, "%s", PQgetvalue(r->res, 0, col[I_CSRF]));
    snprintf(call->stage, sizeof call->stage, "%s", PQgetvalue(r->res, 0, col[I_STAGE]));
    snprintf(call->region, sizeof call->region, "%s", PQgetvalue(r->res, 0, col[I_REGION]));
    call->acting = strcmp(PQgetvalue(r->res, 0, col[I_ACTING]), "t") == 0;
    /* Her own account's route: her home org, user and role, acting or not
     * (the acting account has no sessions or authenticator of its own). */
    if (call->route->flags & API_OWN) {
        snprintf(call->org_id, sizeof call->org_id, "%s", PQgetvalue(r->res, 0, col[I_HORG]));
        snprintf(call->user_id, sizeof call->user_id, "%s", PQgetvalue(r->res, 0, col[I_HUSER]));
        snprintf(call->role, sizeof call->role, "%s", PQgetvalue(r->res, 0, col[I_HROLE]));
    }
    call->role_level = strcmp(call->role, "admin") == 0  ? API_ADMIN
                       : strcmp(call->role, "lead") == 0 ? API_LEAD
                                                         : API_VOLUNTEER;
    /* Half logged in: only the routes of the step still owed. */
    if (strcmp(call->stage, "full") != 0 && !(call->route->flags & API_HALF)) {
        if (strcmp(call->stage, "enrol") == 0)
            tocsin_http_error(call->req, 401, "two_factor_enrolment_required",
                              "set up two-factor login first");
        else
            tocsin_http_error(call->req, 401, "two_factor_required",
                              "enter the code from your authenticator app first");
        return;
    }
    if (call->role_level < call->route->min_role) {
        tocsin_http_error(call->req, 403, "forbidden", "your role may not do this");
        return;
    }
    if (is_state_changing(call) && !csrf_ok(call)) {
        tocsin_http_error(call->req, 403, "csrf", "missing or wrong X-CSRF-Token header");
        return;
    }
    if (call->acting && (call->route->flags & API_NOT_ACTING)) {
        tocsin_http_error(call->req, 409, "acting_in_chapter",
                          "you are acting in a chapter: your own account's two-factor login is "
                          "changed only from your own organisation; leave the chapter first");
        return;
    }
    run(call, p->path_params, p->npath);
}

tocsin_str dash_cookie(struct tocsin_http_req *req, const char *cookie_name)
{
    tocsin_str c = tocsin_http_header(req, "Cookie");
    char name[64];
    size_t nl = (size_t)snprintf(name, sizeof name, "%s=", cookie_name);
    for (size_t i = 0; c.base && i + nl <= c.len; i++) {
        if ((i == 0 || c.base[i - 1] == ' ' || c.base[i - 1] == ';') &&
            memcmp(c.base + i, name, nl) == 0) {
            size_t start = i + nl, end = start;
            while (end < c.len && c.base[end] != ';')
                end++;
            return (tocsin_str){c.base + start, end - start};
        }
    }
    return TSTR_NULL;
}

/* The session token from the Cookie header, or {NULL,0}. */
static tocsin_str session_cookie(struct dashboard *dash, struct tocsin_http_req *req)
{
    return dash_cookie(req, api_session_cookie_name(dash));
}

void api_token_hash_hex(const char *token, size_t len, char out[67])
{
    unsigned char hash[32];
    tocsin_sha256(token, len, hash);
    memcpy(out, "\\x", 2);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 + 2 * i, 3, "%02x", hash[i]);
}

static void authenticate(struct pending *p)
{
    struct api_call *call = p->call;
    tocsin_str token = session_cookie(call->dash, call->req);
    if (!token.base || !seg_is_token(token)) {
        tocsin_http_error(call->req, 401, "unauthenticated", "log in first");
        return;
    }
    char hex[67], ttl[16];
    api_token_hash_hex(token.base, token.len, hex);
    char max_age[16];
    snprintf(ttl, sizeof ttl, "%u", call->dash->d->cfg.session_ttl_s);
    snprintf(max_age, sizeof max_age, "%u", call->dash->d->cfg.session_max_age_s);
    const char *params[] = {hex, ttl, max_age};
    if (tocsin_db_query(call->dash->d->db, session_sql, 3, params, session_found, p) != 0)
        tocsin_http_error(call->req, 503, "unavailable", "the dashboard is shutting down");
}

static void dispatch(struct tocsin_http_req *req, void *ctx)
{
    struct dashboard *dash = ctx;
    tocsin_str method = tocsin_http_method(req), path = tocsin_http_path(req);
    tocsin_str params[API_MAX_PATH_PARAMS];
    int nparams = 0, path_known = 0;
    const struct api_route *route = NULL;
    for (size_t i = 0; i < api_routes_count && !route; i++) {
        if (!match(api_routes[i].pattern, path, params, &nparams))
            continue;
        path_known = 1;
        if (tocsin_str_eq(method, tocsin_str_from(api_routes[i].method)))
            route = &api_routes[i];
    }
    dash_security_headers(req);
    if (!route) {
        if (path_known)
            tocsin_http_error(req, 405, "method_not_allowed", "that method is not allowed here");
        else
            tocsin_http_error(req, 404, "not_found", "no such API route");
        return;
    }
    struct tocsin_arena *a = tocsin_http_arena(req);
    struct pending *p = tocsin_arena_alloc(a, sizeof *p);
    struct api_call *call = tocsin_arena_alloc(a, sizeof *call);
    if (!p || !call) {
        tocsin_http_error(req, 500, "internal", "out of memory");
        return;
    }
    memset(call, 0, sizeof *call);
    call->req = req;
    call->dash = dash;
    call->route = route;
    p->call = call;
    p->npath = nparams;
    memcpy(p->path_params, params, sizeof params);
    if (is_state_changing(call) && !origin_ok(call)) {
        tocsin_http_error(req, 403, "origin", "cross-origin requests are refused");
        return;
    }
    if (route->flags & API_PUBLIC) {
        memcpy(call->org_id, "0", 2);
        memcpy(call->user_id, "0", 2);
        memcpy(call->role, "none", 5);
        run(call, p->path_params, p->npath);
        return;
    }
    authenticate(p);
}

void api_register(struct dashboard *dash)
{
    static const char *const methods[] = {"GET", "POST", "DELETE"};
    for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
        tocsin_http_route(dash->d->http, methods[i], "/api/*", dispatch, dash);
}

static int known_name(tocsin_str key, const char *const *known, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (key.len == strlen(known[i]) && memcmp(key.base, known[i], key.len) == 0)
            return 1;
    return 0;
}

int api_query_json_param(struct api_call *call, const char *const *known, size_t n,
                         size_t value_max)
{
    struct tocsin_kv *pairs;
    size_t npairs;
    char err[100];
    int rc = -1;
    if (tocsin_http_form(call->req, 1, &pairs, &npairs, err, sizeof err) != 0) {
        tocsin_http_error(call->req, 400, "invalid", "%s", err);
        return -1;
    }
    json_t *f = json_object();
    if (!f) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return -1;
    }
    for (size_t i = 0; i < npairs; i++) {
        tocsin_str k = pairs[i].key, v = pairs[i].value;
        int shown = (int)(k.len > 20 ? 20 : k.len);
        if (!known_name(k, known, n)) {
            tocsin_http_error(call->req, 400, "invalid", "unknown filter \"%.*s\"", shown, k.base);
            goto out;
        }
        char key[24];
        snprintf(key, sizeof key, "%.*s", (int)k.len, k.base);
        if (json_object_get(f, key)) {
            tocsin_http_error(call->req, 400, "invalid", "invalid %s: given twice", key);
            goto out;
        }
        if (v.len > value_max) {
            tocsin_http_error(call->req, 400, "invalid", "invalid %s: at most %zu bytes", key,
                              value_max);
            goto out;
        }
        json_t *s = json_stringn(v.base, v.len); /* NULL: not UTF-8, or a NUL in it */
        if (!s || json_object_set_new(f, key, s) != 0) {
            tocsin_http_error(call->req, 400, "invalid", "invalid %s: not UTF-8 text", key);
            goto out;
        }
    }
    char *text = json_dumps(f, JSON_COMPACT);
    if (!text) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        goto out;
    }
    rc = api_add_param(call, text) == 0 ? 0 : -1; /* copied into the request's arena */
    free(text);
    if (rc != 0)
        tocsin_http_error(call->req, 500, "internal", "out of memory");
out:
    json_decref(f);
    return rc;
}
