/* SPDX-License-Identifier: AGPL-3.0-or-later
 * demo_seed.h — the demo's public facts (README, `tocsinctl demo-seed
 * --help`): its org, logins' password, and simulated Twilio short code. */
#ifndef TOCSINCTL_DEMO_SEED_H
#define TOCSINCTL_DEMO_SEED_H

#define DEMO_PASSWORD "tocsin-demo"
#define DEMO_ORG_NAME "Tocsin Demo Chapter"
#define DEMO_SHORT_CODE "24680"
#define DEMO_ACCOUNT_SID "AC7c0c51a0000000000000000000000000"
#define DEMO_AUTH_TOKEN "7c0c51a0000000000000000000000000"
#define DEMO_CARRIER_URL "http://127.0.0.1:8090" /* the carrier simulator ops/run starts */

#endif
