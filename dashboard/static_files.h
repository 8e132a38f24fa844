/* SPDX-License-Identifier: AGPL-3.0-or-later
 * static_files.h — the dashboard's HTML/CSS/JavaScript, read into memory
 * once at startup (so serving never blocks the loop and no request path
 * ever reaches the file system), served at / and /static/NAME. */
#ifndef DASHBOARD_STATIC_FILES_H
#define DASHBOARD_STATIC_FILES_H

#include "http.h"

struct static_files;

/* Loads every regular file directly in dir (at most 256 files, 4 MiB
 * each). Returns NULL and logs why on failure. */
struct static_files *dash_static_files_load(const char *dir);
void dash_static_files_free(struct static_files *sf);

/* Adds the dashboard's browser policy to a response: Content-Security-
 * Policy (our own scripts and styles only, never framed), X-Frame-Options
 * DENY, X-Content-Type-Options nosniff and Referrer-Policy no-referrer.
 * Every static file, every API answer and every error the dashboard
 * serves carries it (five of the request's 16 extra headers). */
void dash_security_headers(struct tocsin_http_req *r);

/* Registers GET / (index.html), GET /static/ + '*' and, for any other GET
 * path the server has no route for, a 404 with the same headers. */
void dash_static_files_routes(struct static_files *sf, struct tocsin_http_server *http);

#endif
