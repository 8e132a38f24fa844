/* SPDX-License-Identifier: AGPL-3.0-or-later
 * test_gateway_spool.c — the gateway's spool (gateway/spool.c, compiled in
 * here): records round-trip; every cut of a record reads as incomplete and
 * every flipped byte is refused; a file with a torn tail or a corrupt
 * record reopens with its good prefix; appends are bounded and durable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../gateway/spool.c"

static const char *const fields[] = {"twilio",         "SM0001", "7",       "+14155550100",
                                     "¡hola! ünïcode", "0",      "opt_out", NULL,
                                     "false",          "",       NULL,      "1"};
#define NF ((int)(sizeof fields / sizeof fields[0]))

static size_t encode(uint8_t *buf, size_t cap)
{
    size_t len = gw_spool_encode(GW_SPOOL_INBOUND, fields, NF, buf, cap);
    assert_true(len > GW_SPOOL_HEADER && len <= cap);
    return len;
}

static void assert_fields(const struct gw_spool_record *r)
{
    assert_int_equal(r->kind, GW_SPOOL_INBOUND);
    assert_int_equal(r->nfields, NF);
    for (int i = 0; i < NF; i++) {
        if (!fields[i])
            assert_null(r->fields[i]);
        else
            assert_string_equal(r->fields[i], fields[i]);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len = encode(buf, sizeof buf);
    assert_int_equal(gw_spool_encode(GW_SPOOL_INBOUND, fields, NF, buf, 10),
                     len); /* asks for more */
    len = encode(buf, sizeof buf);
    struct gw_spool_record r;
    size_t need = 0;
    assert_int_equal(gw_spool_decode(buf, len, &r, &need), 1);
    assert_int_equal(r.record_bytes, len);
    assert_ptr_equal(r.raw, buf);
    assert_fields(&r);
    assert_int_equal(gw_spool_encode(9, fields, NF, buf, sizeof buf), 0); /* bad kind */
    assert_int_equal(gw_spool_encode(GW_SPOOL_RECEIPT, fields, 17, buf, sizeof buf), 0);
}

static void test_torn_record_is_incomplete(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len = encode(buf, sizeof buf);
    struct gw_spool_record r;
    for (size_t cut = 0; cut < len; cut++) {
        size_t need = 0;
        assert_int_equal(gw_spool_decode(buf, cut, &r, &need), 0);
        assert_int_equal(need, cut < GW_SPOOL_HEADER ? GW_SPOOL_HEADER : len);
    }
}

static void test_flipped_byte_is_refused(void **state)
{
    (void)state;
    uint8_t buf[512];
    size_t len = encode(buf, sizeof buf);
    struct gw_spool_record r;
    for (size_t i = 0; i < len; i++) {
        for (int bit = 0; bit < 8; bit++) {
            buf[i] ^= (uint8_t)(1 << bit);
            int v = gw_spool_decode(buf, len, &r, NULL);
            /* A longer length reads as a record still being written. */
            assert_true(v == -1 || (v == 0 && i >= 4 && i < 8));
            buf[i] ^= (uint8_t)(1 << bit);
        }
    }
    assert_int_equal(gw_spool_decode(buf, len, &r, NULL), 1);
}

/* --- the file --- */

static int appended, append_status;

static void on_append(int status, void *ctx)
{
    (void)ctx;
    appended++;
    append_status = status ? status : append_status;
}

static char dir[] = "/tmp/test_gateway_spool.XXXXXX";

static void write_three(uv_loop_t *loop, struct gw_spool *sp)
{
    appended = append_status = 0;
    for (int i = 0; i < 3; i++)
        assert_int_equal(gw_spool_append(sp, GW_SPOOL_INBOUND, fields, NF, on_append, NULL), 0);
    assert_int_equal(appended, 0); /* never inside the call */
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(appended, 3);
    assert_int_equal(append_status, 0);
}

