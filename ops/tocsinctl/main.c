/* SPDX-License-Identifier: AGPL-3.0-or-later
 * main.c — tocsinctl: global options, the verb table (each verb's usage,
 * help, whether it uses the database, and handler: --help and VERB --help
 * are written from it), and the helpers every verb shares (the database
 * connection, opened on first use and closed after the verb; org lookup;
 * exec with error reporting). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "crypto.h"
#include "dbsync.h"
#include "demo_seed.h"
#include "log.h"
#include "tocsinctl.h"

/* One row per command, `tocsinctl [GROUP] NAME ARGS`: what --help prints
 * for it, whether it connects to the database, and its handler. Adding a
 * verb is adding a row (and its handler, in a file of its own). */
struct tocsinctl_verb {
    const char *group; /* "user", or NULL for a verb of its own */
    const char *name;  /* "add" */
    const char *args;  /* the usage after the name; each '\n' continues it on a new line */
    int needs_db;      /* 1: the handler may call tocsinctl_db() */
    tocsinctl_verb_fn fn;
    const char *summary; /* one line for tocsinctl --help */
    const char *help;    /* what VERB --help prints after the usage */
};

#define DB 1
#define NO_DB 0

static const struct tocsinctl_verb verbs[] = {
    {NULL, "setup",
     "[--database tocsin] [--owner-role tocsin_owner]\n[--runtime-role tocsin] [--web-role "
     "tocsin_web]",
     DB, tocsinctl_setup, "create the database and its owner and runtime roles (as superuser)",
     "Prepares a PostgreSQL cluster, connecting as a superuser: run it as\n"
     "`tocsinctl --database-url ADMIN-URL setup` (ADMIN-URL e.g. dbname=postgres, run\n"
     "as the system user postgres). Creates, or corrects:\n"
     "  the owner role (NOLOGIN): owns the database and its schema; migrations run as it\n"
     "    (tocsinctl migrate with options='-c role=tocsin_owner' on a superuser connection);\n"
     "  the runtime role (LOGIN, no superuser, no DDL): SELECT/INSERT/UPDATE/DELETE on tables,\n"
     "    USAGE on sequences, EXECUTE on functions, now and, by default privileges, for every\n"
     "    object later migrations create; the gateway, the worker and tocsinctl connect as it;\n"
     "  the web role (LOGIN, a member of the runtime role): the dashboard's, so that it runs as\n"
     "    another system user than the two daemons that hold the sealing key;\n"
     "  the database, owned by the owner role, with CONNECT and TEMPORARY for the runtime role "
     "only.\n"
     "Running it again changes nothing that is already right.\n"},
    {NULL, "init", "SLUG --name NAME --admin-email EMAIL [--national] [--help-text TEXT]", DB,
     tocsinctl_init, "create the first org and an invite link for its first admin",
     "Creates the first organisation of an empty installation and an invite link\n"
     "(valid 7 days) for its first admin, built on TOCSIN_DASHBOARD_URL. The admin\n"
     "opens it, sets a password, and invites everyone else from the dashboard.\n"
     "--national: the org is a national body, whose admin creates its chapters\n"
     "and invites their first admins from the dashboard (Org > Chapters).\n"
     "Refuses a database that already has an organisation (use org create).\n"},
    {NULL, "migrate", "[--dir DIR] [--status]", DB, tocsinctl_migrate,
     "apply pending schema migrations and changed functions, views and triggers",
     "In one transaction: applies the numbered migrations not applied yet, in\n"
     "order (recorded in schema_migrations), and the repeatable files of\n"
     "functions, views and triggers whose checksum changed, or all of them after\n"
     "a numbered migration (recorded in schema_repeatables; an object a file no\n"
     "longer defines is dropped). Files named functions/0_*.sql go before the\n"
     "numbered migrations, the others after. Then fills the quiet-hours zone\n"
     "table (tocsinctl zones refresh) if migrations were applied or it is\n"
     "unfilled, and re-seals carrier credentials of the old format for their\n"
     "sender rows (needs TOCSIN_SECRET_KEY or TOCSIN_SECRET_KEY_FILE).\n"
     "Running it again is a no-op.\n"
     "  --dir DIR   use DIR/NNN_*.sql and DIR/functions/*.sql instead of the files\n"
     "              built into tocsinctl\n"
     "  --status    list migrations and repeatable files and whether each is\n"
     "              applied; change nothing\n"},
    {NULL, "doctor",
     "[--key-file FILE] [--key-owner USER] [--ca-file FILE]\n[--no-carrier] [--no-probe]", DB,
     tocsinctl_doctor, "check a running installation and say what is wrong",
     "Checks a running installation and prints one line a check (ok, warn, FAIL, skip)\n"
     "with what is wrong in plain words. Changes nothing. Run it as the daemons run\n"
     "(docs/deploy.md: the user tocsin, the settings file, the key as a credential).\n"
     "It opens its own connection, so that a database it cannot reach is a check\n"
     "that failed, not an error.\n"
     "  database    reachable with TOCSIN_DATABASE_URL, as a role without superuser or DDL\n"
     "  migrations  every migration of this version applied, none changed, none unknown\n"
     "  key         FILE (default /etc/tocsin/secret_key) exists, belongs to USER (default\n"
     "              root) and nobody else may read it\n"
     "  url         TOCSIN_PUBLIC_URL and TOCSIN_DASHBOARD_URL are https:// and their\n"
     "              /healthz answers through the proxy (--ca-file: a CA for a private\n"
     "              certificate; --no-probe: do not connect)\n"
     "  proxy       TOCSIN_TRUSTED_PROXIES is set and this week's logins came from real\n"
     "              client addresses, not all from loopback\n"
     "  sealing     the public sealing key the dashboard seals new credentials with is\n"
     "              published and is this key's\n"
     "  sender      each sender's credentials open with the key and its carrier accepts\n"
     "              them (Twilio: GET the account; Telnyx: GET /v2/balance; both send\n"
     "              nothing; --no-carrier: do not ask)\n"
     "Exit status 0 when nothing failed (warnings allowed), 1 otherwise.\n"},
    {NULL, "reseal", "--old-key-file FILE", DB, tocsinctl_reseal,
     "after a key change: seal every carrier credential again with the new key",
     "After TOCSIN_SECRET_KEY (or its file) changed: opens every sender's carrier\n"
     "credential with the old key in FILE (64 hex digits) — whether tocsinctl sealed\n"
     "it (v2), the dashboard did (v3) or it predates both — seals it again with the\n"
     "new key, and publishes the new key's sealing key for the dashboard, all in one\n"
     "transaction: if any credential opens with neither key, nothing changes and the\n"
     "sender is named. Running it again skips what has the new key already. Then\n"
     "restart the gateway and the worker with the new key.\n"},
    {"backup", "status",
     "[--stanza tocsin] [--pgbackrest /usr/bin/pgbackrest]\n[--max-full-age-hours 192] "
     "[--max-wal-age-minutes 60]\n[--prometheus]",
     DB, tocsinctl_backup_status, "age of the last full backup and of the last archived WAL",
     "Says how old the last full pgBackRest backup of the stanza is and how old the\n"
     "last WAL segment PostgreSQL archived is, and whether archiving is failing.\n"
     "Run it as the system user postgres (it reads pgBackRest's repository and\n"
     "pg_stat_archiver):\n"
     "  runuser -u postgres -- tocsinctl --database-url dbname=tocsin backup status\n"
     "Exit 1 when there is no full backup younger than the limit (default 8 days:\n"
     "tocsin-backup-full.timer takes one a week), archiving is off or failing, or\n"
     "the last archived segment is older than its limit (an idle database archives\n"
     "a segment at most every archive_timeout, 60 s after tocsin-backup-setup, and\n"
     "only when something was written).\n"
     "  --prometheus  print the figures as Prometheus text instead (for node_exporter's\n"
     "                textfile collector); the exit status is the same\n"},
    {"audit", "verify", "[--org SLUG]", DB, tocsinctl_audit_verify,
     "check that no audit row was edited, removed or moved",
     "Walks each org's audit chain (or only SLUG's) in order and recomputes every\n"
     "row's SHA-256 hash from its columns and the hash of the row before it\n"
     "(docs/security.md). Prints one line an org: how many rows are intact, or\n"
     "the first broken link (the row's id, seq and time, and whether the row was\n"
     "edited, a row before it removed, rows moved, or rows cut from the end).\n"
     "Rows removed by retention (tocsin_audit_prune) are not a break: the chain\n"
     "starts at its anchor. Exit 1 when any org's chain is broken.\n"},
    {NULL, "metrics", "", DB, tocsinctl_metrics,
     "queue age and unknown outcomes per sender, as Prometheus text",
     "Prints, as Prometheus text, what only the database knows:\n"
     "  tocsin_queue_due_messages{sender}           queued messages whose time has come\n"
     "  tocsin_queue_oldest_due_age_seconds{sender} how long the oldest of them has waited\n"
     "  tocsin_messages_unknown{sender}             messages whose fate is unknown\n"
     "                                              (tocsinctl messages requeue)\n"
     "Every sender appears, with 0 when it has none. For node_exporter's textfile\n"
     "collector (docs/deploy.md, Monitoring); run it as the user tocsin.\n"},
    {"org", "create",
     "SLUG --name NAME [--national | --parent SLUG] [--help-text TEXT]\n[--help-text-es TEXT] "
     "[--phone-region CC]",
     DB, tocsinctl_org_create, "create an organisation (a chapter or the national body)",
     "Creates an organisation. SLUG is lower-case letters, digits and dashes.\n"
     "--national makes it a national body, whose admins create and enter its\n"
     "chapters from the dashboard (Chapters screen); --parent makes it a chapter of\n"
     "another org, which becomes national (a chapter has no chapters of its own).\n"
     "--help-text is the HELP reply\n"
     "(program name, contact, frequency, \"Msg&data rates may apply\", how to stop),\n"
     "--help-text-es the one members who write in Spanish get (without it, a\n"
     "default Spanish text with those parts).\n"
     "--phone-region: the country (two upper-case letters: MX, PR, GB) whose numbers\n"
     "written without +country its imports and typed numbers are read as (default\n"
     "TOCSIN_DEFAULT_REGION; tocsinctl org set changes it).\n"},
    {"org", "set",
     "SLUG [--volunteer-max-conversations N] [--require-two-factor on|off]\n"
     "[--phone-region CC|default]",
     DB, tocsinctl_org_set, "change an organisation's settings",
     "Changes an organisation's settings (give at least one).\n"
     "--phone-region: the country (two upper-case letters: MX, GB, US) whose\n"
     "numbers written without +country the org's imports, their previews and numbers\n"
     "typed in the dashboard are read as; default: back to TOCSIN_DEFAULT_REGION.\n"
     "Audited.\n"
     "--volunteer-max-conversations: the most open conversations one volunteer may\n"
     "hold (1-500, default 25); claiming from the pool stops there. Lowering it\n"
     "takes nothing away from anyone.\n"
     "--require-two-factor: whether admins and leads must log in with a code from\n"
     "an authenticator app (default on); one without it is asked to set one up\n"
     "right after her password, and can do nothing else until she has\n"
     "(docs/accounts.md). Audited.\n"},
    {"user", "add",
     "--org SLUG --email EMAIL --role admin|lead|volunteer\n[--name NAME] [--password-stdin]", DB,
     tocsinctl_user_add, "add a user (admin, lead or volunteer)",
     "Adds a login. With --password-stdin the first line of standard input is the\n"
     "password (10 to 256 characters); otherwise one is generated and printed once.\n"},
    {"user", "disable", "--org SLUG --email EMAIL", DB, tocsinctl_user_disable,
     "disable a user: her sessions and streams end",
     "Disables a login: her sessions end at once (open dashboard streams close),\n"
     "she cannot log in, and her open conversations go back to the pool.\n"},
    {"user", "enable", "--org SLUG --email EMAIL", DB, tocsinctl_user_enable,
     "enable a disabled user again",
     "Enables a disabled login again; her old sessions stay ended.\n"},
    {"user", "revoke-sessions", "--org SLUG --email EMAIL", DB, tocsinctl_user_revoke_sessions,
     "end every session of a user",
     "Ends every session of a login (\"log out everywhere\") without disabling it.\n"},
    {"user", "reset-two-factor", "--org SLUG --email EMAIL", DB, tocsinctl_user_reset_two_factor,
     "clear a user's two-factor login (lost phone and recovery codes)",
     "Removes a login's authenticator and recovery codes and ends her sessions;\n"
     "where her org requires two-factor login for her role she sets up a new one\n"
     "at her next login. For the last admin who lost both. Audited.\n"},
    {"sender", "add",
     "--org SLUG --address NUMBER|SHORTCODE\n--provider twilio|telnyx --mps N [--kind "
     "short_code|long_code|toll_free]\n"
     "[--account-sid AC...] [--auth-token-stdin | --auth-token-env VAR]\n"
     "[--api-key-env VAR] [--public-key BASE64] [--base-url URL]",
     DB, tocsinctl_sender_add, "add a sending number or short code",
     "Adds a sender. The Twilio auth token (or Telnyx API key) is read from stdin\n"
     "or from the named environment variable, never from the command line, and\n"
     "stored sealed with TOCSIN_SECRET_KEY. --mps is the carrier's rate limit in\n"
     "segments per second. --base-url points a sender at the carrier simulator.\n"},
    {"sender", "limit", "--provider twilio|telnyx --account ACCOUNT --mps N", DB,
     tocsinctl_sender_limit, "set a carrier account's own rate limit",
     "Sets the rate limit of a whole carrier account in segments per second,\n"
     "shared by every sender of that account (the Twilio account SID). The\n"
     "worker paces each sender at its own --mps and the account at this one.\n"
     "--mps 0 removes the account limit.\n"},
    {"sender", "show", "--address ADDRESS", DB, tocsinctl_sender_show,
     "show a sender and who answers STOP for it",
     "Shows a sender (its short code, or its number in E.164) and who answers\n"
     "STOP for it.\n"},
    {"sender", "opt-out", "--address ADDRESS --handled-by carrier|program|default", DB,
     tocsinctl_sender_opt_out, "set who answers STOP: carrier, program, default",
     "Says who answers STOP for a sender. carrier: the carrier confirms the\n"
     "opt-out itself and refuses later messages to that number with 21610\n"
     "(Twilio's default opt-out handling), so Tocsin sends no confirmation of\n"
     "its own (it still does for Spanish words, which the carrier does not\n"
     "know). program: nothing filters (a standalone short code); Tocsin sends\n"
     "the one confirmation. default: carrier for Twilio long codes and\n"
     "toll-free numbers, program otherwise.\n"},
    {"keyword", "add",
     "--org SLUG --keyword WORD --list NAME --reply TEXT\n[--pattern PCRE2] [--sender ADDRESS] "
     "[--language en|es]",
     DB, tocsinctl_keyword_add, "add an opt-in keyword with its confirmation",
     "Adds an opt-in keyword. A member who texts it is subscribed to the list and\n"
     "gets TEXT, which must name the org and say how often messages come,\n"
     "\"Msg&data rates may apply\", HELP for help and STOP to cancel. The default\n"
     "pattern matches the whole message in any case, ignoring surrounding spaces\n"
     "and trailing punctuation. A pattern sees the message folded (lower case, no\n"
     "accents, straight quotes, no surrounding punctuation or emoji) and matches\n"
     "caselessly, its own accents folded alike: UNETE and únete are one pattern.\n"
     "Without --sender it applies to every sender. --language (default: read\n"
     "from TEXT) is the language STOP, START and HELP are then answered in.\n"},
    {"contacts", "import",
     "--org SLUG [--list NAME | --outreach CAMPAIGN | --opt-outs COLUMN]\n[--preset NAME|auto] "
     "[--region CC] [--strict] [--dry-run] [--progress] FILE.csv",
     DB, tocsinctl_contacts_import, "import contacts from a CSV file",
     "Imports contacts from a CSV file (FILE - reads standard input). The header row\n"
     "names the columns: phone (required), first_name, last_name, zip, timezone (IANA,\n"
     "e.g. America/Chicago: quiet hours use it), and any others,\n"
     "which are kept as the contact's custom fields. Existing contacts are updated.\n"
     "Numbers are normalised to E.164; one written without +country is read in CC\n"
     "(default the org's phone region, else TOCSIN_DEFAULT_REGION, as in the\n"
     "dashboard), and one not valid there is rejected with its reason, never guessed.\n"
     "--list subscribes the contacts to that list (opted-out numbers never are).\n"
     "--outreach adds them instead as targets of that outreach campaign (its id):\n"
     "they are subscribed to nothing and never in a blast; volunteers text them.\n"
     "--opt-outs reads the file as an opt-out list (a Spoke or vendor export): only\n"
     "the column named COLUMN is read, and each valid number is opted out for the org\n"
     "(source import; its subscriptions end, its queued messages are cancelled); no\n"
     "contact is made or changed. Numbers already opted out keep their opt-out.\n"
     "--preset reads an export of another tool by its columns (as the dashboard's\n"
     "Move in page does): spoke_contacts, spoke_opt_outs, action_network, van,\n"
     "plain, or auto (detected from the header); rows whose SMS status says\n"
     "unsubscribed become opt-outs, never contacts. Not with standard input.\n"
     "The import is one transaction: rejected rows are reported with their line\n"
     "and reason; with --strict any rejected row aborts the whole import.\n"
     "--dry-run validates and counts, then writes nothing.\n"
     "--progress prints the rows read every 100,000 rows and the time each stage\n"
     "took on standard error (the default when it is a terminal).\n"
     "Exit status: 0 when the import committed, 1 when nothing was written.\n"},
    {NULL, "demo-seed", "[--carrier-url URL]", DB, tocsinctl_demo_seed,
     "create the demo org, logins, short code and keywords",
     "Creates the demo org \"demo\" (" DEMO_ORG_NAME ") with four logins, all with\n"
     "password " DEMO_PASSWORD ": admin@demo.test, lead@demo.test, vol1@demo.test,\n"
     "vol2@demo.test; a Twilio short code " DEMO_SHORT_CODE " on the carrier simulator\n"
     "(account SID " DEMO_ACCOUNT_SID ", auth token " DEMO_AUTH_TOKEN ");\n"
     "and the keywords JOIN (list members) and UNETE (list miembros).\n"
     "The short code sends through the carrier simulator at --carrier-url\n"
     "(default " DEMO_CARRIER_URL "). Needs TOCSIN_SECRET_KEY. Running it again\n"
     "changes nothing but the short code's carrier URL, when --carrier-url differs.\n"},
    {NULL, "segments", "[TEXT]", NO_DB, tocsinctl_segments, "count the SMS segments of a text",
     "Prints `encoding=GSM-7|UCS-2 segments=N units=N` for TEXT, or for standard\n"
     "input (one trailing newline removed) when TEXT is absent.\n"},
    {NULL, "phone", "INPUT [--region CC] [--org SLUG]", DB, tocsinctl_phone,
     "normalise and describe a phone number",
     "Prints `e164=+14155552671 type=fixed_line_or_mobile region=US place=\"...\"`\n"
     "or the reason INPUT is not a valid number (exit status 1). A number written\n"
     "without +country is read in CC, else in the phone region of the org SLUG as\n"
     "its imports read it (Settings, `org set --phone-region`), else in\n"
     "TOCSIN_DEFAULT_REGION. Only --org connects to the database; an org that does\n"
     "not exist is an error (exit status 1).\n"},
    {"zones", "refresh", "", DB, tocsinctl_zones_refresh,
     "rewrite the quiet-hours zones of area codes",
     "Rewrites phone_zones, the quiet-hours zones of every NANP area code (from\n"
     "libphonenumber's offline geocoder and Tocsin's state and province table)\n"
     "and of the countries Tocsin maps. Idempotent; `tocsinctl migrate` runs it\n"
     "when it applies migrations or finds the table unfilled.\n"},
    {"blast", "create", "--org SLUG --sender ADDRESS --list NAME --body TEXT\n[--filter JSON]", DB,
     tocsinctl_blast_create, "a draft blast to a list",
     "Creates a draft blast to the list's subscribers (minus opted-out numbers).\n"
     "TEXT may use fields: {first_name}, {last_name}, {zip}, {phone}, {timezone} or\n"
     "any column of the import, with a fallback as {first_name|friend}; braces are\n"
     "for fields only. A value counts up to 100 characters; the body must stay\n"
     "within 1600 once filled in. --filter '{\"field\":\"city\",\"equals\":\"Austin\"}'\n"
     "keeps contacts whose field equals the text, ignoring case.\n"
     "Prints the new blast's id. Exit 2 for invalid input.\n"},
    {"blast", "schedule", "ID --at TIMESTAMP|now", DB, tocsinctl_blast_schedule,
     "schedule a draft blast, or reschedule it",
     "Schedules a draft (or reschedules a scheduled) blast. TIMESTAMP is\n"
     "any PostgreSQL timestamptz, e.g. '2026-11-03 09:00 America/Chicago'.\n"
     "The worker expands it into messages when it is due.\n"
     "Above the org's blast_approval_over (the two-person rule) it is refused\n"
     "until a lead or an admin approves the blast in the dashboard or with\n"
     "tocsinctl blast approve (exit 1).\n"},
    {"blast", "approve", "ID --as EMAIL [--count N]", DB, tocsinctl_blast_approve,
     "approve a blast as a second person (the two-person rule)",
     "Approves a draft or scheduled blast as the account EMAIL, as the dashboard's\n"
     "Approve does, under the same rules: EMAIL is a lead or an admin of the\n"
     "blast's org (another org's blast does not exist for her) and did not create\n"
     "it; N is the audience count she was shown and must still be the count now.\n"
     "Without --count it approves nothing: it shows the blast (body, list, filter,\n"
     "sender, audience now, who made it) and the command that approves exactly\n"
     "that, and exits 1. Audited as blast.approve under EMAIL's account, with\n"
     "source cli (the dashboard's say dashboard); editing the blast's body, list,\n"
     "filter or sender afterwards voids the approval.\n"
     "Exit 2 for usage, 1 when refused.\n"},
    {"blast", "pause", "ID", DB, tocsinctl_blast_pause,
     "stop claiming a blast's messages (they stay queued)",
     "Pauses a sending blast: its messages stay queued and no worker claims them\n"
     "until it is resumed.\n"},
    {"blast", "resume", "ID", DB, tocsinctl_blast_resume, "resume a paused blast",
     "Resumes a paused blast.\n"},
    {"blast", "cancel", "ID", DB, tocsinctl_blast_cancel,
     "cancel every still-queued message of a blast",
     "Cancels a blast: every message still queued becomes cancelled (in one\n"
     "statement); messages already handed to a worker finish.\n"},
    {"blast", "status", "ID [--json]", DB, tocsinctl_blast_status,
     "a blast's state, counters and rate",
     "Prints a blast's state, its counters (each message counts in its\n"
     "current state: queued, sending, sent, delivered, undelivered,\n"
     "failed, unknown, suppressed, cancelled; recipients not fed as\n"
     "messages yet count queued, and \"not fed\" says how many; opted_out\n"
     "counts recipients who opted out while it was sending), progress and\n"
     "last-minute rate.\n"},
    {"blast", "list", "[--org SLUG] [--state STATE]", DB, tocsinctl_blast_list,
     "list blasts, newest first",
     "Lists blasts, newest first: id, org, state, recipients, messages still\n"
     "queued, sent (including delivered), scheduled time and the body's start.\n"},
    {"contacts", "forget", "--org SLUG [--region CC] [--yes] NUMBER", DB, tocsinctl_contacts_forget,
     "forget one member: names, fields, notes, message texts, conversations",
     "Forgets the member of the org with NUMBER (normalised as imports do; CC: region\n"
     "for a number without +country, default the org's phone region): her name, zip, timezone, language and custom\n"
     "fields, her conversations with their notes and tags, her outreach targets and\n"
     "answers, and the text of every message to and from her. Her queued messages are\n"
     "cancelled and her subscriptions ended. Kept, as the law requires: her number's\n"
     "opt-out, the consent history (subscriptions and consent events, five years), the\n"
     "keyword, STOP and START messages that are its evidence, and the delivery facts\n"
     "of what was sent (number, time, state, segments; not the text).\n"
     "Without --yes, only prints what would go and what stays. With --yes, does it,\n"
     "in one transaction, audited as contact.forget with the number masked.\n"},
    {"retention", "run", "[--dry-run] [--org SLUG]", DB, tocsinctl_retention_run,
     "remove what the orgs' retention settings say is too old",
     "Runs now what tocsin-worker runs every night (at 09:00 UTC; retention_schedule):\n"
     "  outbound_bodies  texts of messages older than the org's retain_outbound_days\n"
     "                   (default 365): the text goes, its length, segments and the\n"
     "                   delivery facts stay\n"
     "  inbound_bodies   texts of members' messages after retain_inbound_days (365);\n"
     "                   a keyword, STOP or START is consent evidence: five years\n"
     "  sessions         sessions expired retain_session_days ago (30)\n"
     "  audit_events     the org's oldest audit rows after retain_audit_days (730),\n"
     "                   a whole prefix at a time, the chain's anchor moved to the\n"
     "                   last one removed (tocsinctl audit verify still passes)\n"
     "  consent_events   an event superseded more than five years ago; a number's\n"
     "                   latest event and every opt-out in force are never removed\n"
     "1,000 rows per transaction. --org limits it to one org. --dry-run prints how many\n"
     "rows of each kind each org would lose now, and changes nothing.\n"},
    {"messages", "requeue",
     "--state unknown [--org SLUG] [--sender ADDRESS]\n[--blast ID] [--dry-run]", DB,
     tocsinctl_messages_requeue, "requeue messages whose fate is unknown",
     "Queues again the messages whose fate is unknown (the carrier may have them:\n"
     "a 5xx, a timeout or a worker lost after the request left). Only do this once\n"
     "you have checked they were not delivered: the members may get them twice.\n"
     "Their blast, if it had completed, sends again; messages of a cancelled\n"
     "blast stay unknown. --dry-run only counts.\n"},
    {"outreach", "create",
     "--org SLUG --name NAME --sender ADDRESS --script TEXT\n[--batch-size N] [--hours-start H] "
     "[--hours-end H]",
     DB, tocsinctl_outreach_create, "create a peer-to-peer outreach campaign",
     "Creates an outreach campaign as a draft, which volunteers do not see until a\n"
     "lead starts it on its dashboard page; then they claim batches of N contacts\n"
     "(default 25) and send each first message by hand. TEXT may use fields,\n"
     "{first_name|fallback}. Texting hours are in each contact's local time, 8 to 21\n"
     "by default (20 for Florida and Oklahoma numbers); a campaign may only narrow\n"
     "them. Prints the campaign's id; import its audience with\n"
     "tocsinctl contacts import --outreach ID.\n"},
    {"outreach", "status", "--org SLUG [ID]", DB, tocsinctl_outreach_status,
     "progress of an org's outreach campaigns",
     "One line per campaign of the org (or only campaign ID): id, state, name, and\n"
     "how many contacts are not yet texted, in volunteers' batches, texted, replied\n"
     "and opted out.\n"},
};

