/* `gatescreen upload` and `gatescreen outbox`: the administrator's hands on the
 * outbox. The daemon's uploader sends by itself within a second of a row being
 * queued; these commands are for a ledger without a daemon, for sending at once
 * after a fix (--now, --retry-parked), and for seeing what is stuck and why. The
 * same outbox functions and the same uploader pass as the daemon's are used, so
 * the CLI and the daemon can never disagree on what was sent. */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "config_load.h"
#include "cli_outbox.h"
#include "clock.h"
#include "ledger_outbox.h"
#include "uploader.h"
#include "upstream.h"
#include "zone.h"

#define RECENT_MS (7 * 24 * 3600 * 1000LL) /* sent rows `outbox` shows without --all */

struct upload_args {
    const char *date;
    bool now, retry_parked, all;
};

static int parse(int argc, char **argv, const char *name, bool upload, struct upload_args *a)
{
    static const struct option opts[] = {{"date", required_argument, NULL, 'd'},
                                          {"now", no_argument, NULL, 'n'},
                                          {"retry-parked", no_argument, NULL, 'r'},
                                          {"all", no_argument, NULL, 'a'},
                                          {NULL, 0, NULL, 0}};
    int c;
    *a = (struct upload_args){0};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (upload && c == 'd')
            a->date = optarg;
        else if (upload && (c == 'n' || c == 'r'))
            *(c == 'n' ? &a->now : &a->retry_parked) = true;
        else if (!upload && c == 'a')
            a->all = true;
        else
            return cli_usage_error("%s: bad option", name);
    }
    if (optind != argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    return EXIT_OK;
}

