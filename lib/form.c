/* SPDX-License-Identifier: AGPL-3.0-or-later
 * form.c — application/x-www-form-urlencoded: decoding into (key, value)
 * pairs in an arena (strict: a bad %-escape is an error, at most 256
 * fields), encoding for outgoing requests, and request bodies as JSON
 * through jansson with a nesting bound. */
#include "http_internal.h"
#include "form.h"

#include <stdio.h>
#include <string.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) (percent escapes, '+' as space) into the arena. */
static int form_decode(struct tocsin_arena *a, const char *s, size_t n, tocsin_str *out)
{
    char *d = tocsin_arena_alloc(a, n + 1);
    if (!d)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[o++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n)
                return -2;
            int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
            if (hi < 0 || lo < 0)
                return -2;
            d[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    *out = (tocsin_str){d, o};
    return 0;
}

int tocsin_form_decode(struct tocsin_arena *a, tocsin_str in, struct tocsin_kv **pairs, size_t *n,
                       char *err, size_t errlen)
{
    size_t count = 1;
    for (size_t i = 0; i < in.len; i++)
        count += in.base[i] == '&';
    if (count > TOCSIN_FORM_MAX_FIELDS) {
        snprintf(err, errlen, "invalid form: more than %d fields", TOCSIN_FORM_MAX_FIELDS);
        return -1;
    }
    struct tocsin_kv *kv = tocsin_arena_alloc(a, count * sizeof *kv);
    if (!kv) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t k = 0;
    const char *p = in.base, *end = in.base + in.len;
    while (in.len && p <= end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *stop = amp ? amp : end;
        if (stop > p) {
            const char *eq = memchr(p, '=', (size_t)(stop - p));
            const char *kend = eq ? eq : stop;
            int rc = form_decode(a, p, (size_t)(kend - p), &kv[k].key);
            if (rc == 0)
                rc = eq ? form_decode(a, eq + 1, (size_t)(stop - eq - 1), &kv[k].value)
                        : (kv[k].value = TSTR(""), 0);
            if (rc == -2) {
                snprintf(err, errlen, "invalid form: bad percent-escape in field %zu", k + 1);
                return -1;
            }
            if (rc) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            k++;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    *pairs = kv;
    *n = k;
    return 0;
}

int tocsin_http_form(struct tocsin_http_req *r, int from_query, struct tocsin_kv **pairs, size_t *n,
                     char *err, size_t errlen)
{
    return tocsin_form_decode(&r->arena, from_query ? r->query : r->body, pairs, n, err, errlen);
}

tocsin_str tocsin_form_get(const struct tocsin_kv *pairs, size_t n, const char *key)
{
    tocsin_str k = tocsin_str_from(key);
    for (size_t i = 0; i < n; i++)
        if (tocsin_str_eq(pairs[i].key, k))
            return pairs[i].value;
    return TSTR_NULL;
}

/* The deepest nesting of arrays and objects in text, strings skipped;
 * stops counting past limit. */
static int json_depth_exceeds(const char *text, size_t len, int limit)
{
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = text[i];
        if (in_string) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > limit)
                return 1;
        } else if (ch == ']' || ch == '}') {
            depth--;
        }
    }
    return 0;
}

json_t *tocsin_http_json(struct tocsin_http_req *r, char *err, size_t errlen)
{
    json_error_t e;
    if (r->body.len == 0) {
        snprintf(err, errlen, "invalid JSON: the body is empty");
        return NULL;
    }
    if (json_depth_exceeds(r->body.base, r->body.len, TOCSIN_HTTP_JSON_MAX_DEPTH)) {
        snprintf(err, errlen, "invalid JSON: nested deeper than %d levels",
                 TOCSIN_HTTP_JSON_MAX_DEPTH);
        return NULL;
    }
    json_t *j = json_loadb(r->body.base, r->body.len, JSON_REJECT_DUPLICATES, &e);
    if (!j)
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", e.line, e.column, e.text);
    return j;
}

static size_t form_put(char *buf, size_t cap, size_t used, tocsin_str s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.base[i];
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == '~';
        if (used + (plain ? 1 : 3) >= cap)
            return (size_t)-1;
        if (plain) {
            buf[used++] = (char)c;
        } else {
            buf[used++] = '%';
            buf[used++] = hex[c >> 4];
            buf[used++] = hex[c & 15];
        }
    }
    return used;
}

size_t tocsin_form_append(char *buf, size_t cap, size_t used, tocsin_str key, tocsin_str value)
{
    size_t n = used;
    if (n) {
        if (n + 1 >= cap)
            return (size_t)-1;
        buf[n++] = '&';
    }
    n = form_put(buf, cap, n, key);
    if (n == (size_t)-1 || n + 1 >= cap)
        return (size_t)-1;
    buf[n++] = '=';
    n = form_put(buf, cap, n, value);
    if (n == (size_t)-1)
        return (size_t)-1;
    buf[n] = '\0';
    return n;
}
