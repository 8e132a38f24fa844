/* SPDX-License-Identifier: AGPL-3.0-or-later
 * metrics.h — a process-wide Prometheus registry of counters and gauges,
 * rendered in text exposition format 0.0.4 for GET /metrics. Metrics are
 * static structs registered once; updating one is a plain increment (every
 * daemon is one thread). */
#ifndef TOCSIN_METRICS_H
#define TOCSIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

enum tocsin_metric_type { TOCSIN_COUNTER, TOCSIN_GAUGE };

struct tocsin_metric {
    const char *name; /* "tocsin_http_requests_total" */
    const char *help;
    const char *labels; /* NULL, or a label set such as code="2xx" */
    enum tocsin_metric_type type;
    double value;
    double (*read)(void *ctx); /* gauges read on render, or NULL */
    void *read_ctx;
    struct tocsin_metric *next; /* registry link */
};

#define TOCSIN_METRIC_COUNTER(n, h, l)                                                             \
    {                                                                                              \
        (n), (h), (l), TOCSIN_COUNTER, 0, NULL, NULL, NULL                                         \
    }
#define TOCSIN_METRIC_GAUGE(n, h, l)                                                               \
    {                                                                                              \
        (n), (h), (l), TOCSIN_GAUGE, 0, NULL, NULL, NULL                                           \
    }

/* Adds m to the registry (idempotent, constant time). Every daemon
 * registers its metrics at startup, so /metrics lists each one (at 0)
 * before its first event; updating one never touches the registry. m must
 * outlive the process's use of the registry (static storage). Metrics
 * sharing a name must be registered one after another so their HELP/TYPE
 * lines print once. */
void tocsin_metric_register(struct tocsin_metric *m);

static inline void tocsin_metric_add(struct tocsin_metric *m, double v)
{
    m->value += v;
}

static inline void tocsin_metric_set(struct tocsin_metric *m, double v)
{
    m->value = v;
}

/* Renders every registered metric into buf; returns the length written, or
 * the length needed (like snprintf) if bufsize is too small. */
size_t tocsin_metrics_render(char *buf, size_t bufsize);

#endif