#undef DB
#undef NO_DB

static void verb_name(const struct tocsinctl_verb *v, char *out, size_t size)
{
    snprintf(out, size, "%s%s%s", v->group ? v->group : "", v->group ? " " : "", v->name);
}

static void usage(FILE *f)
{
    fprintf(f, "Usage: tocsinctl [--database-url URL] VERB [ARGS...]\n\n"
               "Operator's command line for Tocsin. Every verb answers --help;\n"
               "those marked * connect to the database (phone only with --org).\n\nVerbs:\n");
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        char name[64];
        verb_name(&verbs[i], name, sizeof name);
        fprintf(f, "  %-22s %c %s\n", name, verbs[i].needs_db ? '*' : ' ', verbs[i].summary);
    }
    fprintf(f, "\nThe database is --database-url or TOCSIN_DATABASE_URL.\n"
               "Exit status: 0 success, 1 failure, 2 usage error.\n\n");
    tocsin_config_print_help(f);
}

/* `tocsinctl GROUP` alone or with --help: the group's verbs. */
static void group_usage(FILE *f, const char *group)
{
    fprintf(f, "Usage: tocsinctl %s COMMAND [ARGS...]\n\nCommands (each answers --help):\n", group);
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
        if (verbs[i].group && strcmp(verbs[i].group, group) == 0)
            fprintf(f, "  %-16s %s\n", verbs[i].name, verbs[i].summary);
}

