/* SPDX-License-Identifier: AGPL-3.0-or-later
 * log.c — key=value event lines on stderr, one write(2) per line so lines
 * from several processes sharing a terminal or file never interleave. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_component = "tocsin";
static enum tocsin_log_level log_level = TOCSIN_LOG_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void tocsin_log_init(const char *component, enum tocsin_log_level level)
{
    log_component = component;
    log_level = level;
}

void tocsin_log_set_level(enum tocsin_log_level level)
{
    log_level = level;
}

int tocsin_log_enabled(enum tocsin_log_level level)
{
    return level >= log_level;
}

int tocsin_log_level_parse(const char *s, enum tocsin_log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum tocsin_log_level)i;
            return 0;
        }
    }
    return -1;
}

void tocsin_log(enum tocsin_log_level level, const char *event, const char *fmt, ...)
{
    if (level < log_level)
        return;
    char line[2048];
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line,
                     "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s component=%s event=%s",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000000, level_names[level], log_component, event);
    if (n < 0)
        return;
    size_t used = (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    if (fmt && *fmt && used < sizeof line - 2) {
        char pairs[2048];
        va_list ap;
        va_start(ap, fmt);
        int m = vsnprintf(pairs, sizeof pairs, fmt, ap);
        va_end(ap);
        size_t plen = m < 0 ? 0 : (size_t)m < sizeof pairs ? (size_t)m : sizeof pairs - 1;
        line[used++] = ' ';
        /* A caller that forgot to quote a value must still not be able
         * to start a new line (or rewrite this one on a terminal). */
        for (size_t i = 0; i < plen && used < sizeof line - 2; i++) {
            unsigned char c = (unsigned char)pairs[i];
            if (c >= 0x20 && c != 0x7f) {
                line[used++] = (char)c;
            } else if (used + 4 < sizeof line - 1) {
                snprintf(line + used, 5, "\\x%02x", c);
                used += 4;
            } else {
                break;
            }
        }
    }
    if (used > sizeof line - 2)
        used = sizeof line - 2;
    line[used++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, used);
    (void)w;
}

static int log_safe_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("-_.:/+@,%", c) != NULL;
}

const char *tocsin_log_quote(char *buf, size_t bufsize, const char *s, size_t len)
{
    if (bufsize < 8) {
        if (bufsize)
            buf[0] = '\0';
        return buf;
    }
    int bare = len > 0;
    for (size_t i = 0; i < len && bare; i++)
        bare = log_safe_char((unsigned char)s[i]) && s[i] != '\0';
    size_t o = 0, limit = bufsize - 5; /* room for ...", NUL */
    if (!bare)
        buf[o++] = '"';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        char tmp[5];
        size_t tl;
        if (bare || (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)) {
            tmp[0] = (char)c;
            tl = 1;
        } else if (c == '"' || c == '\\') {
            tmp[0] = '\\';
            tmp[1] = (char)c;
            tl = 2;
        } else if (c == '\n') {
            memcpy(tmp, "\\n", 2);
            tl = 2;
        } else {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            tl = 4;
        }
        if (o + tl > limit) {
            memcpy(buf + o, "...", 3);
            o += 3;
            break;
        }
        memcpy(buf + o, tmp, tl);
        o += tl;
    }
    if (!bare)
        buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

const char *tocsin_log_qn(const char *s, size_t len)
{
    static _Thread_local char bufs[8][TOCSIN_LOG_Q_MAX];
    static _Thread_local unsigned next;
    char *buf = bufs[next++ % 8];
    if (!s)
        return tocsin_log_quote(buf, TOCSIN_LOG_Q_MAX, "", 0);
    return tocsin_log_quote(buf, TOCSIN_LOG_Q_MAX, s, len);
}

const char *tocsin_log_q(const char *s)
{
    return tocsin_log_qn(s, s ? strlen(s) : 0);
}
