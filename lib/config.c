/* SPDX-License-Identifier: AGPL-3.0-or-later
 * config.c — the TOCSIN_* variables, their defaults, and their validation. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

const struct tocsin_config_var tocsin_config_vars[] = {
    {"TOCSIN_DATABASE_URL", "host=127.0.0.1 port=54329 dbname=tocsin user=tocsin",
     "libpq connection string (key=value or postgresql:// URI)"},
    {"TOCSIN_BIND_ADDR", "127.0.0.1",
     "address the daemons listen on (put TLS in front: ops/proxy)"},
    {"TOCSIN_GATEWAY_PORT", "8080", "tocsin-gateway HTTP port (carrier webhooks)"},
    {"TOCSIN_DASHBOARD_PORT", "8081", "tocsin-dashboard HTTP port (web app and /api/)"},
    {"TOCSIN_WORKER_METRICS_PORT", "8082", "tocsin-worker port for /healthz and /metrics"},
    {"TOCSIN_PUBLIC_URL", "http://127.0.0.1:8080",
     "gateway base URL as carriers call it (webhook signatures, StatusCallback)"},
    {"TOCSIN_DEFAULT_REGION", "US", "region for phone numbers written without +country code"},
    {"TOCSIN_LOG_LEVEL", "info", "debug, info, warn or error"},
    {"TOCSIN_HTTP_MAX_HEADER_BYTES", "16384",
     "request line + headers cap; larger requests get 431"},
    {"TOCSIN_HTTP_MAX_BODY_BYTES", "1048576", "request body cap; larger bodies get 413"},
    {"TOCSIN_HTTP_HEADER_TIMEOUT_MS", "10000", "time allowed to send the request headers"},
    {"TOCSIN_HTTP_BODY_TIMEOUT_MS", "30000", "time allowed to send the request body"},
    {"TOCSIN_HTTP_IDLE_TIMEOUT_MS", "60000", "keep-alive connection idle limit"},
    {"TOCSIN_HTTP_MAX_CONNECTIONS", "10000", "open connections per daemon; more are refused"},
    {"TOCSIN_HTTP_MAX_BUFFERED_BYTES", "268435456",
     "request bytes a daemon holds in memory for all its connections together (unfinished heads"
     " and bodies); a connection that would take more gets 503; at least the body cap plus the "
     "header cap"},
    {"TOCSIN_GATEWAY_RATE_PER_IP", "500",
     "unverified webhooks per second from one address (burst twice that); over it, no sender lookups for it; 0 = no limit"},
    {"TOCSIN_GATEWAY_RATE_GLOBAL", "20000",
     "correctly signed webhooks per second in all (burst twice that; unverified ones have their own bucket); 0 = no limit"},
    {"TOCSIN_TRUSTED_PROXIES", "",
     "CIDRs of proxies whose X-Forwarded-For names the client (IPv4/IPv6, comma-separated; ops/proxy/nginx.conf needs 127.0.0.1/32); unset = none"},
    {"TOCSIN_GATEWAY_SPOOL_DIR", "var/spool",
     "where the gateway spools authentic webhooks while PostgreSQL is unreachable (relative to its "
     "working folder)"},
    {"TOCSIN_GATEWAY_SPOOL_MAX_BYTES", "268435456",
     "spool size bound; webhooks that would exceed it get 503"},
    {"TOCSIN_GATEWAY_JOURNAL_AT", "32",
     "a batch of this many member messages stores its replies in the journal first (0 = never)"},
    {"TOCSIN_GATEWAY_JOURNAL_MAX", "200000",
     "journal backlog above which replies are stored the full way again (backpressure)"},
    {"TOCSIN_DB_POOL_SIZE", "8",
     "database connections per daemon (1-16): concurrent transactions share commits"},
    {"TOCSIN_DB_RECONNECT_MAX_MS", "10000", "upper bound of the database reconnect backoff"},
    {"TOCSIN_WORKER_ID", "", "name this worker gives its claims and leases (default: host:pid)"},
    {"TOCSIN_WORKER_BATCH", "200", "most messages one claim takes for a sender (1-5000)"},
    {"TOCSIN_WORKER_CONCURRENCY", "64", "carrier HTTP requests in flight per worker (1-1000)"},
    {"TOCSIN_WORKER_LEASE_SECONDS", "30",
     "a claimed message's lease; after it a dead worker's messages are swept (5-3600)"},
    {"TOCSIN_WORKER_DISPATCH_LEASE_SECONDS", "10",
     "a worker's hold on a carrier account it dispatches; another takes over after it (2-300)"},
    {"TOCSIN_WORKER_POLL_MS", "1000",
     "polling fallback to LISTEN/NOTIFY for due messages (50-60000)"},
    {"TOCSIN_WORKER_HTTP_TIMEOUT_MS", "10000",
     "carrier request timeout; must be under the lease (1000-120000)"},
    {"TOCSIN_WORKER_FAKE_NOW", "",
     "tests only: the worker's clock starts at this Unix time (quiet hours, due times)"},
    {"TOCSIN_DASHBOARD_STATIC_DIR", "",
     "folder of the dashboard's HTML/CSS/JS (default: dashboard/static of the source tree, /usr/share/tocsin/static in the package)"},
    {"TOCSIN_DASHBOARD_URL", "http://127.0.0.1:8081",
     "dashboard base URL as browsers see it: invite links, Origin checks, Secure cookies when "
     "https"},
    {"TOCSIN_SESSION_TTL_S", "43200",
     "a dashboard session ends after this many seconds without a request"},
    {"TOCSIN_SESSION_MAX_AGE_S", "43200",
     "a dashboard session ends this many seconds after its login, however active (60-31536000)"},
    {"TOCSIN_DASHBOARD_RELEASE_AFTER_S", "3600",
     "a conversation whose volunteer did nothing for this long returns to the pool; 0 = never"},
    {"TOCSIN_DASHBOARD_PASSWORD_CONCURRENCY", "2",
     "argon2id computations (64 MiB each) the dashboard runs at once (1-16)"},
    {"TOCSIN_DASHBOARD_PASSWORD_QUEUE", "64",
     "logins and invite accepts waiting for one, in order; more get 503 with Retry-After (1-10000)"},
    {"TOCSIN_OUTREACH_MIN_SEND_INTERVAL_MS", "300",
     "a volunteer's outreach send this soon after her previous one is refused (429); 0 = never "
     "(0-60000)"},
    {"TOCSIN_SECRET_KEY", "",
     "64 hex digits: key that encrypts carrier credentials at rest; gateway, worker and tocsinctl only (the dashboard refuses to start with it)"},
    {"TOCSIN_SECRET_KEY_FILE", "",
     "file holding TOCSIN_SECRET_KEY instead of the environment; readable by its owner only (ops/run uses var/secret_key)"},
    {"TOCSIN_ALLOW_INSECURE_CARRIER_URLS", "0",
     "1 = allow http:// carrier API base URLs (the carrier simulator, tests); 0 = https:// only"},
    {NULL, NULL, NULL},
};

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

static int config_long(tocsin_getenv_fn fn, void *ctx, const char *name, long min, long max,
                       long *out, char *err, size_t errlen)
{
    const char *v = config_get(fn, ctx, name);
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || end == v || *end != '\0' || n < min || n > max) {
        snprintf(err, errlen, "invalid %s \"%.64s\": must be an integer between %ld and %ld", name,
                 v, min, max);
        return -1;
    }
    *out = n;
    return 0;
}

/* A base URL: http:// or https://, no trailing slash. */
static int config_url(tocsin_getenv_fn fn, void *ctx, const char *name, const char **out, char *err,
                      size_t errlen)
{
    const char *v = config_get(fn, ctx, name);
    size_t n = strlen(v);
    if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) || v[n - 1] == '/') {
        snprintf(err, errlen,
                 "invalid %s \"%.64s\": must start with http:// or https:// and have no trailing slash",
                 name, v);
        return -1;
    }
    *out = v;
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
        snprintf(err, errlen, "invalid TOCSIN_SECRET_KEY_FILE \"%.200s\": %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "invalid TOCSIN_SECRET_KEY_FILE \"%.200s\": must be a regular file readable by its owner only (chmod 600)",
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

int tocsin_config_load_from(struct tocsin_config *cfg, tocsin_getenv_fn fn, void *ctx, char *err,
                            size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    long v;
    cfg->database_url = config_get(fn, ctx, "TOCSIN_DATABASE_URL");
    if (!*cfg->database_url) {
        snprintf(err, errlen, "invalid TOCSIN_DATABASE_URL: must not be empty");
        return -1;
    }
    cfg->bind_addr = config_get(fn, ctx, "TOCSIN_BIND_ADDR");
#define LONG_FIELD(field, name, min, max)                                                          \
    do {                                                                                           \
        if (config_long(fn, ctx, name, min, max, &v, err, errlen))                                 \
            return -1;                                                                             \
        cfg->field = v;                                                                            \
    } while (0)
    LONG_FIELD(gateway_port, "TOCSIN_GATEWAY_PORT", 1, 65535);
    LONG_FIELD(dashboard_port, "TOCSIN_DASHBOARD_PORT", 1, 65535);
    LONG_FIELD(worker_metrics_port, "TOCSIN_WORKER_METRICS_PORT", 1, 65535);
    LONG_FIELD(http_max_header_bytes, "TOCSIN_HTTP_MAX_HEADER_BYTES", 1024, 1048576);
    LONG_FIELD(http_max_body_bytes, "TOCSIN_HTTP_MAX_BODY_BYTES", 1024, 1073741824);
    LONG_FIELD(http_header_timeout_ms, "TOCSIN_HTTP_HEADER_TIMEOUT_MS", 100, 3600000);
    LONG_FIELD(http_body_timeout_ms, "TOCSIN_HTTP_BODY_TIMEOUT_MS", 100, 3600000);
    LONG_FIELD(http_idle_timeout_ms, "TOCSIN_HTTP_IDLE_TIMEOUT_MS", 100, 86400000);
    LONG_FIELD(http_max_connections, "TOCSIN_HTTP_MAX_CONNECTIONS", 1, 1000000);
    LONG_FIELD(http_max_buffered_bytes, "TOCSIN_HTTP_MAX_BUFFERED_BYTES", 1048576, 1L << 40);
    LONG_FIELD(db_reconnect_max_ms, "TOCSIN_DB_RECONNECT_MAX_MS", 100, 600000);
    LONG_FIELD(db_pool_size, "TOCSIN_DB_POOL_SIZE", 1, 16);
    LONG_FIELD(gateway_rate_per_ip, "TOCSIN_GATEWAY_RATE_PER_IP", 0, 1000000);
    LONG_FIELD(gateway_rate_global, "TOCSIN_GATEWAY_RATE_GLOBAL", 0, 10000000);
    LONG_FIELD(worker_batch, "TOCSIN_WORKER_BATCH", 1, 5000);
    LONG_FIELD(worker_concurrency, "TOCSIN_WORKER_CONCURRENCY", 1, 1000);
    LONG_FIELD(worker_lease_seconds, "TOCSIN_WORKER_LEASE_SECONDS", 5, 3600);
    LONG_FIELD(worker_dispatch_lease_seconds, "TOCSIN_WORKER_DISPATCH_LEASE_SECONDS", 2, 300);
    LONG_FIELD(worker_poll_ms, "TOCSIN_WORKER_POLL_MS", 50, 60000);
    LONG_FIELD(worker_http_timeout_ms, "TOCSIN_WORKER_HTTP_TIMEOUT_MS", 1000, 120000);
    LONG_FIELD(session_ttl_s, "TOCSIN_SESSION_TTL_S", 1, 31536000);
    LONG_FIELD(session_max_age_s, "TOCSIN_SESSION_MAX_AGE_S", 60, 31536000);
    LONG_FIELD(dashboard_release_after_s, "TOCSIN_DASHBOARD_RELEASE_AFTER_S", 0, 31536000);
    LONG_FIELD(dashboard_password_concurrency, "TOCSIN_DASHBOARD_PASSWORD_CONCURRENCY", 1, 16);
    LONG_FIELD(dashboard_password_queue, "TOCSIN_DASHBOARD_PASSWORD_QUEUE", 1, 10000);
    LONG_FIELD(outreach_min_send_interval_ms, "TOCSIN_OUTREACH_MIN_SEND_INTERVAL_MS", 0, 60000);
    LONG_FIELD(gateway_journal_at, "TOCSIN_GATEWAY_JOURNAL_AT", 0, 200);
    LONG_FIELD(gateway_journal_max, "TOCSIN_GATEWAY_JOURNAL_MAX", 1000, 100000000);
    LONG_FIELD(gateway_spool_max_bytes, "TOCSIN_GATEWAY_SPOOL_MAX_BYTES", 1048576, 1L << 40);
#undef LONG_FIELD
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
                 "invalid TOCSIN_WORKER_HTTP_TIMEOUT_MS %u: must be shorter than TOCSIN_WORKER_LEASE_SECONDS (%u s)",
                 cfg->worker_http_timeout_ms, cfg->worker_lease_seconds);
        return -1;
    }
    cfg->worker_id = config_get(fn, ctx, "TOCSIN_WORKER_ID");
    if (strlen(cfg->worker_id) > 100) {
        snprintf(err, errlen, "invalid TOCSIN_WORKER_ID: longer than 100 characters");
        return -1;
    }
    const char *fake = config_get(fn, ctx, "TOCSIN_WORKER_FAKE_NOW");
    cfg->worker_fake_now = 0;
    if (*fake) {
        if (config_long(fn, ctx, "TOCSIN_WORKER_FAKE_NOW", 1, 4102444800L, &v, err, errlen))
            return -1;
        cfg->worker_fake_now = v;
    }
    if (tocsin_trusted_proxies_parse(config_get(fn, ctx, "TOCSIN_TRUSTED_PROXIES"),
                                     &cfg->trusted_proxies, err, errlen))
        return -1;
    cfg->gateway_spool_dir = config_get(fn, ctx, "TOCSIN_GATEWAY_SPOOL_DIR");
    if (!*cfg->gateway_spool_dir) {
        snprintf(err, errlen, "invalid TOCSIN_GATEWAY_SPOOL_DIR: must not be empty");
        return -1;
    }

    cfg->dashboard_static_dir = config_get(fn, ctx, "TOCSIN_DASHBOARD_STATIC_DIR");
    if (config_url(fn, ctx, "TOCSIN_PUBLIC_URL", &cfg->public_url, err, errlen) ||
        config_url(fn, ctx, "TOCSIN_DASHBOARD_URL", &cfg->dashboard_url, err, errlen))
        return -1;
    cfg->default_region = config_get(fn, ctx, "TOCSIN_DEFAULT_REGION");
    const char *r = cfg->default_region;
    if (strlen(r) != 2 || r[0] < 'A' || r[0] > 'Z' || r[1] < 'A' || r[1] > 'Z') {
        snprintf(err, errlen,
                 "invalid TOCSIN_DEFAULT_REGION \"%.16s\": must be two upper-case letters (US)", r);
        return -1;
    }

    const char *lv = config_get(fn, ctx, "TOCSIN_LOG_LEVEL");
    if (tocsin_log_level_parse(lv, &cfg->log_level)) {
        snprintf(err, errlen, "invalid TOCSIN_LOG_LEVEL \"%.16s\": must be debug, info, warn or error",
                 lv);
        return -1;
    }

    if (config_long(fn, ctx, "TOCSIN_ALLOW_INSECURE_CARRIER_URLS", 0, 1, &v, err, errlen))
        return -1;
    cfg->allow_insecure_carrier_urls = (int)v;

    const char *key = config_get(fn, ctx, "TOCSIN_SECRET_KEY");
    const char *key_file = config_get(fn, ctx, "TOCSIN_SECRET_KEY_FILE");
    char from_file[80];
    if (*key && *key_file) {
        snprintf(err, errlen, "invalid TOCSIN_SECRET_KEY_FILE: TOCSIN_SECRET_KEY is set too; set one");
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
                  sodium_hex2bin(cfg->secret_key, sizeof cfg->secret_key, key, 64, NULL, &bin_len, NULL) ||
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

int tocsin_config_has_secret_key_setting(void)
{
    const char *a = getenv("TOCSIN_SECRET_KEY"), *b = getenv("TOCSIN_SECRET_KEY_FILE");
    return (a && *a) || (b && *b);
}

void tocsin_config_print_help(void *file)
{
    FILE *f = file;
    fprintf(f, "Environment:\n");
    for (const struct tocsin_config_var *var = tocsin_config_vars; var->name; var++)
        fprintf(f, "  %s (default: %s)\n      %s\n", var->name,
                *var->default_value ? var->default_value : "unset", var->help);
}
