/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_config.c — defaults, overrides and rejection of bad TOCSIN_* values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

struct fake_env {
    const char *pairs[16][2];
};

static const char *fake_getenv(const char *name, void *ctx)
{
    struct fake_env *env = ctx;
    for (int i = 0; i < 16 && env->pairs[i][0]; i++)
        if (strcmp(env->pairs[i][0], name) == 0)
            return env->pairs[i][1];
    return NULL;
}

static void test_defaults(void **state)
{
    (void)state;
    struct fake_env env = {{{NULL, NULL}}};
    struct tocsin_config cfg;
    char err[256] = "";
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &env, err, sizeof err), 0);
    assert_int_equal(cfg.gateway_port, 8080);
    assert_int_equal(cfg.dashboard_port, 8081);
    assert_int_equal(cfg.worker_metrics_port, 8082);
    assert_string_equal(cfg.bind_addr, "127.0.0.1");
    assert_string_equal(cfg.default_region, "US");
    assert_int_equal(cfg.http_max_body_bytes, 1048576);
    assert_int_equal(cfg.http_max_buffered_bytes, 268435456);
    assert_int_equal(cfg.log_level, TOCSIN_LOG_INFO);
    assert_int_equal(cfg.has_secret_key, 0);
    assert_int_equal(cfg.session_max_age_s, 43200);
    assert_int_equal(cfg.allow_insecure_carrier_urls, 0);
}

static void test_max_buffered_bytes(void **state)
{
    (void)state;
    struct tocsin_config cfg;
    char err[256] = "";
    struct fake_env ok = {{{"TOCSIN_HTTP_MAX_BUFFERED_BYTES", "2097152"}, {NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &ok, err, sizeof err), 0);
    assert_int_equal(cfg.http_max_buffered_bytes, 2097152);
    struct fake_env tiny = {{{"TOCSIN_HTTP_MAX_BUFFERED_BYTES", "4096"}, {NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &tiny, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid TOCSIN_HTTP_MAX_BUFFERED_BYTES \"4096\""));
    struct fake_env below_body = {{{"TOCSIN_HTTP_MAX_BUFFERED_BYTES", "1048576"}, {NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &below_body, err, sizeof err), -1);
    assert_non_null(strstr(err, "must be at least TOCSIN_HTTP_MAX_BODY_BYTES"));
}

static void test_overrides(void **state)
{
    (void)state;
    struct fake_env env = {
        {{"TOCSIN_GATEWAY_PORT", "9000"},
         {"TOCSIN_LOG_LEVEL", "debug"},
         {"TOCSIN_SECRET_KEY", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"},
         {NULL, NULL}}};
    struct tocsin_config cfg;
    char err[256] = "";
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &env, err, sizeof err), 0);
    assert_int_equal(cfg.gateway_port, 9000);
    assert_int_equal(cfg.log_level, TOCSIN_LOG_DEBUG);
    assert_int_equal(cfg.has_secret_key, 1);
    assert_int_equal(cfg.secret_key[31], 0x1f);
}

static void expect_rejected(const char *name, const char *value, const char *needle)
{
    struct fake_env env = {{{name, value}, {NULL, NULL}}};
    struct tocsin_config cfg;
    char err[256] = "";
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, needle));
}

static void test_rejects_bad_values(void **state)
{
    (void)state;
    expect_rejected("TOCSIN_GATEWAY_PORT", "99999", "invalid TOCSIN_GATEWAY_PORT");
    expect_rejected("TOCSIN_GATEWAY_PORT", "80x", "invalid TOCSIN_GATEWAY_PORT");
    expect_rejected("TOCSIN_GATEWAY_PORT", "", "invalid TOCSIN_GATEWAY_PORT");
    expect_rejected("TOCSIN_LOG_LEVEL", "loud", "invalid TOCSIN_LOG_LEVEL");
    expect_rejected("TOCSIN_PUBLIC_URL", "ftp://x", "invalid TOCSIN_PUBLIC_URL");
    expect_rejected("TOCSIN_PUBLIC_URL", "https://x/", "invalid TOCSIN_PUBLIC_URL");
    expect_rejected("TOCSIN_DEFAULT_REGION", "usa", "invalid TOCSIN_DEFAULT_REGION");
    expect_rejected("TOCSIN_DEFAULT_REGION", "ZZ",
                    "invalid TOCSIN_DEFAULT_REGION \"ZZ\": no country has this code");
    expect_rejected("TOCSIN_SECRET_KEY", "abcd", "invalid TOCSIN_SECRET_KEY");
    expect_rejected("TOCSIN_HTTP_MAX_BODY_BYTES", "-1", "invalid TOCSIN_HTTP_MAX_BODY_BYTES");
    expect_rejected("TOCSIN_DATABASE_URL", "", "invalid TOCSIN_DATABASE_URL");
    expect_rejected("TOCSIN_SESSION_MAX_AGE_S", "10", "invalid TOCSIN_SESSION_MAX_AGE_S");
    expect_rejected("TOCSIN_ALLOW_INSECURE_CARRIER_URLS", "yes",
                    "invalid TOCSIN_ALLOW_INSECURE_CARRIER_URLS");
    expect_rejected("TOCSIN_SECRET_KEY_FILE", "/nonexistent/key", "invalid TOCSIN_SECRET_KEY_FILE");
}

/* The key from a file: read when only its owner may read it, refused
 * otherwise, and refused together with TOCSIN_SECRET_KEY. */