/* The configuration, with [upstream] url: without it there is nowhere to send to. */
static int load_upstream(struct cli *cli, const char *name)
{
    if (!cli->cfg && !(cli->cfg = config_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    if (zone_set(cli->cfg->school.timezone) < 0)
        return EXIT_USAGE;
    if (!cli->cfg->upstream.enabled) {
        fprintf(stderr, "gatescreen: %s: [upstream] url is not set in %s; there is nowhere to "
                        "send to\n", name, cli->cfg->path);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}


/* ---- upload ------------------------------------------------------------------------- */

static int retry_parked(struct ledger *l)
{
    int n = 0;
    if (outbox_retry_parked(l, clock_wall_ms(), &n) < 0)
        return EXIT_FAILED;
    printf("%d parked row%s back in the queue\n", n, n == 1 ? "" : "s");
    return EXIT_OK;
}

/* The notices and the day's summary; the key file is read for the pseudonyms. */
static int queue_all(struct cli *cli, const char *day)
{
    struct pseudonym *ps = NULL;
    int n = 0, revision = 0, rc = EXIT_FAILED;
    bool queued = false;
    const struct cfg_upstream *u = &cli->cfg->upstream;
    if (*u->secret_file && !(ps = pseudonym_open(u->secret_file, stderr)))
        return EXIT_USAGE;
    bool notices = outbox_queue_notices(cli->ledger, cli->cfg, ps, clock_wall_ms(), &n) == 0;
    if (!notices)
        fprintf(stderr, "gatescreen: some urgent notices could not be queued (see above)\n");
    /* The summary goes even so: one broken notice must not hold back the figures. */
    if (outbox_queue_summary(cli->ledger, cli->cfg, day, clock_wall_ms(), &revision,
                             &queued) == 0)
        rc = notices ? EXIT_OK : EXIT_FAILED;
    else
        revision = -1;
    if (n)
        printf("%d urgent notice%s queued\n", n, n == 1 ? "" : "s");
    if (revision >= 0 && queued)
        printf("summary %s: revision %d queued\n", day, revision);
    else if (revision >= 0)
        printf("summary %s: no new facts: revision %d stands\n", day, revision);
    pseudonym_free(ps);
    return rc;
}

static void print_counts(struct ledger *l)
{
    struct outbox_counts c;
    if (outbox_count(l, &c) == 0)
        printf("outbox: %d pending, %d parked, %d sent\n", c.pending, c.parked, c.sent);
}

/* --now means now: rows waiting for their retry are tried too (the backoff spaces
 * out the daemon's own retries, not what someone asks for after fixing a cause). */
static int send_now(struct cli *cli)
{
    int sent = 0, failed = 0, rc = outbox_make_due(cli->ledger, clock_wall_ms(), NULL);
    if (rc == 0)
        rc = uploader_run_once(cli->cfg, cli->ledger, &sent, &failed, stdout);
    printf("%d sent, %d failed\n", sent, failed);
    print_counts(cli->ledger);
    return rc < 0 || failed ? EXIT_FAILED : EXIT_OK;
}

int cli_upload(struct cli *cli, int argc, char **argv)
{
    struct upload_args a;
    char day[CIVIL_DAY_LEN];
    int rc = parse(argc, argv, "upload", true, &a);
    if (rc == EXIT_OK)
        rc = load_upstream(cli, "upload");
    if (rc == EXIT_OK)
        rc = cli_day_option(a.date, "date", day);
    /* Refuse the files the daemon would refuse, before anything is queued. */
    if (rc == EXIT_OK && uploader_check_files(cli->cfg, stderr) < 0)
        rc = EXIT_USAGE;
    if (rc == EXIT_OK)
        rc = cli_open_db(cli, true);
    if (rc == EXIT_OK && a.retry_parked)
        rc = retry_parked(cli->ledger);
    if (rc == EXIT_OK)
        rc = queue_all(cli, day);
    /* What did queue goes even if a notice or the summary could not be built. */
    if ((rc == EXIT_OK || rc == EXIT_FAILED) && cli->ledger && a.now) {
        int sent = send_now(cli);
        return rc == EXIT_OK ? sent : EXIT_FAILED;
    }
    if (rc == EXIT_OK)
        print_counts(cli->ledger);
    return rc;
}

/* ---- outbox ------------------------------------------------------------------------- */

struct listing {
    bool all;
    int64_t recent_since;
    int shown, hidden;
};

static void print_row(const struct outbox_view *v, void *arg)
{
    struct listing *ls = arg;
    char created[32], when[32];
    bool sent = strcmp(v->state, "sent") == 0, pending = strcmp(v->state, "pending") == 0;
    if (sent && !ls->all && v->sent_ms < ls->recent_since) {
        ls->hidden++;
        return;
    }
    ls->shown++;
    /* For a sent row: when; a pending one: its next attempt; a parked one: nothing. */
    civil_local_text(sent ? v->sent_ms : pending ? v->next_attempt_ms : 0, CIVIL_DAY_HHMMSS, "-", when, sizeof when);
    /* Why a pending row waits, before its last error: someone else sends it, or a
     * parked revision of its day holds it back. */
    printf("%" PRId64 "\t%s\t%s\t%s\t%d\t%s\t%s\t%s%s%s%s\n", v->id, v->kind, v->key,
           v->state, v->attempts,
           civil_local_text(v->created_ms, CIVIL_DAY_HHMMSS, "-", created, sizeof created), when,
           *v->note ? "(" : "", v->note, *v->note ? ") " : "", v->last_error);
}

int cli_outbox(struct cli *cli, int argc, char **argv)
{
    struct upload_args a;
    int rc = parse(argc, argv, "outbox", false, &a);
    if (rc == EXIT_OK)
        rc = load_upstream(cli, "outbox");
    if (rc == EXIT_OK)
        rc = cli_open_db(cli, false); /* only reads */
    if (rc != EXIT_OK)
        return rc;
    struct listing ls = {.all = a.all, .recent_since = clock_wall_ms() - RECENT_MS};
    printf("id\tkind\tkey\tstate\tattempts\tcreated\tsent/next attempt\tlast error\n");
    if (outbox_list(cli->ledger, clock_wall_ms(), print_row, &ls) < 0)
        return EXIT_FAILED;
    if (ls.hidden)
        printf("(%d sent more than 7 days ago not shown; --all shows them)\n", ls.hidden);
    print_counts(cli->ledger);
    return EXIT_OK;
}
