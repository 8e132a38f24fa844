/* SPDX-License-Identifier: AGPL-3.0-or-later
 * backup_status.c — `tocsinctl backup status`: how old the last full
 * pgBackRest backup is (from `pgbackrest info --output=json`, run without
 * a shell) and how old the last archived WAL segment is (PostgreSQL's
 * pg_stat_archiver), each against a limit; plain lines, or Prometheus
 * text for node_exporter's textfile collector. Takes no backup itself
 * (that is tocsin-backup@full.service, docs/deploy.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "args.h"
#include "dbsync.h"
#include "tocsinctl.h"

#define INFO_MAX_BYTES (4u << 20) /* pgbackrest info of years of backups fits easily */

struct backup_facts {
    int info_ok; /* pgbackrest answered with our stanza, status ok */
    char info_problem[600];
    long long full_stop; /* Unix time the last full backup finished, 0 = none */
    char full_label[64];
    int backups; /* of every type */
    int db_ok;
    char db_problem[600];
    int archiving;     /* archive_mode is not off */
    long long wal_age; /* seconds since the last archived segment, -1 = none yet */
    char wal_name[64];
    long long failures; /* failed_count */
    int failing;        /* the last attempt failed */
    char failed_wal[64];
};

/* A stanza name as pgBackRest takes it, and nothing a shell or option
 * parser could misread. */
static int stanza_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return 0;
    return s[0] != '-';
}

/* Runs PGBACKREST --stanza=S --output=json info; returns its stdout
 * (malloc'd, NUL-terminated) or NULL with the reason in err. */
