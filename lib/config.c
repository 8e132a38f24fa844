/* SPDX-License-Identifier: AGPL-3.0-or-later
 * config.c — the TOCSIN_* variables as one table of rows, the loading and
 * validation every row gets from its type, the checks that tie rows
 * together, and the help and README table written from the rows. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

/* The rows. FIELD names the struct tocsin_config member a row fills. */
#define FIELD(f) offsetof(struct tocsin_config, f), sizeof(((struct tocsin_config *)0)->f)
/* clang-format off */
#define INT(name, f, lo, hi, def, help) {name, TOCSIN_CFG_INT, lo, hi, def, help, FIELD(f), 0}
#define STR(name, f, lo, hi, def, help) {name, TOCSIN_CFG_STRING, lo, hi, def, help, FIELD(f), 0}
#define URL(name, f, def, help) {name, TOCSIN_CFG_URL, 0, 0, def, help, FIELD(f), 0}
/* clang-format on */

const struct tocsin_config_var tocsin_config_vars[] = {
    STR("TOCSIN_DATABASE_URL", database_url, 1, 0,
        "host=127.0.0.1 port=54329 dbname=tocsin user=tocsin",
        "libpq connection string (key=value or `postgresql://` URI)"),
    STR("TOCSIN_BIND_ADDR", bind_addr, 0, 0, "127.0.0.1",
        "address the daemons listen on; put TLS in front (`ops/proxy/nginx.conf`)"),
    INT("TOCSIN_GATEWAY_PORT", gateway_port, 1, 65535, "8080",
        "tocsin-gateway HTTP port (carrier webhooks)"),
    INT("TOCSIN_DASHBOARD_PORT", dashboard_port, 1, 65535, "8081",
        "tocsin-dashboard HTTP port (web app and `/api/`)"),
    INT("TOCSIN_WORKER_METRICS_PORT", worker_metrics_port, 1, 65535, "8082",
        "tocsin-worker port for `/healthz` and `/metrics`"),
    URL("TOCSIN_PUBLIC_URL", public_url, "http://127.0.0.1:8080",
        "gateway base URL as carriers call it (webhook signatures, StatusCallback)"),
    {"TOCSIN_DEFAULT_REGION", TOCSIN_CFG_REGION, 0, 0, "US",
     "region for phone numbers written without `+country` (imports and their previews, numbers "
     "typed in), the default for orgs without their own (`orgs.phone_region`)",
     FIELD(default_region), 0},
    {"TOCSIN_LOG_LEVEL", TOCSIN_CFG_LOG_LEVEL, 0, 0, "info",
     "the least severe log lines written (to standard error, one JSON object a line)",
     FIELD(log_level), 0},
    INT("TOCSIN_HTTP_MAX_HEADER_BYTES", http_max_header_bytes, 1024, 1048576, "16384",
        "request line + headers cap; larger requests get 431"),
    INT("TOCSIN_HTTP_MAX_BODY_BYTES", http_max_body_bytes, 1024, 1073741824, "1048576",
        "request body cap; larger bodies get 413"),
    INT("TOCSIN_HTTP_HEADER_TIMEOUT_MS", http_header_timeout_ms, 100, 3600000, "10000",
        "time a client has to send the request headers"),
    INT("TOCSIN_HTTP_BODY_TIMEOUT_MS", http_body_timeout_ms, 100, 3600000, "30000",
        "time a client has to send the request body"),
    INT("TOCSIN_HTTP_IDLE_TIMEOUT_MS", http_idle_timeout_ms, 100, 86400000, "60000",
        "keep-alive connection idle limit"),
    INT("TOCSIN_HTTP_MAX_CONNECTIONS", http_max_connections, 1, 1000000, "10000",
        "open connections per daemon; more are refused"),
    INT("TOCSIN_HTTP_MAX_BUFFERED_BYTES", http_max_buffered_bytes, 1048576, 1LL << 40, "268435456",
        "request bytes a daemon holds in memory for all its connections together (unfinished "
        "heads and bodies); a connection that would take more gets 503; at least the body cap "
        "plus the header cap"),
    {"TOCSIN_TRUSTED_PROXIES", TOCSIN_CFG_PROXIES, 0, 0, "",
     "the proxies (IPv4 and IPv6 networks) whose `X-Forwarded-For` names the client; the "
     "header is walked from the right past trusted hops. Behind "
     "`ops/proxy/nginx.conf` set `127.0.0.1/32`; unset, every client is the TCP peer. Used by "
     "every per-address limit and log line of every daemon",
     FIELD(trusted_proxies), 0},
    INT("TOCSIN_GATEWAY_RATE_PER_IP", gateway_rate_per_ip, 0, 1000000, "500",
        "webhooks per second from one address that fail their signature or name no sender "
        "(burst twice that); an address over it gets no more sender lookups (429) until it "
        "cools down, while its correctly signed webhooks still pass; `0` = no limit"),
    INT("TOCSIN_GATEWAY_RATE_GLOBAL", gateway_rate_global, 0, 10000000, "20000",
        "correctly signed webhooks per second in all (burst twice that), then 429; unverified "
        "ones have a separate bucket of the same size, so junk cannot spend it; `0` = no limit"),
    STR("TOCSIN_GATEWAY_SPOOL_DIR", gateway_spool_dir, 1, 0, "var/spool",
        "where the gateway spools authentic webhooks while PostgreSQL is unreachable "
        "(fdatasync'd before the 2xx, replayed in order when it returns); relative to the "
        "gateway's working folder"),
    INT("TOCSIN_GATEWAY_SPOOL_MAX_BYTES", gateway_spool_max_bytes, 1048576, 1LL << 40, "268435456",
        "spool size bound; webhooks that would exceed it get 503"),
    INT("TOCSIN_GATEWAY_JOURNAL_AT", gateway_journal_at, 0, 200, "32",
        "a batch of at least this many member messages (the gateway has fallen behind) commits "
        "its replies to the inbound journal first; 0 = never"),
    INT("TOCSIN_GATEWAY_JOURNAL_MAX", gateway_journal_max, 1000, 100000000, "200000",
        "journal backlog (replies not yet threaded, as this gateway counts them) above which "
        "replies are stored the full way again"),
    INT("TOCSIN_DB_POOL_SIZE", db_pool_size, 1, 16, "8",
        "database connections per daemon; concurrent transactions share their commits' disk "
        "flushes"),
    INT("TOCSIN_DB_RECONNECT_MAX_MS", db_reconnect_max_ms, 100, 600000, "10000",
        "upper bound of the database reconnect backoff"),
    STR("TOCSIN_DASHBOARD_STATIC_DIR", dashboard_static_dir, 0, 0, "",
        "folder of the dashboard's HTML/CSS/JS (default: `dashboard/static` of the source tree; "
        "the package's `/usr/share/tocsin/static`)"),
    STR("TOCSIN_WORKER_ID", worker_id, 0, 100, "",
        "the name a worker gives its claims and leases (default: host:pid)"),
    INT("TOCSIN_WORKER_BATCH", worker_batch, 1, 5000, "200",
        "most messages one claim takes for a sender"),
    INT("TOCSIN_WORKER_CONCURRENCY", worker_concurrency, 1, 1000, "64",
        "carrier HTTP requests in flight per worker"),
    INT("TOCSIN_WORKER_LEASE_SECONDS", worker_lease_seconds, 5, 3600, "30",
        "a claimed message's lease; after it a dead worker's messages are swept: back to "
        "`queued` if never sent, else `unknown`"),
    INT("TOCSIN_WORKER_DISPATCH_LEASE_SECONDS", worker_dispatch_lease_seconds, 2, 300, "10",
        "how long a worker holds a carrier account it dispatches; another worker takes over "
        "after it lapses"),
    INT("TOCSIN_WORKER_POLL_MS", worker_poll_ms, 50, 60000, "1000",
        "polling fallback to LISTEN/NOTIFY for due messages"),
    INT("TOCSIN_WORKER_HTTP_TIMEOUT_MS", worker_http_timeout_ms, 1000, 120000, "10000",
        "carrier request timeout; must be shorter than the lease"),
    {"TOCSIN_WORKER_FAKE_NOW", TOCSIN_CFG_INT, 1, 4102444800LL, "",
     "tests only: the Unix time the worker's clock starts at (quiet hours, due times)",
     FIELD(worker_fake_now), 1},
    URL("TOCSIN_DASHBOARD_URL", dashboard_url, "http://127.0.0.1:8081",
        "dashboard base URL as browsers see it: invite links, the Origin check, and, when it is "
        "`https://`, a `Secure` session cookie named `__Host-tocsin_session` (the scheme comes "
        "from this setting only, never from `X-Forwarded-Proto`)"),
    INT("TOCSIN_SESSION_TTL_S", session_ttl_s, 1, 31536000, "43200",
        "a dashboard session ends after this many seconds without a request (sliding)"),
    INT("TOCSIN_SESSION_MAX_AGE_S", session_max_age_s, 60, 31536000, "43200",
        "a dashboard session ends this many seconds after its login however active "
        "(absolute); its open event stream closes too"),
    INT("TOCSIN_DASHBOARD_RELEASE_AFTER_S", dashboard_release_after_s, 0, 31536000, "3600",
        "a conversation whose volunteer did nothing for this long goes back to the pool; `0` = "
        "never; an org's own `release_after_minutes` (its Settings page) wins"),
    INT("TOCSIN_OUTREACH_MIN_SEND_INTERVAL_MS", outreach_min_send_interval_ms, 0, 60000, "300",
        "an outreach send that arrives less than this long after the same volunteer's previous "
        "one is refused with 429 `too_soon` and audited (`outreach.send_refused`): one message "
        "per click, even when a double click lands on the next contact; `0` = no pacing"),
    INT("TOCSIN_DASHBOARD_PASSWORD_CONCURRENCY", dashboard_password_concurrency, 1, 16, "2",
        "argon2id computations (64 MiB each) the dashboard runs at once, for logins and invite "
        "accepts"),
    INT("TOCSIN_DASHBOARD_PASSWORD_QUEUE", dashboard_password_queue, 1, 10000, "64",
        "password checks waiting for one of those, served first come first served; more get 503 "
        "with `Retry-After`"),
    {"TOCSIN_SECRET_KEY", TOCSIN_CFG_SECRET, 0, 0, "",
     "the key that encrypts carrier credentials at rest, each bound to its "
     "sender row. Give it only to the gateway, the worker and `tocsinctl` (`ops/daemon-exec` "
     "does); the dashboard refuses to start with it or with `TOCSIN_SECRET_KEY_FILE`",
     0, 0, 0},
    {"TOCSIN_SECRET_KEY_FILE", TOCSIN_CFG_SECRET, 0, 0, "",
     "a file holding the key instead of the environment (first line, 64 hex digits); must be "
     "readable by its owner only, and not set together with `TOCSIN_SECRET_KEY` (`ops/run` "
     "uses `var/secret_key`)",
     0, 0, 0},
    INT("TOCSIN_ALLOW_INSECURE_CARRIER_URLS", allow_insecure_carrier_urls, 0, 1, "0",
        "`1` lets a sender's carrier API base URL be `http://` (the carrier simulator, tests; "
        "`ops/run` and the test suite set it); otherwise the worker refuses such a sender and "
        "`tocsinctl sender add` and the dashboard's Senders page refuse the URL"),
    INT("TOCSIN_SSO_ALLOW_HTTP", sso_allow_http, 0, 1, "0",
        "`1` lets an org's single sign-on issuer, and the endpoints its discovery document "
        "names, be `http://` on a loopback address (`127.0.0.1`, `[::1]`, `localhost`): tests "
        "and development only. Otherwise they must be `https://`"),
    {NULL, 0, 0, 0, NULL, NULL, 0, 0, 0},
};

