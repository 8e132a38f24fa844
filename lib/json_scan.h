/* SPDX-License-Identifier: AGPL-3.0-or-later
 * json_scan.h — reads one string member out of a JSON document without
 * building a tree: the worker's hot path needs only the message id from a
 * carrier's 2xx answer (a Twilio message resource is ~900 bytes of fields
 * it never reads, and parsing it into jansson objects was a tenth of the
 * worker's CPU per message). Anything beyond that stays with jansson. */
#ifndef TOCSIN_JSON_SCAN_H
#define TOCSIN_JSON_SCAN_H

#include <stddef.h>

/* Nesting deeper than this is refused (as malformed). */
#define TOCSIN_JSON_SCAN_MAX_DEPTH 64

/* Follows path (npath object member names, from the top-level object) in
 * the JSON text json[0..len) and copies the string found there into out
 * (NUL-terminated, at most outlen - 1 bytes). The whole document is
 * checked to be well-formed JSON (RFC 8259 grammar, one value, only
 * whitespace after it); member names are compared as written (a name
 * spelled with escapes does not match). Returns 1 when the member is a
 * string without escapes that fits; 0 when it is absent or not a string;
 * -1 when the text is not JSON, nests too deep, or the string has escapes
 * or does not fit (the caller can ask a full parser). When a member name
 * appears twice, the last one counts (as in jansson). */
int tocsin_json_scan_string(const char *json, size_t len, const char *const *path, size_t npath,
                            char *out, size_t outlen);

#endif
