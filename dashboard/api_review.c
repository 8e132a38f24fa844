/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_review.c — a lead's Message review: turns the list's query string
 * into one JSON object of filters (known names only, each bounded) and a
 * bulk action's "ids" into a bounded bigint[] literal. What the filters
 * mean, their validation, the locks, the cap and the audit are
 * schema/functions/review.sql (called from api_review_sql.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_review_sql.h"
#include "dashboard.h"

#define REVIEW_VALUE_MAX 400 /* q is cut at 100 characters by the SQL, in words */
#define REVIEW_IDS_MAX 500

static const char *const review_filters[] = {"campaign",  "tag",   "from",    "to",     "q",
                                             "volunteer", "state", "flagged", "before", "limit"};

/* GET /api/review/conversations?campaign=&tag=&volunteer=&state=&flagged=
 * &from=&to=&q=&before=&limit= */
void api_review_list(struct api_call *call)
{
    if (api_query_json_param(call, review_filters, ARRAY_SIZE(review_filters), REVIEW_VALUE_MAX) ==
        0)
        api_run_sql(call, SQL_REVIEW_LIST);
}

/* The body's "ids" as a bigint[] literal in the arena: 1 to REVIEW_IDS_MAX
 * positive integers. NULL after answering 400. */
static const char *ids_param(struct api_call *call)
{
    json_t *ids = call->body ? json_object_get(call->body, "ids") : NULL;
    size_t n = json_array_size(ids);
    if (!json_is_array(ids) || n == 0) {
        tocsin_http_error(call->req, 400, "invalid", "invalid ids: pick at least one conversation");
        return NULL;
    }
    if (n > REVIEW_IDS_MAX) {
        tocsin_http_error(call->req, 400, "invalid", "invalid ids: at most %d at once, got %zu",
                          REVIEW_IDS_MAX, n);
        return NULL;
    }
    size_t cap = n * 21 + 3; /* "{" + up to 19 digits and a comma each + "}" */
    char *out = tocsin_arena_alloc(tocsin_http_arena(call->req), cap);
    if (!out) {
        tocsin_http_error(call->req, 500, "internal", "out of memory");
        return NULL;
    }
    size_t o = 0;
    out[o++] = '{';
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(ids, i);
        json_int_t id = json_is_integer(v) ? json_integer_value(v) : 0;
        if (id <= 0) {
            tocsin_http_error(call->req, 400, "invalid",
                              "invalid ids: item %zu is not a conversation id", i + 1);
            return NULL;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s%lld", i ? "," : "", (long long)id);
    }
    out[o++] = '}';
    out[o] = '\0';
    return out;
}

/* POST /api/review/reassign {"ids": [...], "user_id": N} */
void api_review_reassign(struct api_call *call)
{
    const char *ids = ids_param(call);
    if (!ids)
        return;
    api_add_param(call, ids); /* $5; $4 is the route's user_id */
    api_run_sql(call, SQL_REVIEW_REASSIGN);
}

/* POST /api/review/close {"ids": [...]} */
void api_review_close(struct api_call *call)
{
    const char *ids = ids_param(call);
    if (!ids)
        return;
    api_add_param(call, ids); /* $4 */
    api_run_sql(call, SQL_REVIEW_CLOSE);
}
