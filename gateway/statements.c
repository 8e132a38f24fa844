/* SPDX-License-Identifier: AGPL-3.0-or-later
 * statements.c — the SQL texts of statements.h, derived from the parameter
 * lists: "$1, ..., $n" for one webhook, "$1::type[], ..." for a batch. */
#include "statements.h"

#include <stdio.h>
#include <stdlib.h>

#include "spool.h"

#define GW_FIELD_TYPE(name, type) #type,
static const char *const inbound_types[] = {GW_INBOUND_FIELDS(GW_FIELD_TYPE)};
static const char *const receipt_types[] = {GW_RECEIPT_FIELDS(GW_FIELD_TYPE)};
#undef GW_FIELD_TYPE

/* head, then "$1, $2, ..." (with arrays, "$1::type[], ..."), then tail.
 * The buffers are sized for the lists above: one too small is a
 * programming error, stopped at the first start. */
static void build(char *out, size_t size, const char *head, const char *const *types, int n,
                  int arrays, const char *tail)
{
    size_t len = 0;
    int k = snprintf(out, size, "%s", head);
    for (int i = 0; k >= 0 && (len += (size_t)k) < size && i < n; i++)
        k = snprintf(out + len, size - len, "%s$%d%s%s%s", i ? ", " : "", i + 1, arrays ? "::" : "",
                     arrays ? types[i] : "", arrays ? "[]" : "");
    if (k >= 0 && len < size)
        k = snprintf(out + len, size - len, "%s", tail);
    if (k < 0 || len + (size_t)k >= size) {
        fprintf(stderr, "gateway: the statement \"%s...\" does not fit its buffer\n", head);
        abort();
    }
}

void gw_statements_build(struct gw_statements *s)
{
    build(s->inbound_one, sizeof s->inbound_one, "SELECT * FROM tocsin_receive_inbound(",
          inbound_types, GW_INBOUND_PARAMS, 0, ")");
    build(s->inbound_batch, sizeof s->inbound_batch, "SELECT * FROM tocsin_receive_inbound_batch(",
          inbound_types, GW_INBOUND_PARAMS, 1, ")");
    build(s->inbound_burst, sizeof s->inbound_burst, "SELECT * FROM tocsin_receive_inbound_burst(",
          inbound_types, GW_INBOUND_PARAMS, 1, ")");
    build(s->receipt_one, sizeof s->receipt_one, "SELECT tocsin_apply_receipt(", receipt_types,
          GW_RECEIPT_PARAMS, 0, ") AS " GW_COL_OUTCOME);
    build(s->receipt_batch, sizeof s->receipt_batch, "SELECT * FROM tocsin_apply_receipt_batch(",
          receipt_types, GW_RECEIPT_PARAMS, 1, ")");
}

int gw_kind_params(int kind)
{
    return kind == GW_SPOOL_INBOUND   ? GW_INBOUND_PARAMS
           : kind == GW_SPOOL_RECEIPT ? GW_RECEIPT_PARAMS
                                      : -1;
}

const char *gw_kind_verdict_column(int kind)
{
    return kind == GW_SPOOL_INBOUND ? GW_COL_ACTION : GW_COL_OUTCOME;
}