#undef INT
#undef STR
#undef URL
#undef FIELD

static const char *config_get(tocsin_getenv_fn fn, void *ctx, const char *name)
{
    const char *v = fn(name, ctx);
    if (v)
        return v;
    for (const struct tocsin_config_var *var = tocsin_config_vars; var->name; var++)
        if (strcmp(var->name, name) == 0)
            return var->default_value;
    return "";
}

/* Integers land in 4- or 8-byte fields (int, unsigned, long, size_t,
 * unsigned long long); ranges are never negative, so the same bits serve
 * signed and unsigned fields alike. */
static void store_int(void *field, size_t size, long long n)
{
    if (size == sizeof(uint32_t)) {
        uint32_t v = (uint32_t)n;
        memcpy(field, &v, sizeof v);
    } else {
        uint64_t v = (uint64_t)n;
        memcpy(field, &v, sizeof v);
    }
}

/* Parses one variable's text v into its field; 0, or -1 with err set. */
static int config_parse(const struct tocsin_config_var *var, const char *v,
                        struct tocsin_config *cfg, char *err, size_t errlen)
{
    void *field = (char *)cfg + var->offset;
    size_t n = strlen(v);
    switch (var->type) {
    case TOCSIN_CFG_STRING:
        if (var->min > 0 && n == 0) {
            snprintf(err, errlen, "invalid %s: must not be empty", var->name);
            return -1;
        }
        if (var->max > 0 && n > (size_t)var->max) {
            snprintf(err, errlen, "invalid %s: longer than %lld characters", var->name, var->max);
            return -1;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    case TOCSIN_CFG_INT: {
        if (n == 0 && var->unset_is_zero)
            return 0;
        char *end;
        errno = 0;
        long long i = strtoll(v, &end, 10);
        if (errno || end == v || *end != '\0' || i < var->min || i > var->max) {
            snprintf(err, errlen, "invalid %s \"%.64s\": must be an integer between %lld and %lld",
                     var->name, v, var->min, var->max);
            return -1;
        }
        store_int(field, var->size, i);
        return 0;
    }
    case TOCSIN_CFG_URL:
        if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || v[n - 1] == '/') {
            snprintf(err, errlen,
                     "invalid %s \"%.64s\": must start with http:// or https:// and have no "
                     "trailing slash",
                     var->name, v);
            return -1;
        }
        memcpy(field, &v, sizeof v);
        return 0;
    case TOCSIN_CFG_REGION:
        if (n != 2 || v[0] < 'A' || v[0] > 'Z' || v[1] < 'A' || v[1] > 'Z') {
            snprintf(err, errlen, "invalid %s \"%.16s\": must be two upper-case letters (US)",
                     var->name, v);
            return -1;
        }
        /* Whether a country has this code is tocsin_config_check_region's:
         * asking libphonenumber loads its metadata (about 23 MB), which a
         * process that never reads a typed number (the worker) must not. */
        memcpy(field, &v, sizeof v);
        return 0;
    case TOCSIN_CFG_LOG_LEVEL:
        if (tocsin_log_level_parse(v, field)) {
            snprintf(err, errlen, "invalid %s \"%.16s\": must be debug, info, warn or error",
                     var->name, v);
            return -1;
        }
        return 0;
    case TOCSIN_CFG_PROXIES:
        return tocsin_trusted_proxies_parse(v, field, err, errlen);
    case TOCSIN_CFG_SECRET:
        return 0; /* config_secret_key, once both variables are known */
    }
    return 0;
}