static void verb_usage(const struct tocsinctl_verb *v)
{
    char name[64];
    verb_name(v, name, sizeof name);
    int indent = printf("Usage: tocsinctl %s", name) + 1;
    for (const char *p = v->args, *sep = " "; *p; sep = "") {
        size_t n = strcspn(p, "\n");
        printf("%s%.*s", sep, (int)n, p);
        p += n;
        if (*p == '\n' && *++p)
            printf("\n%*s", indent, "");
    }
    printf("\n\n%s", v->help);
}

int tocsinctl_help(const char *verb)
{
    for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
        char name[64];
        verb_name(&verbs[i], name, sizeof name);
        if (strcmp(name, verb) == 0) {
            verb_usage(&verbs[i]);
            return TOCSINCTL_OK;
        }
    }
    fprintf(stderr, "tocsinctl: no help for \"%s\"\n", verb);
    return TOCSINCTL_FAIL;
}

PGconn *tocsinctl_db(struct tocsinctl *ctl)
{
    if (ctl->conn)
        return ctl->conn;
    if (!ctl->verb->needs_db) {
        /* The table says this verb works without a database: keep it true. */
        fprintf(stderr, "tocsinctl %s: this verb does not use the database\n", ctl->verb->name);
        return NULL;
    }
    char err[512];
    ctl->conn = tocsin_dbsync_connect(ctl->database_url, err, sizeof err);
    if (!ctl->conn) {
        fprintf(stderr, "tocsinctl: %s\n", err);
        return NULL;
    }
    PQclear(PQexec(ctl->conn, "SET client_min_messages = warning"));
    return ctl->conn;
}

