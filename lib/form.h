/* SPDX-License-Identifier: AGPL-3.0-or-later
 * form.h — application/x-www-form-urlencoded bodies: decoding into
 * (key, value) pairs (a request's own form: tocsin_http_form in http.h)
 * and building them for outgoing requests. */
#ifndef TOCSIN_FORM_H
#define TOCSIN_FORM_H

#include <stddef.h>

#include "arena.h"
#include "common.h"
#include "crypto.h" /* struct tocsin_kv */

#define TOCSIN_FORM_MAX_FIELDS 256

/* Decodes in ("a=1&b=x+y%21"): '+' is a space, %XX a byte, a field without
 * '=' has an empty value, empty fields ("a=1&&b=2") are skipped. Keys and
 * values are NUL-terminated copies in arena a, as is the *pairs array (*n
 * entries). Returns 0, or -1 with a reason in err: a '%' not followed by
 * two hex digits, more than TOCSIN_FORM_MAX_FIELDS fields, out of memory. */
int tocsin_form_decode(struct tocsin_arena *a, tocsin_str in, struct tocsin_kv **pairs, size_t *n,
                       char *err, size_t errlen);

/* The first value of field key (case-sensitive); {NULL, 0} if absent. The
 * view points into pairs' memory. */
tocsin_str tocsin_form_get(const struct tocsin_kv *pairs, size_t n, const char *key);

/* Appends "&key=value" (no '&' when used is 0), percent-encoding every byte
 * but ALPHA / DIGIT / - _ . ~, into buf[used..cap). Returns the new length,
 * or (size_t)-1 if it does not fit (buf is then unchanged past used). */
size_t tocsin_form_append(char *buf, size_t cap, size_t used, tocsin_str key, tocsin_str value);

#endif
