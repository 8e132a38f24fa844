/* SPDX-License-Identifier: AGPL-3.0-or-later
 * json_write.h — JSON text written straight into a buffer, for the
 * simulator's per-message responses and events, where building a jansson
 * tree and dumping it cost a fifth of its CPU. Strings come out exactly as
 * jansson's json_dumps(JSON_COMPACT | JSON_ENSURE_ASCII) writes them, and
 * are refused where jansson refuses them (not UTF-8). It does not check
 * the document's structure: the caller writes it in order. The cold
 * control endpoints (/sim/...) keep jansson. */
#ifndef CARRIER_SIM_JSON_WRITE_H
#define CARRIER_SIM_JSON_WRITE_H

#include <stddef.h>

struct sim_jw {
    char *base;
    size_t len, cap;
    int on_heap;  /* base outgrew the caller's storage and is ours to free */
    int failed;   /* out of memory: the text is incomplete */
    int raw_utf8; /* non-ASCII as UTF-8, as json_dumps without JSON_ENSURE_ASCII */
};

/* Starts an empty text in storage[0..cap) (may be NULL with cap 0); it
 * moves to the heap if it outgrows it. Strings are ASCII-only unless the
 * caller sets raw_utf8. Call sim_jw_free when done. */
void sim_jw_init(struct sim_jw *w, char *storage, size_t cap);

/* Releases the heap copy, if any. */
void sim_jw_free(struct sim_jw *w);

/* Appends s[0..n) verbatim (punctuation, literals known to need no
 * escaping). SIM_JW_LIT takes a string literal only ("" lit "" refuses
 * anything else: sizeof a pointer would cut the text short). */
void sim_jw_raw(struct sim_jw *w, const char *s, size_t n);
#define SIM_JW_LIT(w, lit) sim_jw_raw((w), "" lit "", sizeof(lit) - 1)

/* Appends s[0..n) as a JSON string, quotes included: \" \\ \b \f \n \r \t,
 * other control characters and every non-ASCII character as \uXXXX
 * (upper-case hex; a UTF-16 surrogate pair above U+FFFF; non-ASCII stays
 * UTF-8 with raw_utf8), '/' and DEL as they are. Returns 0, or -1 and appends nothing when s is not
 * strict UTF-8 (overlong forms, surrogates and code points above
 * U+10FFFF are refused, as jansson's json_stringn does). */
int sim_jw_string(struct sim_jw *w, const char *s, size_t n);

/* Appends v in decimal. */
void sim_jw_int(struct sim_jw *w, long long v);

/* Appends a ',' unless the text is empty or ends in '{' or '[': call it
 * before each member or element. */
void sim_jw_sep(struct sim_jw *w);

/* Appends [,]"key": (key must need no escaping) and value as a string, or
 * null when value is NULL. When value is not UTF-8, appends nothing at all
 * and returns -1 — as json_object_set_new(o, key, json_string(value))
 * leaves the member out. Returns 0 otherwise. */
int sim_jw_member(struct sim_jw *w, const char *key, const char *value);

#endif