PGresult *tocsinctl_exec(PGconn *conn, const char *verb, const char *sql, int nparams,
                         const char *const *params)
{
    char err[512];
    PGresult *res = tocsin_dbsync_exec(conn, sql, nparams, params, err, sizeof err);
    if (!res)
        fprintf(stderr, "tocsinctl %s: %s\n", verb, err);
    return res;
}

int tocsinctl_find_org(PGconn *conn, const char *slug, long long *org_id)
{
    const char *params[] = {slug};
    PGresult *res = tocsinctl_exec(conn, "org", "SELECT id FROM orgs WHERE slug = $1", 1, params);
    if (!res)
        return -1;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "tocsinctl: org \"%s\" does not exist\n", slug);
        PQclear(res);
        return -1;
    }
    *org_id = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return 0;
}

int tocsinctl_org_region(const struct tocsin_config *cfg, PGconn *conn, long long org_id,
                         char out[3])
{
    char id[24];
    snprintf(id, sizeof id, "%lld", org_id);
    const char *params[] = {id};
    PGresult *res = tocsinctl_exec(
        conn, "org", "SELECT phone_region FROM orgs WHERE id = $1::bigint", 1, params);
    if (!res)
        return -1;
    const char *r = cfg->default_region;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        r = PQgetvalue(res, 0, 0);
    snprintf(out, 3, "%s", r && *r ? r : "US");
    PQclear(res);
    return 0;
}