/* The key file's first line (64 hex digits, a newline allowed). It must
 * be a regular file that neither its group nor others may read or write:
 * the point of the file is that only the daemons' user sees the key. */
static int read_key_file(const char *path, char *out, size_t size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    struct stat st;
    if (!f) {
        snprintf(err, errlen, "invalid TOCSIN_SECRET_KEY_FILE \"%.200s\": %s", path,
                 strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "invalid TOCSIN_SECRET_KEY_FILE \"%.200s\": must be a regular file readable by "
                 "its owner only (chmod 600)",
                 path);
        fclose(f);
        return -1;
    }
    if (!fgets(out, (int)size, f))
        out[0] = '\0';
    fclose(f);
    out[strcspn(out, "\r\n")] = '\0';
    return 0;
}

static const char *env_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

int tocsin_config_load(struct tocsin_config *cfg, char *err, size_t errlen)
{
    return tocsin_config_load_from(cfg, env_getenv, NULL, err, errlen);
}

/* TOCSIN_SECRET_KEY or the first line of TOCSIN_SECRET_KEY_FILE (not
 * both): 64 hex digits into cfg->secret_key. */
static int config_secret_key(struct tocsin_config *cfg, tocsin_getenv_fn fn, void *ctx, char *err,
                             size_t errlen)
{
    const char *key = config_get(fn, ctx, "TOCSIN_SECRET_KEY");
    const char *key_file = config_get(fn, ctx, "TOCSIN_SECRET_KEY_FILE");
    char from_file[80];
    if (*key && *key_file) {
        snprintf(err, errlen,
                 "invalid TOCSIN_SECRET_KEY_FILE: TOCSIN_SECRET_KEY is set too; set one");
        return -1;
    }
    if (*key_file) {
        if (read_key_file(key_file, from_file, sizeof from_file, err, errlen))
            return -1;
        key = from_file;
    }
    if (*key) {
        size_t bin_len = 0;
        int bad = strlen(key) != 64 ||
                  sodium_hex2bin(cfg->secret_key, sizeof cfg->secret_key, key, 64, NULL, &bin_len,
                                 NULL) ||
                  bin_len != 32;
        sodium_memzero(from_file, sizeof from_file);
        if (bad) {
            snprintf(err, errlen, "invalid %s: must be 64 hex digits (32 bytes)",
                     *key_file ? "TOCSIN_SECRET_KEY_FILE's content" : "TOCSIN_SECRET_KEY");
            return -1;
        }
        cfg->has_secret_key = 1;
    }
    return 0;
}