static char *run_info(const char *pgbackrest, const char *stanza, char *err, size_t errlen)
{
    int fd[2];
    if (pipe(fd) != 0) {
        snprintf(err, errlen, "could not make a pipe: %s", strerror(errno));
        return NULL;
    }
    char opt[96];
    snprintf(opt, sizeof opt, "--stanza=%s", stanza);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "could not fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        char *const argv[] = {(char *)pgbackrest, opt, (char *)"--output=json", (char *)"info",
                              NULL};
        execv(pgbackrest, argv);
        _exit(127);
    }
    close(fd[1]);
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    int too_big = 0;
    while (buf) {
        if (n + 1 == cap) {
            if (cap >= INFO_MAX_BYTES) {
                too_big = 1;
                break;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = grown;
            cap *= 2;
        }
        ssize_t got = read(fd[0], buf + n, cap - n - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    close(fd[0]); /* a child still writing gets EPIPE and ends */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!buf) {
        snprintf(err, errlen, "out of memory reading pgbackrest's answer");
        return NULL;
    }
    buf[n] = '\0';
    if (too_big || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (too_big)
            snprintf(err, errlen, "pgbackrest info answered more than %u bytes", INFO_MAX_BYTES);
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            snprintf(err, errlen,
                     "could not run %s: is pgBackRest installed (apt-get install pgbackrest)?",
                     pgbackrest);
        else
            snprintf(err, errlen,
                     "%s info failed (exit %d): run tocsin-backup-setup, or see its message above",
                     pgbackrest, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        free(buf);
        return NULL;
    }
    return buf;
}

/* Reads the stanza's status and its last full backup from info's JSON. */
static void parse_info(const char *text, const char *stanza, struct backup_facts *f)
{
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!json_is_array(root)) {
        snprintf(f->info_problem, sizeof f->info_problem,
                 "pgbackrest info did not answer a JSON array (%s)",
                 root ? "another value" : je.text);
        json_decref(root);
        return;
    }
    json_t *st = NULL, *item;
    size_t i;
    json_array_foreach(root, i, item)
    {
        const char *name = json_string_value(json_object_get(item, "name"));
        if (name && strcmp(name, stanza) == 0)
            st = item;
    }
    if (!st) {
        snprintf(f->info_problem, sizeof f->info_problem,
                 "pgBackRest has no stanza \"%s\": run tocsin-backup-setup", stanza);
        json_decref(root);
        return;
    }
    json_t *status = json_object_get(st, "status");
    json_t *code = json_object_get(status, "code");
    if (!json_is_integer(code) || json_integer_value(code) != 0) {
        const char *msg = json_string_value(json_object_get(status, "message"));
        snprintf(f->info_problem, sizeof f->info_problem, "stanza \"%s\": %s", stanza,
                 msg ? msg : "no status code 0 (ok)");
        json_decref(root);
        return;
    }
    f->info_ok = 1;
    json_array_foreach(json_object_get(st, "backup"), i, item)
    {
        f->backups++;
        const char *type = json_string_value(json_object_get(item, "type"));
        json_t *stop = json_object_get(json_object_get(item, "timestamp"), "stop");
        if (!type || strcmp(type, "full") != 0 || !json_is_integer(stop))
            continue;
        if (json_integer_value(stop) > f->full_stop) {
            f->full_stop = json_integer_value(stop);
            const char *label = json_string_value(json_object_get(item, "label"));
            snprintf(f->full_label, sizeof f->full_label, "%s", label ? label : "?");
        }
    }
    json_decref(root);
}

static void read_archiver(struct tocsinctl *ctl, struct backup_facts *f)
{
    char err[512];
    PGconn *conn = tocsin_dbsync_connect(ctl->database_url, err, sizeof err);
    if (!conn) {
        snprintf(f->db_problem, sizeof f->db_problem, "cannot connect to the database (%s)", err);
        return;
    }
    PGresult *res = tocsin_dbsync_exec(
        conn,
        "SELECT current_setting('archive_mode'), coalesce(last_archived_wal, ''),"
        " coalesce(extract(epoch FROM now() - last_archived_time)::bigint, -1), failed_count,"
        " coalesce(last_failed_wal, ''),"
        " last_failed_time IS NOT NULL AND last_failed_time > coalesce(last_archived_time, '-infinity')"
        " FROM pg_stat_archiver",
        0, NULL, err, sizeof err);
    if (!res || PQntuples(res) != 1) {
        snprintf(f->db_problem, sizeof f->db_problem, "cannot read pg_stat_archiver (%s)",
                 res ? "no row" : err);
    } else {
        f->db_ok = 1;
        f->archiving = strcmp(PQgetvalue(res, 0, 0), "off") != 0;
        snprintf(f->wal_name, sizeof f->wal_name, "%s", PQgetvalue(res, 0, 1));
        f->wal_age = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
        f->failures = strtoll(PQgetvalue(res, 0, 3), NULL, 10);
        snprintf(f->failed_wal, sizeof f->failed_wal, "%s", PQgetvalue(res, 0, 4));
        f->failing = strcmp(PQgetvalue(res, 0, 5), "t") == 0;
    }
    PQclear(res);
    PQfinish(conn);
}

/* Prometheus text: ages in seconds (-1 when there is none), failures. */
static void print_prometheus(const struct backup_facts *f, long long now)
{
    printf(
        "# HELP tocsin_backup_last_full_age_seconds Seconds since the last full pgBackRest backup finished "
        "(-1: none, or pgBackRest did not answer).\n"
        "# TYPE tocsin_backup_last_full_age_seconds gauge\n"
        "tocsin_backup_last_full_age_seconds %lld\n",
        f->info_ok && f->full_stop ? now - f->full_stop : -1);
    printf(
        "# HELP tocsin_backup_last_wal_archived_age_seconds Seconds since PostgreSQL last archived a WAL "
        "segment (-1: never, or archiving is off).\n"
        "# TYPE tocsin_backup_last_wal_archived_age_seconds gauge\n"
        "tocsin_backup_last_wal_archived_age_seconds %lld\n",
        f->db_ok && f->archiving ? f->wal_age : -1);
    printf(
        "# HELP tocsin_backup_wal_archive_failing 1 when PostgreSQL's last attempt to archive WAL failed.\n"
        "# TYPE tocsin_backup_wal_archive_failing gauge\n"
        "tocsin_backup_wal_archive_failing %d\n",
        f->db_ok && f->failing);
}

/* Parses a whole positive number of at most 7 digits. */
static int parse_limit(const char *s, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v <= 0 || v > 9999999)
        return -1;
    *out = v;
    return 0;
}

