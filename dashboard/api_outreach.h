/* SPDX-License-Identifier: AGPL-3.0-or-later
 * api_outreach.h — peer-to-peer outreach campaigns (schema 010): the
 * handlers that are more than SQL. api_outreach.c sends one initial
 * message per request and adds steps; api_outreach_export.c writes the
 * CSV exports; api_outreach_upload.c imports an audience off the loop.
 * The routes themselves are rows of the route table (api_routes.c), their
 * SQL in api_outreach_sql.h. */
#ifndef DASHBOARD_API_OUTREACH_H
#define DASHBOARD_API_OUTREACH_H

#include "dashboard.h"

/* POST /api/outreach/campaigns/:id/send {"contact_id": N, "body": "..."}:
 * exactly one message for one contact; anything else is 400. */
void api_outreach_send(struct api_call *call);

/* POST /api/outreach/campaigns/:id/steps {"question", "choices": [...]} */
void api_outreach_step_add(struct api_call *call);

/* GET /api/outreach/campaigns/:id/answers.csv and /opt-outs.csv */
void api_outreach_export_answers(struct api_call *call);
void api_outreach_export_opt_outs(struct api_call *call);

/* POST /api/outreach/campaigns/:id/audience {"csv": "...", "filename"} */
void api_outreach_upload(struct api_call *call);

#endif