int tocsin_config_load_from(struct tocsin_config *cfg, tocsin_getenv_fn fn, void *ctx, char *err,
                            size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (const struct tocsin_config_var *var = tocsin_config_vars; var->name; var++)
        if (config_parse(var, config_get(fn, ctx, var->name), cfg, err, errlen))
            return -1;
    /* What no single row can say: limits that depend on each other. */
    if (cfg->http_max_buffered_bytes < cfg->http_max_body_bytes + cfg->http_max_header_bytes) {
        snprintf(err, errlen,
                 "invalid TOCSIN_HTTP_MAX_BUFFERED_BYTES %llu: must be at least "
                 "TOCSIN_HTTP_MAX_BODY_BYTES"
                 " + TOCSIN_HTTP_MAX_HEADER_BYTES (%zu), or no request of the largest size fits",
                 cfg->http_max_buffered_bytes,
                 cfg->http_max_body_bytes + cfg->http_max_header_bytes);
        return -1;
    }
    if (cfg->worker_http_timeout_ms / 1000 >= cfg->worker_lease_seconds) {
        snprintf(err, errlen,
                 "invalid TOCSIN_WORKER_HTTP_TIMEOUT_MS %u: must be shorter than "
                 "TOCSIN_WORKER_LEASE_SECONDS (%u s)",
                 cfg->worker_http_timeout_ms, cfg->worker_lease_seconds);
        return -1;
    }
    return config_secret_key(cfg, fn, ctx, err, errlen);
}

