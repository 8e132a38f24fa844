/* SPDX-License-Identifier: AGPL-3.0-or-later
 * metrics.c — the metric registry and its text rendering. */
#include "metrics.h"

#include <stdio.h>
#include <string.h>

static struct tocsin_metric *registry_head, *registry_tail;

void tocsin_metric_register(struct tocsin_metric *m)
{
    if (m->next || m == registry_tail) /* linked already */
        return;
    if (registry_tail)
        registry_tail->next = m;
    else
        registry_head = m;
    registry_tail = m;
}

size_t tocsin_metrics_render(char *buf, size_t bufsize)
{
    size_t used = 0;
    const char *prev_name = NULL;
    for (struct tocsin_metric *m = registry_head; m; m = m->next) {
        double v = m->read ? m->read(m->read_ctx) : m->value;
        char line[512];
        int n = 0;
        if (!prev_name || strcmp(prev_name, m->name) != 0)
            n = snprintf(line, sizeof line, "# HELP %s %s\n# TYPE %s %s\n", m->name, m->help,
                         m->name, m->type == TOCSIN_COUNTER ? "counter" : "gauge");
        if (n < 0)
            n = 0;
        int k = snprintf(line + n, sizeof line - (size_t)n, "%s%s%s%s %.17g\n", m->name,
                         m->labels ? "{" : "", m->labels ? m->labels : "", m->labels ? "}" : "", v);
        if (k > 0)
            n += k;
        if ((size_t)n >= sizeof line)
            n = (int)sizeof line - 1;
        if (used + (size_t)n < bufsize)
            memcpy(buf + used, line, (size_t)n);
        used += (size_t)n;
        prev_name = m->name;
    }
    if (used < bufsize)
        buf[used] = '\0';
    else if (bufsize)
        buf[bufsize - 1] = '\0';
    return used;
}
