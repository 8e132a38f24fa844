/* SPDX-License-Identifier: AGPL-3.0-or-later
 * contacts_forget.c — `tocsinctl contacts forget --org SLUG NUMBER
 * [--yes]`: forgets one member of an org (tocsin_contact_forget, schema/
 * functions/forget.sql): without --yes it only says what would go and
 * what stays; with it, does it (audited as contact.forget, the number
 * masked). The number is normalised as imports do. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "dbsync.h"
#include "phone.h"
#include "tocsinctl.h"

static long long num(json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

static void print_result(const char *text, int dry)
{
    json_t *root = json_loads(text, 0, NULL);
    json_t *rm = json_object_get(root, "removed"), *kept = json_object_get(root, "kept");
    printf("%s %s (contact %lld)\n", dry ? "would forget" : "forgot",
           json_string_value(json_object_get(root, "phone")), num(root, "contact_id"));
    printf("%s\n", dry ? "would remove:" : "removed:");
    printf("  name, zip, timezone, language, custom fields  %s\n",
           num(rm, "contact_details") ? "yes" : "already gone");
    printf("  conversations (with their tags)               %lld\n", num(rm, "conversations"));
    printf("  notes                                         %lld\n", num(rm, "notes"));
    printf("  outbound message bodies                       %lld\n", num(rm, "outbound_bodies"));
    printf("  inbound message bodies                        %lld\n", num(rm, "inbound_bodies"));
    printf("  outreach targets and answers                  %lld\n", num(rm, "outreach"));
    printf("  queued messages cancelled                     %lld\n", num(rm, "queued_cancelled"));
    printf("  subscriptions ended (kept as consent history) %lld\n",
           num(rm, "subscriptions_ended"));
    printf("kept, as the law requires:\n");
    printf("  the number's opt-out                          %s\n",
           json_is_true(json_object_get(kept, "opted_out")) ? "yes (in force)" : "none");
    printf("  consent events (kept five years)              %lld\n", num(kept, "consent_events"));
    printf("  keyword/STOP/START messages (consent evidence) %lld\n",
           num(kept, "consent_evidence_bodies"));
    printf("  delivery records (number, time, state; no text) %lld\n",
           num(kept, "delivery_records"));
    json_decref(root);
}

int tocsinctl_contacts_forget(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *region = NULL, *pos[1] = {NULL};
    int yes = 0;
    const struct ctl_opt opts[] = {{"--org", &org, NULL},
                                   {"--region", &region, NULL},
                                   {"--yes", NULL, &yes},
                                   {NULL, NULL, NULL}};
    int np = ctl_parse("contacts forget", argc, argv, opts, pos, 1);
    if (np == -2)
        return TOCSINCTL_OK;
    if (np < 0 || ctl_require("contacts forget", "--org", org))
        return TOCSINCTL_USAGE;
    if (np != 1) {
        fprintf(stderr, "tocsinctl contacts forget: give the member's NUMBER (see --help)\n");
        return TOCSINCTL_USAGE;
    }
    char e164[TOCSIN_E164_MAX + 1], why[160];
    if (tocsin_phone_normalize(pos[0], strlen(pos[0]), region ? region : ctl->cfg.default_region,
                               e164, why, sizeof why) != 0) {
        fprintf(stderr, "tocsinctl contacts forget: invalid number \"%s\": %s\n", pos[0], why);
        return TOCSINCTL_USAGE;
    }
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    long long org_id;
    if (tocsinctl_find_org(conn, org, &org_id))
        return TOCSINCTL_FAIL;
    char org_s[24];
    snprintf(org_s, sizeof org_s, "%lld", org_id);
    const char *params[] = {org_s, e164, yes ? "f" : "t"};
    PGresult *res = tocsinctl_exec(
        conn, "contacts forget",
        "SELECT status, body FROM tocsin_contact_forget($1::bigint, 0, $2, $3::boolean)", 3,
        params);
    if (!res)
        return TOCSINCTL_FAIL;
    int rc = TOCSINCTL_OK;
    if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "200") != 0) {
        fprintf(stderr, "tocsinctl contacts forget: org \"%s\" has no contact with the number %s\n",
                org, e164);
        rc = TOCSINCTL_FAIL;
    } else {
        print_result(PQgetvalue(res, 0, 1), !yes);
        if (!yes)
            printf("nothing changed: run again with --yes to forget this member\n");
    }
    PQclear(res);
    return rc;
}