int tocsin_config_has_secret_key_setting(void)
{
    const char *a = getenv("TOCSIN_SECRET_KEY"), *b = getenv("TOCSIN_SECRET_KEY_FILE");
    return (a && *a) || (b && *b);
}

/* What a variable accepts, in words (the README's "accepts" column and
 * --help's first line). */
static void config_accepts(const struct tocsin_config_var *var, char *out, size_t size)
{
    switch (var->type) {
    case TOCSIN_CFG_STRING:
        if (var->max > 0)
            snprintf(out, size, "at most %lld characters", var->max);
        else
            snprintf(out, size, "%s", var->min > 0 ? "text, not empty" : "text");
        return;
    case TOCSIN_CFG_INT:
        if (var->max >= (1LL << 30) && (var->max & (var->max - 1)) == 0)
            snprintf(out, size, "%lld to 2^%d", var->min,
                     __builtin_ctzll((unsigned long long)var->max));
        else
            snprintf(out, size, "%lld to %lld", var->min, var->max);
        return;
    case TOCSIN_CFG_URL:
        snprintf(out, size, "`http://` or `https://` URL, no trailing slash");
        return;
    case TOCSIN_CFG_REGION:
        snprintf(out, size, "a country's two upper-case letters");
        return;
    case TOCSIN_CFG_LOG_LEVEL:
        snprintf(out, size, "`debug`, `info`, `warn` or `error`");
        return;
    case TOCSIN_CFG_PROXIES:
        snprintf(out, size, "CIDRs, comma-separated");
        return;
    case TOCSIN_CFG_SECRET:
        snprintf(out, size, "%s", strstr(var->name, "_FILE") ? "a file path" : "64 hex digits");
        return;
    }
    out[0] = '\0';
}