int tocsinctl_for_org(struct tocsinctl *ctl, const char *verb, const char *org, tocsinctl_org_fn fn,
                      void *arg, const char *done)
{
    PGconn *conn = tocsinctl_db(ctl);
    if (!conn)
        return TOCSINCTL_FAIL;
    long long org_id;
    int rc = TOCSINCTL_FAIL;
    char err[512];
    if (tocsinctl_find_org(conn, org, &org_id) == 0) {
        if (fn(conn, org_id, arg, err, sizeof err))
            fprintf(stderr, "tocsinctl %s: %s\n", verb, err);
        else {
            printf("%s\n", done);
            rc = TOCSINCTL_OK;
        }
    }
    return rc;
}

/* Runs a verb; the connection it may have opened (tocsinctl_db) closes
 * after it, whatever it returned. */
static int run(struct tocsinctl *ctl, const struct tocsinctl_verb *vb, int argc, char **argv)
{
    ctl->verb = vb;
    verb_name(vb, ctl->name, sizeof ctl->name);
    int rc = vb->fn(ctl, argc, argv);
    if (ctl->conn)
        PQfinish(ctl->conn);
    ctl->conn = NULL;
    return rc;
}

int main(int argc, char **argv)
{
    struct tocsinctl ctl;
    memset(&ctl, 0, sizeof ctl);
    int i = 1;
    const char *url = NULL;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("tocsinctl 0.1.0\n");
            return 0;
        }
        if (strcmp(argv[i], "--database-url") == 0 && i + 1 < argc) {
            url = argv[++i];
            continue;
        }
        fprintf(stderr, "tocsinctl: unknown option \"%s\" (see --help)\n", argv[i]);
        return 2;
    }
    if (i == argc) {
        usage(stderr);
        return 2;
    }
    char err[256];
    if (tocsin_config_load(&ctl.cfg, err, sizeof err) ||
        tocsin_config_check_region(&ctl.cfg, err, sizeof err)) {
        fprintf(stderr, "tocsinctl: %s\n", err);
        return 2;
    }
    tocsin_log_init("tocsinctl", ctl.cfg.log_level);
    if (tocsin_crypto_init()) {
        fprintf(stderr, "tocsinctl: could not initialise libsodium\n");
        return 1;
    }
    ctl.database_url = url ? url : ctl.cfg.database_url;
    const char *sub = i + 1 < argc ? argv[i + 1] : NULL;
    int group = 0;
    for (size_t v = 0; v < ARRAY_SIZE(verbs); v++) {
        const struct tocsinctl_verb *vb = &verbs[v];
        if (!vb->group && strcmp(argv[i], vb->name) == 0)
            return run(&ctl, vb, argc - i, argv + i);
        if (vb->group && strcmp(argv[i], vb->group) == 0) {
            group = 1;
            if (sub && strcmp(sub, vb->name) == 0)
                return run(&ctl, vb, argc - i - 1, argv + i + 1);
        }
    }
    if (!group) {
        fprintf(stderr, "tocsinctl: unknown verb \"%s\" (see --help)\n", argv[i]);
        return TOCSINCTL_USAGE;
    }
    if (sub && (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0)) {
        group_usage(stdout, argv[i]);
        return TOCSINCTL_OK;
    }
    if (!sub) {
        group_usage(stderr, argv[i]);
        return TOCSINCTL_USAGE;
    }
    fprintf(stderr, "tocsinctl %s: unknown command \"%s\" (see --help)\n", argv[i], sub);
    return TOCSINCTL_USAGE;
}
