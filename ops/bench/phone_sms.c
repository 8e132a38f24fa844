/* SPDX-License-Identifier: AGPL-3.0-or-later
 * phone_sms.c — cost of lib/phone (full parse of formatted input vs the
 * E.164 fast path) and of lib/sms segment counting, each next to a bound
 * measured in the same run: for numbers, a plain syntactic E.164 check;
 * for bodies, one strlen-style pass over the same bytes.
 * Usage: bench_phone_sms [N]  (default 200000 numbers) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "phone.h"
#include "sms.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile size_t sink;

static double bench_numbers(char (*nums)[32], int n, int mode)
{
    struct tocsin_phone p;
    char err[128];
    double t0 = now();
    for (int i = 0; i < n; i++) {
        size_t len = strlen(nums[i]);
        char e164[TOCSIN_E164_MAX + 1];
        if (mode == 0)
            sink += (size_t)tocsin_phone_looks_e164(nums[i], len);
        else if (mode == 2) {
            if (tocsin_phone_normalize(nums[i], len, "US", e164, err, sizeof err) == 0)
                sink += (size_t)e164[3];
        } else if (tocsin_phone_parse(nums[i], len, "US", &p, err, sizeof err) == 0)
            sink += (size_t)p.e164[3];
    }
    return (now() - t0) / n * 1e6;
}

static double bench_body(const char *body, int reps, int bound)
{
    size_t len = strlen(body);
    struct tocsin_sms_info info;
    double t0 = now();
    for (int i = 0; i < reps; i++) {
        if (bound) {
            size_t x = 0;
            for (size_t k = 0; k < len; k++) /* the floor: touch every byte once */
                x += (unsigned char)body[k] >= 0x80;
            sink += x;
        } else {
            tocsin_sms_count(body, len, &info);
            sink += info.segments;
        }
    }
    return (now() - t0) / reps * 1e9;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 200000;
    char(*formatted)[32] = malloc((size_t)n * 32), (*e164)[32] = malloc((size_t)n * 32);
    static const char *areas[] = {"415", "212", "305", "646", "213", "312", "617", "202"};
    for (int i = 0; i < n; i++) {
        const char *a = areas[i % 8];
        int line = (i * 7919) % 10000;
        snprintf(formatted[i], 32, "(%s) 555-%04d", a, line);
        snprintf(e164[i], 32, "+1%s555%04d", a, line);
    }
    struct tocsin_phone warm;
    char err[128];
    tocsin_phone_parse("+14155552671", 12, "US", &warm, err, sizeof err); /* load metadata */
    double bound = bench_numbers(e164, n, 0);
    double slow = bench_numbers(formatted, n, 1);
    double fast = bench_numbers(e164, n, 1);
    double norm_fmt = bench_numbers(formatted, n, 2);
    double norm = bench_numbers(e164, n, 2);
    printf("phone (%d numbers)\n", n);
    printf("  syntactic E.164 check (bound): %8.3f us/number\n", bound);
    printf("  full parse, formatted input:   %8.3f us/number  (%.0f numbers/s)\n", slow,
           1e6 / slow);
    printf("  full parse, E.164 input:       %8.3f us/number  (%.0f numbers/s)\n", fast,
           1e6 / fast);
    printf("  normalize, formatted input:    %8.3f us/number  (%.0f numbers/s)\n", norm_fmt,
           1e6 / norm_fmt);
    printf(
        "  normalize, E.164 (fast path):  %8.3f us/number  (%.0f numbers/s)  %.1fx faster than a full parse\n",
        norm, 1e6 / norm, slow / norm);

    char ascii[161], gsm[301], ucs[400];
    memset(ascii, 'a', 160);
    ascii[160] = '\0';
    size_t o = 0;
    for (int i = 0; o < 290; i++)
        o += (size_t)snprintf(gsm + o, sizeof gsm - o, "%s",
                              i % 10 == 0  ? "{"
                              : i % 7 == 0 ? "\xe2\x82\xac"
                                           : "b");
    o = 0;
    for (int i = 0; o < 380; i++)
        o += (size_t)snprintf(ucs + o, sizeof ucs - o, "%s",
                              i % 20 == 0 ? "\xf0\x9f\x98\x80" : "\xd0\xb6");
    const char *names[] = {"160-char ASCII", "~290-byte GSM-7 with extensions",
                           "~380-byte UCS-2 with emoji"};
    const char *bodies[] = {ascii, gsm, ucs};
    printf("segment counting (1M messages each)\n");
    for (int b = 0; b < 3; b++) {
        double floor = bench_body(bodies[b], 1000000, 1);
        double t = bench_body(bodies[b], 1000000, 0);
        printf("  %-34s %7.1f ns/message (bound: one byte pass %6.1f ns)\n", names[b], t, floor);
    }
    free(formatted);
    free(e164);
    return 0;
}