int tocsinctl_backup_status(struct tocsinctl *ctl, int argc, char **argv)
{
    const char *stanza = "tocsin", *pgbackrest = "/usr/bin/pgbackrest";
    const char *full_hours = "192", *wal_minutes = "60";
    int prometheus = 0;
    const struct ctl_opt opts[] = {CTL_VALUE("--stanza", stanza),
                                   CTL_VALUE("--pgbackrest", pgbackrest),
                                   CTL_VALUE("--max-full-age-hours", full_hours),
                                   CTL_VALUE("--max-wal-age-minutes", wal_minutes),
                                   CTL_FLAG("--prometheus", prometheus),
                                   CTL_END};
    int go = ctl_begin(ctl, argc, argv, &(struct ctl_args){.opts = opts});
    if (go != CTL_GO)
        return go;
    long long max_full_h, max_wal_min;
    if (parse_limit(full_hours, &max_full_h) || parse_limit(wal_minutes, &max_wal_min)) {
        fprintf(stderr, "tocsinctl backup status: the limits must be whole numbers above 0\n");
        return TOCSINCTL_USAGE;
    }
    if (!stanza_valid(stanza)) {
        fprintf(
            stderr,
            "tocsinctl backup status: invalid --stanza \"%s\": lower-case letters, digits, _ and -\n",
            stanza);
        return TOCSINCTL_USAGE;
    }
    struct backup_facts f;
    memset(&f, 0, sizeof f);
    f.wal_age = -1;
    char err[512];
    fflush(stdout); /* the child inherits nothing half-written */
    char *info = run_info(pgbackrest, stanza, err, sizeof err);
    if (info)
        parse_info(info, stanza, &f);
    else
        snprintf(f.info_problem, sizeof f.info_problem, "%s", err);
    free(info);
    read_archiver(ctl, &f);
    long long now = (long long)time(NULL);
    int failed = 0;

    /* The full backup. */
    char full_line[768];
    if (!f.info_ok) {
        failed = 1;
        snprintf(full_line, sizeof full_line, "FAIL  full backup  %s", f.info_problem);
    } else if (!f.full_stop) {
        failed = 1;
        snprintf(full_line, sizeof full_line,
                 "FAIL  full backup  none in stanza \"%s\" (%d backups of other types): "
                 "systemctl start tocsin-backup@full",
                 stanza, f.backups);
    } else {
        long long age = now - f.full_stop;
        int old = age > max_full_h * 3600;
        failed |= old;
        snprintf(
            full_line, sizeof full_line, "%s  full backup  %s finished %.1f h ago (limit %lld h)%s",
            old ? "FAIL" : "ok  ", f.full_label, (double)age / 3600.0, max_full_h,
            old ? ": is tocsin-backup-full.timer enabled? journalctl -u tocsin-backup@full" : "");
    }
    /* WAL archiving. */
    char wal_line[768];
    if (!f.db_ok) {
        failed = 1;
        snprintf(wal_line, sizeof wal_line, "FAIL  wal          %s", f.db_problem);
    } else if (!f.archiving) {
        failed = 1;
        snprintf(
            wal_line, sizeof wal_line,
            "FAIL  wal          archive_mode is off: nothing after the last backup could be restored; "
            "run tocsin-backup-setup");
    } else if (f.failing) {
        failed = 1;
        snprintf(
            wal_line, sizeof wal_line,
            "FAIL  wal          archiving is failing (segment %s, %lld failures): PostgreSQL keeps the "
            "segments until it succeeds, so its disk fills; journalctl -u postgresql@15-main",
            f.failed_wal, f.failures);
    } else if (f.wal_age < 0) {
        failed = 1;
        snprintf(wal_line, sizeof wal_line, "FAIL  wal          no segment archived yet");
    } else {
        int old = f.wal_age > max_wal_min * 60;
        failed |= old;
        snprintf(wal_line, sizeof wal_line,
                 "%s  wal          last segment %s archived %lld s ago (limit %lld min)",
                 old ? "FAIL" : "ok  ", f.wal_name, f.wal_age, max_wal_min);
    }
    if (prometheus)
        print_prometheus(&f, now);
    else
        printf("%s\n%s\n", full_line, wal_line);
    return failed ? TOCSINCTL_FAIL : TOCSINCTL_OK;
}
