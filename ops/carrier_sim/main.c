/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsin-carrier-sim: a loopback carrier for the demo, the tests
 * and the benchmarks. Speaks Twilio's Messages API, posts signed status
 * callbacks and member messages, misbehaves on demand, and counts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "crypto.h"
#include "daemon.h"
#include "log.h"
#include "sim.h"

#define DEMO_ACCOUNT "AC7c0c51a0000000000000000000000000"
#define DEMO_TOKEN "7c0c51a0000000000000000000000000"
#define DEMO_TELNYX_KEY "KEY_tocsin_demo"
/* A fixed seed, so the demo's Telnyx public key is known in advance. */
#define DEMO_TELNYX_SEED "7c0c51a07c0c51a07c0c51a07c0c51a07c0c51a07c0c51a07c0c51a07c0c51a0"

static struct sim sim; /* static: everything stays reachable until exit */
static uv_signal_t sigterm, sigint;

static void usage(FILE *f)
{
    fprintf(f, "Usage: tocsin-carrier-sim [OPTIONS]\n\n"
               "A carrier on loopback: Twilio's Messages API at its real paths, signed status\n"
               "callbacks, members texting the short code, injected faults, and counts.\n"
               "Control API and phones under /sim/ (docs/carrier-sim.md).\n\n"
               "  --bind ADDR            listen address (default 127.0.0.1)\n"
               "  --port N               listen port (default 8090)\n"
               "  --twilio SID:TOKEN     an account it accepts (repeatable; default the demo\n"
               "                         account " DEMO_ACCOUNT ")\n"
               "  --telnyx KEY           a Telnyx API key it accepts (repeatable; default\n"
               "                         " DEMO_TELNYX_KEY ")\n"
               "  --telnyx-seed HEX      64 hex digits: seed of the Ed25519 key that signs Telnyx\n"
               "                         webhooks (default a fixed demo seed; the public key is\n"
               "                         at GET /sim/telnyx/public-key)\n"
               "  --gateway URL          where member messages go (default http://127.0.0.1:8080)\n"
               "  --receipt-delay-ms N   between accepting, 'sent' and 'delivered' (default 200)\n"
               "  --fail-prefix +1555    recipients starting so end 'undelivered' (repeatable)\n"
               "  --faults JSON          initial faults, as for POST /sim/faults, e.g.\n"
               "                         '{\"p429\": 0.1, \"ptimeout\": 0.01}'\n"
               "  --benchmark            answer as fast as it can: no callbacks, no faults\n"
               "  --help\n");
}

static void on_signal(uv_signal_t *s, int signum)
{
    (void)s;
    log_info("shutdown", "signal=%d", signum);
    /* A simulator holds requests open on purpose (timeouts): do not wait. */
    uv_stop(sim.loop);
}

static int add_account(const char *spec)
{
    const char *colon = strchr(spec, ':');
    if (sim.naccounts == SIM_MAX_ACCOUNTS || !colon || colon - spec != 34 ||
        strncmp(spec, "AC", 2) || strlen(colon + 1) < 8 || strlen(colon + 1) > 64) {
        fprintf(
            stderr,
            "tocsin-carrier-sim: invalid --twilio \"%s\": want AC + 32 hex digits, ':', a token\n",
            spec);
        return -1;
    }
    struct sim_account *a = &sim.accounts[sim.naccounts++];
    memcpy(a->sid, spec, 34);
    a->sid[34] = '\0';
    snprintf(a->token, sizeof a->token, "%s", colon + 1);
    return 0;
}

