/* SPDX-License-Identifier: AGPL-3.0-or-later
 * json_scan.c — a validating single pass over JSON text that picks out one
 * string member (see json_scan.h). A recursive descent with an explicit
 * depth bound; it allocates nothing. */
#include "json_scan.h"

#include <string.h>

struct scan {
    const char *p, *end;
    const char *const *path;
    size_t npath;
    const char *found; /* the wanted string's bytes (between the quotes) */
    size_t found_len;
    int found_escaped;
    int found_kind; /* 0 none, 1 string, 2 another kind of value */
};

static void skip_ws(struct scan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A string at s->p (on its opening quote): its raw bytes in start and n. */
static int scan_string(struct scan *s, const char **start, size_t *n, int *escaped)
{
    if (s->p >= s->end || *s->p != '"')
        return -1;
    const char *b = ++s->p;
    *escaped = 0;
    while (s->p < s->end) {
        unsigned char c = (unsigned char)*s->p;
        if (c == '"') {
            *start = b;
            *n = (size_t)(s->p - b);
            s->p++;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c == '\\') {
            *escaped = 1;
            if (++s->p >= s->end)
                return -1;
            char e = *s->p;
            if (e == 'u') {
                if (s->end - s->p < 5 || !is_hex(s->p[1]) || !is_hex(s->p[2]) || !is_hex(s->p[3]) ||
                    !is_hex(s->p[4]))
                    return -1;
                s->p += 4;
            } else if (!strchr("\"\\/bfnrt", e) || e == '\0') {
                return -1;
            }
        }
        s->p++;
    }
    return -1;
}

static int scan_number(struct scan *s)
{
    const char *p = s->p;
    if (p < s->end && *p == '-')
        p++;
    if (p >= s->end)
        return -1;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return -1;
    }
    if (p < s->end && *p == '.') {
        if (++p >= s->end || *p < '0' || *p > '9')
            return -1;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < s->end && (*p == 'e' || *p == 'E')) {
        if (++p < s->end && (*p == '+' || *p == '-'))
            p++;
        if (p >= s->end || *p < '0' || *p > '9')
            return -1;
        while (p < s->end && *p >= '0' && *p <= '9')
            p++;
    }
    s->p = p;
    return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return -1;
    s->p += n;
    return 0;
}

/* A value at s->p. on_path: the members followed so far match the first
 * level entries of the path (level == npath: this value is the wanted one). */
static int scan_value(struct scan *s, size_t level, int on_path)
{
    if (level > TOCSIN_JSON_SCAN_MAX_DEPTH)
        return -1;
    skip_ws(s);
    if (s->p >= s->end)
        return -1;
    int wanted = on_path && level == s->npath;
    char c = *s->p;
    if (c == '"') {
        const char *b;
        size_t n;
        int esc;
        if (scan_string(s, &b, &n, &esc) != 0)
            return -1;
        if (wanted) {
            s->found_kind = 1;
            s->found = b;
            s->found_len = n;
            s->found_escaped = esc;
        }
        return 0;
    }
    if (wanted)
        s->found_kind = 2;
    if (c == '{') {
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == '}') {
            s->p++;
            return 0;
        }
        for (;;) {
            skip_ws(s);
            const char *key;
            size_t klen;
            int esc;
            if (scan_string(s, &key, &klen, &esc) != 0)
                return -1;
            skip_ws(s);
            if (s->p >= s->end || *s->p != ':')
                return -1;
            s->p++;
            int next_on_path = on_path && level < s->npath && !esc &&
                               strlen(s->path[level]) == klen &&
                               memcmp(s->path[level], key, klen) == 0;
            if (scan_value(s, level + 1, next_on_path) != 0)
                return -1;
            skip_ws(s);
            if (s->p >= s->end)
                return -1;
            if (*s->p == '}') {
                s->p++;
                return 0;
            }
            if (*s->p != ',')
                return -1;
            s->p++;
        }
    }
    if (c == '[') {
        s->p++;
        skip_ws(s);
        if (s->p < s->end && *s->p == ']') {
            s->p++;
            return 0;
        }
        for (;;) {
            if (scan_value(s, level + 1, 0) != 0)
                return -1;
            skip_ws(s);
            if (s->p >= s->end)
                return -1;
            if (*s->p == ']') {
                s->p++;
                return 0;
            }
            if (*s->p != ',')
                return -1;
            s->p++;
        }
    }
    if (c == 't')
        return scan_literal(s, "true");
    if (c == 'f')
        return scan_literal(s, "false");
    if (c == 'n')
        return scan_literal(s, "null");
    return scan_number(s);
}

int tocsin_json_scan_string(const char *json, size_t len, const char *const *path, size_t npath,
                            char *out, size_t outlen)
{
    if (!json || !out || outlen == 0 || npath == 0 || npath > TOCSIN_JSON_SCAN_MAX_DEPTH)
        return -1;
    out[0] = '\0';
    struct scan s = {.p = json, .end = json + len, .path = path, .npath = npath};
    if (scan_value(&s, 0, 1) != 0)
        return -1;
    skip_ws(&s);
    if (s.p != s.end)
        return -1;
    if (s.found_kind != 1)
        return 0;
    if (s.found_escaped || s.found_len >= outlen)
        return -1;
    memcpy(out, s.found, s.found_len);
    out[s.found_len] = '\0';
    return 1;
}
