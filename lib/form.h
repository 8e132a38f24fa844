/* SPDX-License-Identifier: AGPL-3.0-or-later
 * form.h — building application/x-www-form-urlencoded bodies (decoding a
 * request's form is tocsin_http_form in http.h). */
#ifndef TOCSIN_FORM_H
#define TOCSIN_FORM_H

#include <stddef.h>

#include "common.h"

/* Appends "&key=value" (no '&' when used is 0), percent-encoding every byte
 * but ALPHA / DIGIT / - _ . ~, into buf[used..cap). Returns the new length,
 * or (size_t)-1 if it does not fit (buf is then unchanged past used). */
size_t tocsin_form_append(char *buf, size_t cap, size_t used, tocsin_str key, tocsin_str value);

#endif
