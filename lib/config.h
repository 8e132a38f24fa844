/* SPDX-License-Identifier: AGPL-3.0-or-later
 * config.h — Tocsin's configuration: TOCSIN_* environment variables, one
 * table of rows (tocsin_config_vars[]) that loading, validation, --help
 * and the README table are all written from. Loading validates every
 * value and reports the first bad one; it never exits the process. */
#ifndef TOCSIN_CONFIG_H
#define TOCSIN_CONFIG_H

#include <stddef.h>

#include "client_addr.h"
#include "log.h"

/* How a variable's text becomes its field, and what it may be. */
enum tocsin_config_type {
    TOCSIN_CFG_STRING,    /* const char *; min 1 = must not be empty, max = longest (0: any) */
    TOCSIN_CFG_INT,       /* a decimal integer in [min, max] into a 4- or 8-byte field */
    TOCSIN_CFG_URL,       /* const char *: http:// or https://, no trailing slash */
    TOCSIN_CFG_REGION,    /* const char *: two upper-case letters */
    TOCSIN_CFG_LOG_LEVEL, /* enum tocsin_log_level */
    TOCSIN_CFG_PROXIES,   /* struct tocsin_trusted_proxies (client_addr.h) */
    TOCSIN_CFG_SECRET,    /* the carrier-credential key: read after every other variable */
};

/* One row per variable: its name, type and range, its default, what it
 * is for, and the field of struct tocsin_config it fills. Loading,
 * validation, every binary's --help and the README's configuration table
 * (--config-markdown) are all written from these rows. */
struct tocsin_config_var {
    const char *name;
    enum tocsin_config_type type;
    long long min, max;        /* see the type; integers are never negative */
    const char *default_value; /* "" means unset */
    const char *help;          /* plain text; `code` in backquotes */
    size_t offset, size;       /* the field (size 0: no field of its own) */
    int unset_is_zero;         /* integers: "" leaves the field 0 */
};

/* Every variable Tocsin reads, terminated by an entry whose name is NULL. */
extern const struct tocsin_config_var tocsin_config_vars[];

struct tocsin_config {
    const char *database_url; /* libpq connection string */
    const char *bind_addr;
    int gateway_port;
    int dashboard_port;
    int worker_metrics_port;
    const char *public_url;     /* gateway URL as carriers see it, no trailing slash */
    const char *default_region; /* ISO 3166 alpha-2 for phone parsing */
    enum tocsin_log_level log_level;
    size_t http_max_header_bytes;
    size_t http_max_body_bytes;
    unsigned http_header_timeout_ms;
    unsigned http_body_timeout_ms;
    unsigned http_idle_timeout_ms;
    unsigned http_max_connections;
    unsigned long long http_max_buffered_bytes; /* request bytes held for all connections */
    unsigned db_reconnect_max_ms;
    unsigned db_pool_size;
    unsigned gateway_rate_per_ip;                  /* webhooks/s from one address, 0 = unlimited */
    unsigned gateway_rate_global;                  /* webhooks/s in all, 0 = unlimited */
    struct tocsin_trusted_proxies trusted_proxies; /* whose X-Forwarded-For is believed */
    const char *worker_id;                         /* "" = host:pid */
    unsigned worker_batch;                         /* claim size */
    unsigned worker_concurrency;                   /* HTTP requests in flight */
    unsigned worker_lease_seconds;                 /* message lease */
    unsigned worker_dispatch_lease_seconds;
    unsigned worker_poll_ms;
    unsigned worker_http_timeout_ms;
    long worker_fake_now;          /* 0, or the Unix time the worker's clock starts at (tests) */
    const char *gateway_spool_dir; /* spool while the database is unreachable */
    unsigned long long gateway_spool_max_bytes;
    unsigned gateway_journal_at;      /* batch size that journals its replies; 0 = never */
    unsigned gateway_journal_max;     /* journal backlog above which replies are applied at once */
    const char *dashboard_static_dir; /* "" = the build's default */
    const char *dashboard_url;        /* as browsers see it, no trailing slash */
    unsigned session_ttl_s;           /* idle lifetime of a dashboard session */
    unsigned session_max_age_s;       /* absolute lifetime of a dashboard session */
    unsigned dashboard_release_after_s;      /* auto-release of idle assignments, 0 = never */
    unsigned dashboard_password_concurrency; /* argon2 computations at once */
    unsigned dashboard_password_queue;       /* waiting for one; more get 503 */
    unsigned outreach_min_send_interval_ms;  /* least gap between a volunteer's sends, 0 = any */
    int allow_insecure_carrier_urls;         /* http:// carrier base URLs (simulator, tests) */
    int sso_allow_http;                      /* http:// loopback SSO issuers (tests, dev) */
    int has_secret_key;                      /* from TOCSIN_SECRET_KEY or TOCSIN_SECRET_KEY_FILE */
    unsigned char secret_key[32];            /* seals carrier credentials (crypto.h) */
};

/* Looks a variable up; returns NULL when unset. */
typedef const char *(*tocsin_getenv_fn)(const char *name, void *ctx);

/* Fills cfg from the process environment. Returns 0, or -1 with a message
 * like `invalid TOCSIN_GATEWAY_PORT "99999": must be between 1 and 65535`
 * in err. The strings in cfg point into the environment or static defaults. */
int tocsin_config_load(struct tocsin_config *cfg, char *err, size_t errlen);

/* For a process that reads numbers people typed (the dashboard, tocsinctl):
 * 0 when TOCSIN_DEFAULT_REGION names a country libphonenumber knows, else
 * -1 with a message in err. Load checks only its form (two upper-case
 * letters), so the worker never loads libphonenumber's metadata. */
int tocsin_config_check_region(const struct tocsin_config *cfg, char *err, size_t errlen);

/* Same, reading variables through getenv_fn (tests). */
int tocsin_config_load_from(struct tocsin_config *cfg, tocsin_getenv_fn getenv_fn, void *ctx,
                            char *err, size_t errlen);

/* 1 when the process environment names a carrier-credential key
 * (TOCSIN_SECRET_KEY or TOCSIN_SECRET_KEY_FILE): the dashboard refuses to
 * start then (daemon.h, refuses_secret_key). */
int tocsin_config_has_secret_key_setting(void);

/* Prints "  NAME (default: X; RANGE)" and the help, wrapped, for every
 * variable. */
void tocsin_config_print_help(void *file /* FILE* */);

/* Prints the README's configuration table (a Markdown table: variable,
 * default, accepted values, meaning) for every variable. */
void tocsin_config_print_markdown(void *file /* FILE* */);

#endif
