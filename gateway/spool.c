/* SPDX-License-Identifier: AGPL-3.0-or-later
 * spool.c — the spool file and its record format (see spool.h). A record
 * is "TSP1", the payload length and a CRC-32C of (length, payload), all
 * little-endian; the payload is the kind, the field count, and each field
 * as a 32-bit length (0xFFFFFFFF for NULL) followed by its bytes and a NUL.
 * Appends are grouped: whatever was appended while a write+fdatasync ran
 * goes out in the next one. Nothing here talks to the database. */
#define _GNU_SOURCE
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dynbuf.h"
#include "log.h"

static const uint8_t magic[4] = {'T', 'S', 'P', '1'};
#define NULL_FIELD 0xFFFFFFFFu
#define READ_CHUNK (256u << 10)

/* --- CRC-32C --- */

uint32_t gw_crc32c(uint32_t crc, const void *p, size_t len)
{
    static uint32_t table[256];
    static int ready;
    if (!ready) {
        for (uint32_t i = 0; i < 256; i++) {
            uint32_t c = i;
            for (int k = 0; k < 8; k++)
                c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            table[i] = c;
        }
        ready = 1;
    }
    const uint8_t *b = p;
    crc = ~crc;
    while (len--)
        crc = table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

/* --- record format --- */

static void put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

size_t gw_spool_encode(int kind, const char *const *fields, int n, uint8_t *out, size_t cap)
{
    if ((kind != GW_SPOOL_INBOUND && kind != GW_SPOOL_RECEIPT) || n < 0 || n > GW_SPOOL_MAX_FIELDS)
        return 0;
    size_t payload = 2;
    for (int i = 0; i < n; i++) {
        size_t l = fields[i] ? strlen(fields[i]) : 0;
        if (l > GW_SPOOL_MAX_RECORD)
            return 0;
        payload += 4 + (fields[i] ? l + 1 : 0);
    }
    if (payload > GW_SPOOL_MAX_RECORD)
        return 0;
    size_t total = GW_SPOOL_HEADER + payload;
    if (total > cap)
        return total;
    uint8_t *p = out + GW_SPOOL_HEADER;
    *p++ = (uint8_t)kind;
    *p++ = (uint8_t)n;
    for (int i = 0; i < n; i++) {
        if (!fields[i]) {
            put32(p, NULL_FIELD);
            p += 4;
            continue;
        }
        size_t l = strlen(fields[i]);
        put32(p, (uint32_t)l);
        memcpy(p + 4, fields[i], l + 1);
        p += 4 + l + 1;
    }
    memcpy(out, magic, 4);
    put32(out + 4, (uint32_t)payload);
    put32(out + 8, gw_crc32c(gw_crc32c(0, out + 4, 4), out + GW_SPOOL_HEADER, payload));
    return total;
}

int gw_spool_decode(const uint8_t *p, size_t len, struct gw_spool_record *rec, size_t *need)
{
    if (need)
        *need = GW_SPOOL_HEADER;
    if (len < GW_SPOOL_HEADER)
        return len > 0 && memcmp(p, magic, len < 4 ? len : 4) != 0 ? -1 : 0;
    if (memcmp(p, magic, 4) != 0)
        return -1;
    uint32_t payload = get32(p + 4);
    if (payload < 2 || payload > GW_SPOOL_MAX_RECORD)
        return -1;
    if (need)
        *need = GW_SPOOL_HEADER + (size_t)payload;
    if (len < GW_SPOOL_HEADER + (size_t)payload)
        return 0;
    const uint8_t *b = p + GW_SPOOL_HEADER, *end = b + payload;
    if (gw_crc32c(gw_crc32c(0, p + 4, 4), b, payload) != get32(p + 8))
        return -1;
    memset(rec, 0, sizeof *rec);
    rec->kind = b[0];
    rec->nfields = b[1];
    if ((rec->kind != GW_SPOOL_INBOUND && rec->kind != GW_SPOOL_RECEIPT) ||
        rec->nfields > GW_SPOOL_MAX_FIELDS)
        return -1;
    b += 2;
    for (int i = 0; i < rec->nfields; i++) {
        if (end - b < 4)
            return -1;
        uint32_t l = get32(b);
        b += 4;
        if (l == NULL_FIELD)
            continue;
        if ((size_t)(end - b) < (size_t)l + 1 || b[l] != '\0' || memchr(b, '\0', l))
            return -1;
        rec->fields[i] = (const char *)b;
        b += l + 1;
    }
    if (b != end)
        return -1;
    rec->raw = p;
    rec->record_bytes = GW_SPOOL_HEADER + (size_t)payload;
    return 1;
}

/* --- the file --- */

struct waiter {
    gw_spool_cb cb;
    void *ctx;
};

/* Records waiting for one write + fdatasync, and who to tell. */
struct group {
    struct tocsin_dynbuf bytes; /* the encoded records (max set on first use) */
    struct waiter *w;
    size_t nw, capw;
};

struct gw_spool {
    uv_loop_t *loop;
    char dir[PATH_MAX], path[PATH_MAX];
    int fd;
    uint64_t max_bytes;
    uint64_t size; /* durable bytes */
    struct group pending, inflight;
    int busy;   /* inflight is being written */
    int broken; /* an fdatasync failed: the file's state is unknown */
    int closing;
    uv_fs_t req;
};

/* Room for a record of `more` bytes and its waiter: where to encode it, or
 * NULL out of memory. A group never holds more than the spool's bound. */
static uint8_t *group_reserve(const struct gw_spool *sp, struct group *g, size_t more)
{
    if (g->bytes.max == 0) /* a zeroed group's first record */
        tocsin_dynbuf_init(&g->bytes, (size_t)sp->max_bytes);
    char *at = tocsin_dynbuf_reserve(&g->bytes, more);
    if (!at)
        return NULL;
    if (g->nw == g->capw) {
        size_t capw = g->capw ? 2 * g->capw : 16;
        struct waiter *w = realloc(g->w, capw * sizeof *w);
        if (!w)
            return NULL;
        g->w = w;
        g->capw = capw;
    }
    return (uint8_t *)at;
}

static void group_free(struct group *g)
{
    tocsin_dynbuf_free(&g->bytes);
    free(g->w);
    memset(g, 0, sizeof *g);
}

static int pread_all(int fd, uint8_t *buf, size_t len, uint64_t off)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

static int buf_reserve(struct gw_spool_buf *b, size_t len)
{
    if (b->cap >= len)
        return 0;
    uint8_t *d = realloc(b->data, len);
    if (!d)
        return -1;
    b->data = d;
    b->cap = len;
    return 0;
}

void gw_spool_buf_free(struct gw_spool_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->cap = 0;
}

/* Moves [off, end) of the file aside for the operator before it is cut. */
static void save_corrupt_tail(struct gw_spool *sp, uint64_t off, uint64_t end)
{
    char side[PATH_MAX + 40];
    snprintf(side, sizeof side, "%s.corrupt-%lld", sp->path, (long long)time(NULL));
    int out = open(side, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uint8_t chunk[65536];
    int ok = out >= 0;
    for (uint64_t at = off; ok && at < end;) {
        size_t n = end - at < sizeof chunk ? (size_t)(end - at) : sizeof chunk;
        ok = pread_all(sp->fd, chunk, n, at) == 0 && write(out, chunk, n) == (ssize_t)n;
        at += n;
    }
    ok = ok && fsync(out) == 0;
    if (out >= 0)
        close(out);
    log_error("spool_corrupt", "path=%s offset=%llu bytes=%llu saved=%s", sp->path,
              (unsigned long long)off, (unsigned long long)(end - off),
              tocsin_log_q(ok ? side : "no"));
}

/* Finds where the valid records end; cuts off what follows. */
static int scan(struct gw_spool *sp, uint64_t file_size, char *err, size_t errlen)
{
    struct gw_spool_buf b = {0};
    uint64_t off = 0;
    int rc = 0, verdict = 1;
    while (off < file_size) {
        size_t want = file_size - off < READ_CHUNK ? (size_t)(file_size - off) : READ_CHUNK;
        struct gw_spool_record rec;
        size_t need = 0, used = 0;
        if (buf_reserve(&b, want) || pread_all(sp->fd, b.data, want, off)) {
            snprintf(err, errlen, "could not read spool file \"%s\": %s", sp->path,
                     strerror(errno));
            rc = -1;
            goto out;
        }
        while ((verdict = gw_spool_decode(b.data + used, want - used, &rec, &need)) == 1)
            used += rec.record_bytes;
        off += used;
        if (verdict == -1 || (verdict == 0 && used == 0 && off + need > file_size))
            break; /* corrupt, or a torn record at the end */
        if (verdict == 0 && used == 0 && buf_reserve(&b, need)) {
            snprintf(err, errlen, "could not read spool file \"%s\": out of memory", sp->path);
            rc = -1;
            goto out;
        }
        if (used == 0) { /* one record longer than the chunk */
            if (pread_all(sp->fd, b.data, need, off) ||
                gw_spool_decode(b.data, need, &rec, NULL) != 1) {
                verdict = -1;
                break;
            }
            off += rec.record_bytes;
        }
    }
    if (off < file_size) {
        if (verdict == -1)
            save_corrupt_tail(sp, off, file_size);
        else
            log_warn("spool_torn_tail",
                     "path=%s offset=%llu bytes=%llu note=\"an unacknowledged write, ignored\"",
                     sp->path, (unsigned long long)off, (unsigned long long)(file_size - off));
        if (ftruncate(sp->fd, (off_t)off) != 0 || fdatasync(sp->fd) != 0) {
            snprintf(err, errlen, "could not truncate spool file \"%s\": %s", sp->path,
                     strerror(errno));
            rc = -1;
            goto out;
        }
    }
    sp->size = off;
out:
    gw_spool_buf_free(&b);
    return rc;
}

static int make_dir(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0700) != 0 && errno != EEXIST ? -1 : 0;
}

int gw_spool_open(uv_loop_t *loop, const char *dir, uint64_t max_bytes, struct gw_spool **out,
                  char *err, size_t errlen)
{
    *out = NULL;
    if (!*dir || strlen(dir) > PATH_MAX - 64) {
        snprintf(err, errlen, "invalid spool directory \"%.64s\": empty or too long", dir);
        return -1;
    }
    struct gw_spool *sp = calloc(1, sizeof *sp);
    if (!sp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sp->loop = loop;
    sp->max_bytes = max_bytes;
    snprintf(sp->dir, sizeof sp->dir, "%s", dir);
    snprintf(sp->path, sizeof sp->path, "%s/gateway.spool", dir);
    struct stat st;
    if (make_dir(dir) != 0) {
        snprintf(err, errlen, "could not create spool directory \"%s\": %s", dir, strerror(errno));
        free(sp);
        return -1;
    }
    sp->fd = open(sp->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (sp->fd < 0 || fstat(sp->fd, &st) != 0) {
        snprintf(err, errlen, "could not open spool file \"%s\": %s", sp->path, strerror(errno));
        if (sp->fd >= 0)
            close(sp->fd);
        free(sp);
        return -1;
    }
    if (flock(sp->fd, LOCK_EX | LOCK_NB) != 0) {
        snprintf(err, errlen,
                 "could not lock spool file \"%s\": %s (each gateway needs its own "
                 "TOCSIN_GATEWAY_SPOOL_DIR)",
                 sp->path, strerror(errno));
        close(sp->fd);
        free(sp);
        return -1;
    }
    /* The file's name must survive a crash too. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    if (scan(sp, (uint64_t)st.st_size, err, errlen) != 0) {
        close(sp->fd);
        free(sp);
        return -1;
    }
    if (sp->size)
        log_info("spool_found", "path=%s bytes=%llu", sp->path, (unsigned long long)sp->size);
    *out = sp;
    return 0;
}

uint64_t gw_spool_size(const struct gw_spool *sp)
{
    return sp->size;
}

int gw_spool_empty(const struct gw_spool *sp)
{
    return sp->size == 0 && !sp->busy && sp->pending.nw == 0;
}

static void flush_start(struct gw_spool *sp);
static void spool_free(struct gw_spool *sp);

/* Tells the inflight group's waiters and starts the next group. */
static void flush_done(struct gw_spool *sp, int status)
{
    struct group g = sp->inflight;
    memset(&sp->inflight, 0, sizeof sp->inflight);
    if (status == 0)
        sp->size += g.bytes.len;
    sp->busy = 0;
    for (size_t i = 0; i < g.nw; i++)
        g.w[i].cb(status, g.w[i].ctx);
    group_free(&g);
    if (sp->pending.nw)
        flush_start(sp);
    else if (sp->closing)
        spool_free(sp);
}

static void on_synced(uv_fs_t *req)
{
    struct gw_spool *sp = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    if (r < 0) {
        /* After a failed fdatasync the page cache may already have dropped
         * the data: nothing more is acknowledged from this file. */
        sp->broken = 1;
        log_error("spool_sync_failed", "path=%s reason=%s", sp->path,
                  tocsin_log_q(uv_strerror((int)r)));
        flush_done(sp, (int)r);
        return;
    }
    flush_done(sp, 0);
}

static void on_written(uv_fs_t *req)
{
    struct gw_spool *sp = req->data;
    ssize_t r = req->result;
    uv_fs_req_cleanup(req);
    if (r == (ssize_t)sp->inflight.bytes.len) {
        if (uv_fs_fdatasync(sp->loop, &sp->req, sp->fd, on_synced) == 0)
            return;
        r = -EIO;
    }
    /* A short or failed write: cut what it left so later records follow
     * the last good one. */
    log_error("spool_write_failed", "path=%s reason=%s", sp->path,
              tocsin_log_q(r < 0 ? uv_strerror((int)r) : "short write"));
    if (ftruncate(sp->fd, (off_t)sp->size) != 0)
        sp->broken = 1;
    flush_done(sp, r < 0 ? (int)r : -EIO);
}

static void flush_start(struct gw_spool *sp)
{
    sp->inflight = sp->pending;
    memset(&sp->pending, 0, sizeof sp->pending);
    sp->busy = 1;
    if (sp->broken) {
        flush_done(sp, -EIO);
        return;
    }
    uv_buf_t b = uv_buf_init(sp->inflight.bytes.data, (unsigned)sp->inflight.bytes.len);
    sp->req.data = sp;
    if (uv_fs_write(sp->loop, &sp->req, sp->fd, &b, 1, -1, on_written) != 0) {
        sp->req.result = -EIO;
        on_written(&sp->req);
    }
}

int gw_spool_append(struct gw_spool *sp, int kind, const char *const *fields, int n, gw_spool_cb cb,
                    void *ctx)
{
    size_t len = gw_spool_encode(kind, fields, n, NULL, 0);
    if (len == 0)
        return -EINVAL;
    if (sp->broken)
        return -EIO;
    if (sp->size + sp->inflight.bytes.len + sp->pending.bytes.len + len > sp->max_bytes)
        return -ENOSPC;
    uint8_t *at = group_reserve(sp, &sp->pending, len);
    if (!at)
        return -ENOMEM;
    gw_spool_encode(kind, fields, n, at, len);
    tocsin_dynbuf_commit(&sp->pending.bytes, len);
    sp->pending.w[sp->pending.nw++] = (struct waiter){cb, ctx};
    if (!sp->busy)
        flush_start(sp);
    return 0;
}

int gw_spool_read(struct gw_spool *sp, uint64_t off, struct gw_spool_buf *buf,
                  struct gw_spool_record *recs, int max, int *n)
{
    *n = 0;
    if (off >= sp->size)
        return 0;
    size_t want = sp->size - off < READ_CHUNK ? (size_t)(sp->size - off) : READ_CHUNK;
    if (buf_reserve(buf, want) || pread_all(sp->fd, buf->data, want, off))
        goto bad;
    size_t used = 0, need = 0;
    int v = 1;
    while (*n < max && (v = gw_spool_decode(buf->data + used, want - used, &recs[*n], &need)) == 1)
        used += recs[(*n)++].record_bytes;
    if (v == -1)
        goto bad;
    if (*n == 0) { /* a record longer than the chunk */
        if (off + need > sp->size || buf_reserve(buf, need) ||
            pread_all(sp->fd, buf->data, need, off) ||
            gw_spool_decode(buf->data, need, &recs[0], NULL) != 1)
            goto bad;
        *n = 1;
    }
    return 0;
bad:
    log_error("spool_read_failed", "path=%s offset=%llu", sp->path, (unsigned long long)off);
    *n = 0;
    return -1;
}

int gw_spool_reset(struct gw_spool *sp)
{
    if (sp->busy || sp->pending.nw)
        return 1;
    if (ftruncate(sp->fd, 0) != 0 || fdatasync(sp->fd) != 0) {
        log_error("spool_reset_failed", "path=%s reason=%s", sp->path,
                  tocsin_log_q(strerror(errno)));
        return -1;
    }
    sp->size = 0;
    return 0;
}

int gw_spool_reject(struct gw_spool *sp, const struct gw_spool_record *rec)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s.rejected", sp->path);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, rec->raw, rec->record_bytes) == (ssize_t)rec->record_bytes &&
             fdatasync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (!ok) {
        log_error("spool_reject_failed", "path=%s reason=%s", path, tocsin_log_q(strerror(errno)));
        return -1;
    }
    return 0;
}

static void spool_free(struct gw_spool *sp)
{
    close(sp->fd);
    group_free(&sp->pending);
    group_free(&sp->inflight);
    free(sp);
}

void gw_spool_close(struct gw_spool *sp)
{
    if (!sp)
        return;
    if (sp->busy || sp->pending.nw)
        sp->closing = 1;
    else
        spool_free(sp);
}
