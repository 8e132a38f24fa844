/* SPDX-License-Identifier: AGPL-3.0-or-later
 * log.h — one line per event on stderr:
 *   2026-11-22T17:40:00.123Z level=info component=gateway event=listening port=8080
 * Callers pass the event name and a printf format of further key=value pairs.
 * Values that may hold spaces or quotes must go through tocsin_log_quote()
 * or tocsin_log_q(); every value from a request, a carrier, a file or a
 * database error does. Whatever callers pass, a control character (CR,
 * LF...) in the pairs is written as \xNN: one event is always one line.
 * Owns the process-wide level and component name; not thread-safe by design
 * (every daemon is one libuv loop). */
#ifndef TOCSIN_LOG_H
#define TOCSIN_LOG_H

#include <stddef.h>

enum tocsin_log_level {
    TOCSIN_LOG_DEBUG = 0,
    TOCSIN_LOG_INFO = 1,
    TOCSIN_LOG_WARN = 2,
    TOCSIN_LOG_ERROR = 3,
};

/* Sets the component name printed on every line (not copied: pass a literal). */
void tocsin_log_init(const char *component, enum tocsin_log_level level);
void tocsin_log_set_level(enum tocsin_log_level level);
int tocsin_log_enabled(enum tocsin_log_level level);

/* Parses "debug", "info", "warn", "error"; returns 0 or -1 for anything else. */
int tocsin_log_level_parse(const char *s, enum tocsin_log_level *out);

/* fmt holds the key=value pairs after event=...; it may be NULL. */
void tocsin_log(enum tocsin_log_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes s (len bytes) as a log value into buf: bare if it is made of safe
 * characters, otherwise double-quoted with \" \\ \n and \xNN escapes; always
 * NUL-terminates, truncating (with "...") to fit. Returns buf. */
const char *tocsin_log_quote(char *buf, size_t bufsize, const char *s, size_t len);

/* tocsin_log_quote() into one of 8 per-thread buffers of
 * TOCSIN_LOG_Q_MAX bytes: for a printf argument, as in
 *   log_warn("webhook_refused", "to=%s", tocsin_log_qn(to.base, to.len));
 * The result is valid until the 8th next call on the same thread, so one
 * log line may quote up to 8 values. s may be NULL (printed as ""). */
#define TOCSIN_LOG_Q_MAX 512
const char *tocsin_log_qn(const char *s, size_t len);
const char *tocsin_log_q(const char *s); /* NUL-terminated */

#define log_debug(ev, ...) tocsin_log(TOCSIN_LOG_DEBUG, ev, __VA_ARGS__)
#define log_info(ev, ...) tocsin_log(TOCSIN_LOG_INFO, ev, __VA_ARGS__)
#define log_warn(ev, ...) tocsin_log(TOCSIN_LOG_WARN, ev, __VA_ARGS__)
#define log_error(ev, ...) tocsin_log(TOCSIN_LOG_ERROR, ev, __VA_ARGS__)

#endif