/* Writes text wrapped to lines of at most width columns (a word longer
 * than that gets a line of its own), each line after indent spaces. */
static void print_wrapped(FILE *f, const char *text, int indent, int width)
{
    const char *p = text;
    while (*p) {
        int len = (int)strlen(p);
        int cut = len;
        if (len > width - indent) {
            cut = width - indent;
            while (cut > 0 && p[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = (int)strcspn(p, " ");
        }
        fprintf(f, "%*s%.*s\n", indent, "", cut, p);
        p += cut;
        while (*p == ' ')
            p++;
    }
}

void tocsin_config_print_help(void *file)
{
    FILE *f = file;
    char accepts[96];
    fprintf(f, "Environment:\n");
    for (const struct tocsin_config_var *var = tocsin_config_vars; var->name; var++) {
        config_accepts(var, accepts, sizeof accepts);
        fprintf(f, "  %s (default: %s; %s)\n", var->name,
                *var->default_value ? var->default_value : "unset", accepts);
        print_wrapped(f, var->help, 6, 79);
    }
}

/* A table cell: a '|' would end it early, so it is escaped. */
static void print_cell(FILE *f, const char *text)
{
    for (const char *p = text; *p; p++) {
        if (*p == '|')
            fputc('\\', f);
        fputc(*p, f);
    }
}

void tocsin_config_print_markdown(void *file)
{
    FILE *f = file;
    char accepts[96];
    fprintf(f, "| variable | default | accepts | meaning |\n|---|---|---|---|\n");
    for (const struct tocsin_config_var *var = tocsin_config_vars; var->name; var++) {
        config_accepts(var, accepts, sizeof accepts);
        fprintf(f, "| `%s` | ", var->name);
        if (*var->default_value) {
            fputc('`', f);
            print_cell(f, var->default_value);
            fputc('`', f);
        } else {
            fputs("unset", f);
        }
        fputs(" | ", f);
        print_cell(f, accepts);
        fputs(" | ", f);
        print_cell(f, var->help);
        fputs(" |\n", f);
    }
}
