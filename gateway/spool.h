/* SPDX-License-Identifier: AGPL-3.0-or-later
 * spool.h — the gateway's local spool: a file of self-describing records
 * (what to apply, with every parameter) written while PostgreSQL cannot
 * be reached, each made durable (fdatasync) before the carrier is answered.
 * This module owns the record format and the file; it knows nothing of the
 * database (store.c decides what to spool and replays it). */
#ifndef GW_SPOOL_H
#define GW_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

/* What a record applies: the parameters of tocsin_receive_inbound (12) or
 * of tocsin_apply_receipt (6 since schema/017, with the sender; a record of
 * 5 was written by an older gateway and is set aside), in the functions'
 * order. */
enum gw_spool_kind { GW_SPOOL_INBOUND = 1, GW_SPOOL_RECEIPT = 2 };

#define GW_SPOOL_MAX_FIELDS 16
/* A record's payload never exceeds this; a larger length is corruption. */
#define GW_SPOOL_MAX_RECORD (4u << 20)
#define GW_SPOOL_HEADER 12 /* magic, payload length, CRC-32C */

/* A decoded record. Every non-NULL field is NUL-terminated and points into
 * the buffer it was decoded from (valid as long as that buffer). */
struct gw_spool_record {
    int kind;
    int nfields;
    const char *fields[GW_SPOOL_MAX_FIELDS]; /* NULL = SQL NULL */
    const uint8_t *raw;                      /* the encoded record (header + payload) */
    size_t record_bytes;                     /* its length */
};

/* CRC-32C (Castagnoli) of len bytes, continuing from crc (0 to start). */
uint32_t gw_crc32c(uint32_t crc, const void *p, size_t len);

/* Encodes a record into out (cap bytes). Returns the record's length; when
 * that is more than cap, nothing usable was written (call again with a
 * bigger buffer). Returns 0 for a bad kind, n outside 0..GW_SPOOL_MAX_FIELDS
 * or a payload over GW_SPOOL_MAX_RECORD. */
size_t gw_spool_encode(int kind, const char *const *fields, int n, uint8_t *out, size_t cap);

/* Decodes the record at the start of p (len bytes available). Returns 1
 * (rec filled, rec->record_bytes consumed), 0 when the bytes end inside the
 * record (*need, if not NULL, gets its full length when the header is
 * there, else GW_SPOOL_HEADER) — at the end of a file, a torn write — or
 * -1 when the bytes are not a valid record (bad magic, length or checksum,
 * malformed fields). */
int gw_spool_decode(const uint8_t *p, size_t len, struct gw_spool_record *rec, size_t *need);

struct gw_spool;

/* Opens (creating) DIR/gateway.spool, making DIR if needed, and checks every
 * record in it. A torn tail (the bytes of a write that never completed, so
 * never acknowledged) is logged and cut off; from a corrupt record on, the
 * rest of the file is moved to DIR/gateway.spool.corrupt-<time> for the
 * operator, logged, and cut off. max_bytes bounds the file (appends beyond
 * it are refused). Returns 0 and *out (free with gw_spool_close), or -1 with
 * a message in err. Blocking: call it before serving. */
int gw_spool_open(uv_loop_t *loop, const char *dir, uint64_t max_bytes, struct gw_spool **out,
                  char *err, size_t errlen);

/* Called once an append is durable (status 0) or failed (a negative errno;
 * the record is then not in the file). */
typedef void (*gw_spool_cb)(int status, void *ctx);

/* Appends a record. Records appended in one loop turn are written with one
 * write and one fdatasync on libuv's thread pool, in the order of the calls;
 * cb runs after that, on the loop, never before this returns. Returns 0, or
 * -ENOSPC when the spool would exceed its bound, -EINVAL for a bad record,
 * -ENOMEM (cb not called then). */
int gw_spool_append(struct gw_spool *sp, int kind, const char *const *fields, int n, gw_spool_cb cb,
                    void *ctx);

/* Bytes in the file that are durable (replayable). */
uint64_t gw_spool_size(const struct gw_spool *sp);
/* 1 when nothing is in the file and no append is under way. */
int gw_spool_empty(const struct gw_spool *sp);

/* A caller-owned read buffer for gw_spool_read (zero-initialise it; free
 * with gw_spool_buf_free). */
struct gw_spool_buf {
    uint8_t *data;
    size_t cap;
};
void gw_spool_buf_free(struct gw_spool_buf *b);

/* Reads up to max durable records from byte offset off into buf and
 * decodes them into recs (pointing into buf, valid until buf's next use).
 * Sets *n (0 at the end of the durable data). Returns 0, or -1 for a read
 * error or a corrupt record (logged). Blocking (pread of at most a few
 * hundred KiB, from the page cache in practice). */
int gw_spool_read(struct gw_spool *sp, uint64_t off, struct gw_spool_buf *buf,
                  struct gw_spool_record *recs, int max, int *n);

/* Empties the file once everything in it has been applied. Only while no
 * append is under way: returns 0, 1 when appends are pending (try later),
 * or -1 on an I/O error (logged). */
int gw_spool_reset(struct gw_spool *sp);

/* Keeps a record that can never be applied (the database refuses it for
 * good) in DIR/gateway.spool.rejected, durably, for the operator. Returns 0
 * or -1 (logged). */
int gw_spool_reject(struct gw_spool *sp, const struct gw_spool_record *rec);

/* Closes the file. Appends still under way keep the spool alive until they
 * complete; their callbacks still run. NULL is ignored. */
void gw_spool_close(struct gw_spool *sp);

#endif