static int count_records(struct gw_spool *sp)
{
    struct gw_spool_buf b = {0};
    struct gw_spool_record recs[8];
    int n = 0;
    assert_int_equal(gw_spool_read(sp, 0, &b, recs, 8, &n), 0);
    for (int i = 0; i < n; i++)
        assert_fields(&recs[i]);
    gw_spool_buf_free(&b);
    return n;
}

static void append_raw(const char *path, const void *data, size_t len, off_t at)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, at), (ssize_t)len);
    close(fd);
}

static void test_file_recovery(void **state)
{
    (void)state;
    assert_non_null(mkdtemp(dir));
    char sub[sizeof dir + 16], path[sizeof dir + 40];
    snprintf(sub, sizeof sub, "%s/a/b", dir); /* made with its parents */
    snprintf(path, sizeof path, "%s/gateway.spool", sub);
    uv_loop_t loop;
    uv_loop_init(&loop);
    struct gw_spool *sp, *other;
    char err[256];
    assert_int_equal(gw_spool_open(&loop, sub, 1 << 20, &sp, err, sizeof err), 0);
    assert_true(gw_spool_empty(sp));
    write_three(&loop, sp);
    uint64_t good = gw_spool_size(sp);
    assert_int_equal(count_records(sp), 3);
    /* A second gateway on the same spool is refused. */
    assert_int_equal(gw_spool_open(&loop, sub, 1 << 20, &other, err, sizeof err), -1);
    assert_non_null(strstr(err, "TOCSIN_GATEWAY_SPOOL_DIR"));
    gw_spool_close(sp);

    /* A crash in the middle of a write: half a record at the end. */
    uint8_t rec[512];
    size_t len = encode(rec, sizeof rec);
    append_raw(path, rec, len / 2, (off_t)good);
    assert_int_equal(gw_spool_open(&loop, sub, 1 << 20, &sp, err, sizeof err), 0);
    assert_int_equal(gw_spool_size(sp), good); /* cut off, the rest kept */
    assert_int_equal(count_records(sp), 3);
    write_three(&loop, sp); /* appends go after the last good record */
    assert_int_equal(count_records(sp), 6);
    gw_spool_close(sp);

    /* A corrupt second record: the first is kept, the rest set aside. */
    uint8_t bad = 0xff;
    append_raw(path, &bad, 1, (off_t)(len + GW_SPOOL_HEADER + 3));
    assert_int_equal(gw_spool_open(&loop, sub, 1 << 20, &sp, err, sizeof err), 0);
    assert_int_equal(gw_spool_size(sp), len);
    assert_int_equal(count_records(sp), 1);
    char cmd[sizeof dir + 80];
    snprintf(cmd, sizeof cmd, "test \"$(cat %s/gateway.spool.corrupt-* | wc -c)\" = %zu", sub,
             5 * len);
    assert_int_equal(system(cmd), 0);

    /* Emptied once applied; bounded. */
    assert_int_equal(gw_spool_reset(sp), 0);
    assert_true(gw_spool_empty(sp));
    gw_spool_close(sp);
    assert_int_equal(gw_spool_open(&loop, sub, 2 * len, &sp, err, sizeof err), 0);
    assert_int_equal(gw_spool_size(sp), 0);
    assert_int_equal(gw_spool_append(sp, GW_SPOOL_INBOUND, fields, NF, on_append, NULL), 0);
    assert_int_equal(gw_spool_reset(sp), 1); /* an append is under way */
    assert_int_equal(gw_spool_append(sp, GW_SPOOL_INBOUND, fields, NF, on_append, NULL), 0);
    assert_int_equal(gw_spool_append(sp, GW_SPOOL_INBOUND, fields, NF, on_append, NULL), -ENOSPC);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(count_records(sp), 2);
    assert_int_equal(
        gw_spool_reject(sp, &(struct gw_spool_record){.raw = rec, .record_bytes = len}), 0);
    gw_spool_close(sp);
    uv_loop_close(&loop);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_torn_record_is_incomplete),
        cmocka_unit_test(test_flipped_byte_is_refused),
        cmocka_unit_test(test_file_recovery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