static void test_secret_key_file(void **state)
{
    (void)state;
    char path[] = "/tmp/tocsin_keyXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char key[] = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n";
    assert_int_equal(write(fd, key, sizeof key - 1), (int)(sizeof key - 1));
    close(fd);
    struct fake_env env = {{{"TOCSIN_SECRET_KEY_FILE", path}, {NULL, NULL}}};
    struct tocsin_config cfg;
    char err[256] = "";
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &env, err, sizeof err), 0);
    assert_int_equal(cfg.has_secret_key, 1);
    assert_int_equal(cfg.secret_key[31], 0x1f);
    assert_int_equal(chmod(path, 0640), 0);
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "readable by its owner only"));
    assert_int_equal(chmod(path, 0600), 0);
    struct fake_env both = {
        {{"TOCSIN_SECRET_KEY_FILE", path}, {"TOCSIN_SECRET_KEY", key}, {NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &both, err, sizeof err), -1);
    assert_non_null(strstr(err, "set one"));
    unlink(path);
}

static void test_every_var_documented(void **state)
{
    (void)state;
    int n = 0;
    for (const struct tocsin_config_var *v = tocsin_config_vars; v->name; v++, n++) {
        assert_true(strncmp(v->name, "TOCSIN_", 7) == 0);
        assert_true(strlen(v->help) > 10);
    }
    assert_true(n >= 16);
}

/* Keeps the README's configuration table true: every variable is in it. */
static void test_readme_documents_every_var(void **state)
{
    (void)state;
    const char *src = getenv("TOCSIN_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof path, "%s/README.md", src);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char readme[65536];
    size_t n = fread(readme, 1, sizeof readme - 1, f);
    fclose(f);
    readme[n] = '\0';
    for (const struct tocsin_config_var *v = tocsin_config_vars; v->name; v++) {
        char needle[128];
        snprintf(needle, sizeof needle, "| `%s` |", v->name);
        if (!strstr(readme, needle))
            fail_msg("README.md does not document %s", v->name);
    }
}

/* The rows' own invariants: ranges that a field can hold (integers are
 * stored by size, never negative), a default inside its range, a field
 * for every row but the key's. */
static void test_rows_are_consistent(void **state)
{
    (void)state;
    for (const struct tocsin_config_var *v = tocsin_config_vars; v->name; v++) {
        if (v->type == TOCSIN_CFG_SECRET) {
            assert_int_equal(v->size, 0);
            continue;
        }
        assert_true(v->size > 0);
        assert_true(v->offset + v->size <= sizeof(struct tocsin_config));
        if (v->type != TOCSIN_CFG_INT)
            continue;
        assert_true(v->size == 4 || v->size == 8);
        assert_true(v->min >= 0 && v->min <= v->max);
        if (v->size == 4 && v->max > 2147483647LL)
            fail_msg("%s: %lld does not fit its field", v->name, v->max);
        if (*v->default_value) {
            long long d = strtoll(v->default_value, NULL, 10);
            if (d < v->min || d > v->max)
                fail_msg("%s: default %s outside %lld..%lld", v->name, v->default_value, v->min,
                         v->max);
        } else {
            assert_true(v->unset_is_zero);
        }
    }
}

/* The edges a row's type gives: both ends of a range pass, one past them
 * fails; an optional integer left empty is 0 but "0" is refused; a
 * string's length bound. */
static void test_row_edges(void **state)
{
    (void)state;
    struct tocsin_config cfg;
    char err[256] = "";
    struct fake_env lo = {
        {{"TOCSIN_WORKER_BATCH", "1"}, {"TOCSIN_DB_POOL_SIZE", "16"}, {NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &lo, err, sizeof err), 0);
    assert_int_equal(cfg.worker_batch, 1);
    assert_int_equal(cfg.db_pool_size, 16);
    expect_rejected("TOCSIN_WORKER_BATCH", "0",
                    "invalid TOCSIN_WORKER_BATCH \"0\": must be an integer between 1 and 5000");
    expect_rejected("TOCSIN_DB_POOL_SIZE", "17", "between 1 and 16");
    struct fake_env big = {{{"TOCSIN_GATEWAY_SPOOL_MAX_BYTES", "1099511627776"}, {NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &big, err, sizeof err), 0);
    assert_true(cfg.gateway_spool_max_bytes == 1099511627776ULL);
    expect_rejected("TOCSIN_GATEWAY_SPOOL_MAX_BYTES", "1099511627777",
                    "invalid TOCSIN_GATEWAY_SPOOL_MAX_BYTES");
    struct fake_env fake = {{{"TOCSIN_WORKER_FAKE_NOW", "1700000000"}, {NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &fake, err, sizeof err), 0);
    assert_int_equal(cfg.worker_fake_now, 1700000000L);
    struct fake_env none = {{{NULL, NULL}}};
    assert_int_equal(tocsin_config_load_from(&cfg, fake_getenv, &none, err, sizeof err), 0);
    assert_int_equal(cfg.worker_fake_now, 0);
    expect_rejected("TOCSIN_WORKER_FAKE_NOW", "0", "invalid TOCSIN_WORKER_FAKE_NOW");
    char long_id[102];
    memset(long_id, 'w', 101);
    long_id[101] = '\0';
    expect_rejected("TOCSIN_WORKER_ID", long_id,
                    "invalid TOCSIN_WORKER_ID: longer than 100 characters");
    expect_rejected("TOCSIN_GATEWAY_SPOOL_DIR", "",
                    "invalid TOCSIN_GATEWAY_SPOOL_DIR: must not be empty");
    expect_rejected("TOCSIN_TRUSTED_PROXIES", "10.0.0.0/99", "TOCSIN_TRUSTED_PROXIES");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_overrides),
        cmocka_unit_test(test_max_buffered_bytes),
        cmocka_unit_test(test_rejects_bad_values),
        cmocka_unit_test(test_secret_key_file),
        cmocka_unit_test(test_every_var_documented),
        cmocka_unit_test(test_readme_documents_every_var),
        cmocka_unit_test(test_rows_are_consistent),
        cmocka_unit_test(test_row_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
