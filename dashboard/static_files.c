/* SPDX-License-Identifier: AGPL-3.0-or-later
 * static_files.c — in-memory static files with content types and
 * cache headers. Loading happens before the loop runs. */
#include "static_files.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

#define MAX_FILES 256
#define MAX_FILE_BYTES (4 * 1024 * 1024)

struct static_file {
    char name[128];
    const char *type;
    char *data;
    size_t len;
};

struct static_files {
    struct static_file files[MAX_FILES];
    size_t n;
};

static const char *content_type(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        {".html", "text/html; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".json", "application/json"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".txt", "text/plain; charset=utf-8"},
    };
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

static int load_file(struct static_file *f, const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return -1;
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || st.st_size > MAX_FILE_BYTES) {
        fclose(fp);
        return -1;
    }
    f->data = malloc((size_t)st.st_size + 1);
    f->len = f->data ? fread(f->data, 1, (size_t)st.st_size, fp) : 0;
    fclose(fp);
    return f->data && f->len == (size_t)st.st_size ? 0 : -1;
}

struct static_files *dash_static_files_load(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        log_error("static_files_failed", "dir=%s reason=\"cannot open the folder\"", dir);
        return NULL;
    }
    struct static_files *sf = calloc(1, sizeof *sf);
    struct dirent *e;
    while (sf && (e = readdir(d))) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof sf->files[0].name)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (sf->n == MAX_FILES) {
            log_warn("static_files_skipped", "dir=%s reason=\"more than %d files\"", dir,
                     MAX_FILES);
            break;
        }
        struct static_file *f = &sf->files[sf->n];
        memcpy(f->name, e->d_name, strlen(e->d_name) + 1); /* length checked above */
        f->type = content_type(f->name);
        if (load_file(f, path) != 0) {
            log_error("static_files_failed", "file=%s reason=\"unreadable or too large\"", path);
            free(f->data);
            continue;
        }
        sf->n++;
    }
    closedir(d);
    if (sf)
        log_info("static_files_loaded", "dir=%s files=%zu", dir, sf->n);
    return sf;
}

void dash_static_files_free(struct static_files *sf)
{
    if (!sf)
        return;
    for (size_t i = 0; i < sf->n; i++)
        free(sf->files[i].data);
    free(sf);
}

void dash_security_headers(struct tocsin_http_req *r)
{
    /* Scripts and styles only from our own files (no inline code, no
     * eval), connections only back to us, no plugins, never framed. */
    tocsin_http_add_header(
        r, "Content-Security-Policy",
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; manifest-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'");
    tocsin_http_add_header(r, "X-Frame-Options", "DENY");
    tocsin_http_add_header(r, "X-Content-Type-Options", "nosniff");
    tocsin_http_add_header(r, "Referrer-Policy", "no-referrer");
}

static void serve(struct tocsin_http_req *r, struct static_files *sf, tocsin_str name)
{
    dash_security_headers(r);
    for (size_t i = 0; i < sf->n; i++) {
        struct static_file *f = &sf->files[i];
        if (tocsin_str_eq(name, tocsin_str_from(f->name))) {
            tocsin_http_add_header(r, "Cache-Control", "no-cache");
            tocsin_http_add_header(r, "Cross-Origin-Resource-Policy", "same-origin");
            tocsin_http_respond(r, 200, f->type, f->data, f->len);
            return;
        }
    }
    tocsin_http_error(r, 404, "not_found", "no such file");
}

static void serve_index(struct tocsin_http_req *r, void *ctx)
{
    serve(r, ctx, TSTR("index.html"));
}

static void serve_static(struct tocsin_http_req *r, void *ctx)
{
    serve(r, ctx, tocsin_http_route_tail(r));
}

static void serve_not_found(struct tocsin_http_req *r, void *ctx)
{
    (void)ctx;
    dash_security_headers(r);
    tocsin_http_error(r, 404, "not_found", "no such page");
}

void dash_static_files_routes(struct static_files *sf, struct tocsin_http_server *http)
{
    tocsin_http_route(http, "GET", "/", serve_index, sf);
    tocsin_http_route(http, "GET", "/static/*", serve_static, sf);
    /* The shortest prefix: only paths no other route takes. */
    tocsin_http_route(http, "GET", "/*", serve_not_found, sf);
}
