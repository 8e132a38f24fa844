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

static void row(const char *what, long long n)
{
    printf("  %-50s %lld\n", what, n);
}

static void print_result(const char *text, int dry)
{
    json_t *root = json_loads(text, 0, NULL);
    json_t *rm = json_object_get(root, "removed"), *kept = json_object_get(root, "kept");
    printf("%s %s (contact %lld)\n", dry ? "would forget" : "forgot",
           json_string_value(json_object_get(root, "phone")), num(root, "contact_id"));
    printf("%s\n", dry ? "would remove:" : "removed:");
    printf("  %-50s %s\n", "name, zip, timezone, language, custom fields",
           num(rm, "contact_details") ? "yes" : "already gone");
    row("conversations (with their notes and tags)", num(rm, "conversations"));
    row("notes", num(rm, "notes"));
    row("texts of messages sent to her", num(rm, "outbound_bodies"));
    row("texts of her messages", num(rm, "inbound_bodies"));
    row("outreach targets and answers", num(rm, "outreach"));
    row("queued messages cancelled", num(rm, "queued_cancelled"));
    row("subscriptions ended (kept as consent history)", num(rm, "subscriptions_ended"));
    printf("kept, as the law requires:\n");
    printf("  %-50s %s\n", "the number's opt-out",
           json_is_true(json_object_get(kept, "opted_out")) ? "yes (in force)" : "none");
    row("consent events (kept five years)", num(kept, "consent_events"));
    row("keyword, STOP and START messages (consent evidence)",
        num(kept, "consent_evidence_bodies"));
    row("delivery records (number, time, state; no text)", num(kept, "delivery_records"));
    json_decref(root);
}

int tocsinctl_contacts_forget(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *org = NULL, *region = NULL, *pos[1] = {NULL};
    int yes = 0;
    const struct ctl_opt opts[] = {CTL_NEEDED("--org", org), CTL_VALUE("--region", region),
                                   CTL_FLAG("--yes", yes), CTL_END};
    int np;
    int go = ctl_begin(ctl, argc, argv,
                       &(struct ctl_args){.opts = opts, .pos = pos, .maxpos = 1, .npos = &np});
    if (go != CTL_GO)
        return go;
    if (np != 1) {
        fprintf(stderr, "tocsinctl contacts forget: give the member's NUMBER (see --help)\n");
        return TOCSINCTL_USAGE;
    }
    long long org_id;
    char org_region[3];
    PGconn *conn = ctl_connect(ctl, org, &org_id);
    if (!conn || (!region && tocsinctl_org_region(&ctl->cfg, conn, org_id, org_region) != 0))
        return TOCSINCTL_FAIL;
    char e164[TOCSIN_E164_MAX + 1], why[160];
    if (tocsin_phone_normalize(pos[0], strlen(pos[0]), region ? region : org_region, e164, why,
                               sizeof why) != 0) {
        fprintf(stderr, "tocsinctl contacts forget: invalid number \"%s\": %s\n", pos[0], why);
        return TOCSINCTL_USAGE;
    }
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