int main(int argc, char **argv)
{
    const char *bind = "127.0.0.1";
    const char *seed_hex = DEMO_TELNYX_SEED;
    long port = 8090;
    sim.receipt_delay_ms = 200;
    snprintf(sim.gateway_url, sizeof sim.gateway_url, "http://127.0.0.1:8080");
    sim_faults_default(&sim.faults);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--benchmark")) {
            sim.benchmark = 1;
        } else if (!v) {
            fprintf(stderr,
                    "tocsin-carrier-sim: unknown option or missing value \"%s\" (see --help)\n", a);
            return 2;
        } else if (!strcmp(a, "--bind")) {
            bind = v, i++;
        } else if (!strcmp(a, "--port")) {
            port = strtol(v, &end, 10), i++;
            if (*end || port < 1 || port > 65535) {
                fprintf(stderr, "tocsin-carrier-sim: invalid --port \"%s\"\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--twilio")) {
            if (add_account(v))
                return 2;
            i++;
        } else if (!strcmp(a, "--telnyx")) {
            if (sim.ntelnyx == SIM_MAX_ACCOUNTS || strlen(v) < 8 || strlen(v) > 128) {
                fprintf(stderr, "tocsin-carrier-sim: invalid --telnyx key: 8 to 128 characters\n");
                return 2;
            }
            snprintf(sim.telnyx_keys[sim.ntelnyx++], sizeof sim.telnyx_keys[0], "%s", v), i++;
        } else if (!strcmp(a, "--telnyx-seed")) {
            seed_hex = v, i++;
        } else if (!strcmp(a, "--gateway")) {
            if (strncmp(v, "http://", 7) && strncmp(v, "https://", 8)) {
                fprintf(stderr,
                        "tocsin-carrier-sim: invalid --gateway \"%s\": want http(s)://...\n", v);
                return 2;
            }
            snprintf(sim.gateway_url, sizeof sim.gateway_url, "%s", v), i++;
        } else if (!strcmp(a, "--receipt-delay-ms")) {
            long ms = strtol(v, &end, 10);
            if (*end || ms < 0 || ms > 600000) {
                fprintf(stderr, "tocsin-carrier-sim: invalid --receipt-delay-ms \"%s\"\n", v);
                return 2;
            }
            sim.receipt_delay_ms = (unsigned)ms, i++;
        } else if (!strcmp(a, "--faults")) {
            json_error_t je;
            json_t *f = json_loads(v, 0, &je);
            char ferr[200];
            if (!f || sim_faults_apply(&sim.faults, f, ferr, sizeof ferr)) {
                fprintf(stderr, "tocsin-carrier-sim: invalid --faults: %s\n", f ? ferr : je.text);
                json_decref(f);
                return 2;
            }
            json_decref(f);
            i++;
        } else if (!strcmp(a, "--fail-prefix")) {
            json_array_append_new(sim.faults.fail_prefixes, json_string(v)), i++;
        } else {
            fprintf(stderr, "tocsin-carrier-sim: unknown option \"%s\" (see --help)\n", a);
            return 2;
        }
    }
    if (sim.naccounts == 0)
        add_account(DEMO_ACCOUNT ":" DEMO_TOKEN);
    if (sim.ntelnyx == 0)
        snprintf(sim.telnyx_keys[sim.ntelnyx++], sizeof sim.telnyx_keys[0], "%s", DEMO_TELNYX_KEY);
    unsigned char seed[32];
    size_t seed_len = 0;
    if (tocsin_crypto_init() || strlen(seed_hex) != 64 ||
        sodium_hex2bin(seed, sizeof seed, seed_hex, 64, NULL, &seed_len, NULL) || seed_len != 32) {
        fprintf(stderr, "tocsin-carrier-sim: invalid --telnyx-seed: want 64 hex digits\n");
        return 2;
    }
    crypto_sign_seed_keypair(sim.telnyx_pk, sim.telnyx_sk, seed);
    tocsin_log_init("carrier-sim", sim.benchmark ? TOCSIN_LOG_WARN : TOCSIN_LOG_INFO);
    if (tocsin_ignore_sigpipe()) {
        log_error("startup_failed", "reason=\"could not ignore SIGPIPE\"");
        return 1;
    }
    sim.loop = uv_default_loop();
    struct tocsin_http_options o;
    tocsin_http_options_from_config(&o, NULL);
    o.access_log = !sim.benchmark;
    sim.http = tocsin_http_server_new(sim.loop, &o);
    sim.client = tocsin_http_client_new(sim.loop, 64);
    if (!sim.http || !sim.client)
        return 1;
    tocsin_http_add_standard_routes(sim.http, NULL, NULL);
    sim_twilio_routes(&sim);
    sim_telnyx_routes(&sim);
    sim_control_routes(&sim);
    sim_phones_routes(&sim);
    if (tocsin_http_listen(sim.http, bind, (int)port))
        return 1;
    uv_signal_init(sim.loop, &sigterm);
    uv_signal_init(sim.loop, &sigint);
    uv_signal_start(&sigterm, on_signal, SIGTERM);
    uv_signal_start(&sigint, on_signal, SIGINT);
    log_info("started", "port=%ld accounts=%d gateway=%s benchmark=%d", port, sim.naccounts,
             sim.gateway_url, sim.benchmark);
    uv_run(sim.loop, UV_RUN_DEFAULT);
    log_info("stopped", NULL);
    return 0;
}
