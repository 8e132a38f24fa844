/* SPDX-License-Identifier: AGPL-3.0-or-later
 * webhook_paths.h — the paths tocsin-gateway answers carrier webhooks on,
 * in one place: the gateway registers them, the worker names them in each
 * send (Twilio's StatusCallback, Telnyx's webhook_url), and the dashboard's
 * Senders screen shows them, after TOCSIN_PUBLIC_URL, for an admin to
 * paste into the carrier's console. */
#ifndef TOCSIN_WEBHOOK_PATHS_H
#define TOCSIN_WEBHOOK_PATHS_H

#define TOCSIN_PATH_TWILIO_INBOUND "/twilio/inbound" /* "A message comes in" */
#define TOCSIN_PATH_TWILIO_STATUS "/twilio/status"   /* delivery receipts */
#define TOCSIN_PATH_TELNYX_WEBHOOK "/telnyx/webhook" /* every Telnyx messaging event */

#endif
