/* `gatescreen calendar show|close|reopen` (cli_calendar.h). */
#include "cli_calendar.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "ledger_calendar.h"

#define SHOW_DAYS 14 /* show: the kind of today and the days after it */

/* ---- show -------------------------------------------------------------------------- */

static void print_closed(const struct closed_day_view *v, void *arg)
{
    (void)arg;
    char at[CIVIL_TEXT_LEN];
    printf("  %s\t%s\t(%s, by %s, %s)\n", v->day, v->reason, v->source, v->by,
           civil_local_text(v->at_ms, CIVIL_DAY_HHMM, "-", at, sizeof at));
}

static void print_groups(const char *kind, const struct cfg_group *g, int n)
{
    for (int i = 0; i < n; i++) {
        printf("%s %s:", kind, g[i].name);
        if (g[i].return_day[0])
            printf(" back on %s (分批开学)", g[i].return_day);
        if (g[i].has_slot)
            printf(" arrives %02d:%02d-%02d:%02d", g[i].slot_start / 60, g[i].slot_start % 60,
                   g[i].slot_end / 60, g[i].slot_end % 60);
        printf("\n");
    }
}

static void print_config(const struct cfg_windows *w)
{
    const struct cfg_calendar *c = &w->calendar;
    printf("term: %s .. %s\n", c->term_start[0] ? c->term_start : "(open)",
           c->term_end[0] ? c->term_end : "(open)");
    printf("holidays:");
    for (int i = 0; i < c->nholidays; i++)
        if (strcmp(c->holidays[i].from, c->holidays[i].to) == 0)
            printf("%s %s", i ? "," : "", c->holidays[i].from);
        else
            printf("%s %s..%s", i ? "," : "", c->holidays[i].from, c->holidays[i].to);
    printf("%s\nmake-up school days (调休):", c->nholidays ? "" : " none");
    for (int i = 0; i < c->nworkdays; i++)
        printf("%s %s", i ? "," : "", c->workdays[i]);
    printf("%s\n", c->nworkdays ? "" : " none");
    print_groups("grade", w->grades, w->ngrades);
    print_groups("class", w->classes, w->nclasses);
}

/* Today and the next days: what each is, a closure's reason when closed. */
static int print_days(struct cli *cli, const char *today)
{
    char day[CIVIL_DAY_LEN], reason[LEDGER_REASON_MAX * 4 + 1];
    snprintf(day, sizeof day, "%s", today);
    printf("the next %d days:\n", SHOW_DAYS);
    for (int i = 0; i < SHOW_DAYS; i++) {
        int closed = ledger_day_closed(cli->ledger, day, reason, sizeof reason);
        if (closed < 0)
            return EXIT_FAILED;
        if (closed)
            printf("  %s\tclosed: %s\n", day, reason);
        else
            printf("  %s\t%s\n", day, civil_day_kind_name(civil_day_kind(&cli->cfg->windows, day)));
        if (civil_day_add(day, 1, day) < 0)
            return EXIT_FAILED;
    }
    return EXIT_OK;
}

int cli_calendar_show(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    char today[CIVIL_DAY_LEN];
    if (argc != 1)
        return cli_usage_error("calendar show: takes no arguments%s", "");
    int rc = cli_open_db(cli, true);
    if (rc != EXIT_OK)
        return rc;
    if (civil_day_of(clock_wall_ms(), today) < 0)
        return cli_fail("the clock's day is out of range");
    print_config(&cli->cfg->windows);
    printf("closed days (gatescreen calendar close):\n");
    if (ledger_list_closed_days(cli->ledger, NULL, print_closed, NULL) < 0)
        return EXIT_FAILED;
    return print_days(cli, today);
}

/* ---- close and reopen -------------------------------------------------------------- */

struct cal_args {
    const char *reason, *by, *day;
};

static int parse(int argc, char **argv, const char *cmd, bool reason, struct cal_args *a)
{
    static const struct option opts[] = {{"reason", required_argument, NULL, 'r'},
                                          {"by", required_argument, NULL, 'b'},
                                          {NULL, 0, NULL, 0}};
    char msg[96];
    int c;
    *a = (struct cal_args){.by = cli_login_name()};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?' || (c == 'r' && !reason)) {
            snprintf(msg, sizeof msg, "calendar %s: bad option", cmd);
            return cli_usage_error("%s", msg);
        }
        *(c == 'r' ? &a->reason : &a->by) = optarg;
    }
    if (optind != argc - 1 || (reason && !a->reason)) {
        snprintf(msg, sizeof msg, "calendar %s: expected %s", cmd,
                 reason ? "DATE or FROM..TO and --reason TEXT" : "one DATE");
        return cli_usage_error("%s", msg);
    }
    a->day = argv[optind];
    return EXIT_OK;
}

/* "D" or "FROM..TO" into from and to. */
static int split_range(const char *text, char from[CIVIL_DAY_LEN], char to[CIVIL_DAY_LEN])
{
    const char *dots = strstr(text, "..");
    size_t n = dots ? (size_t)(dots - text) : strlen(text);
    if (n >= CIVIL_DAY_LEN || (dots && strlen(dots + 2) >= CIVIL_DAY_LEN))
        return cli_fail("'%s' is not a date YYYY-MM-DD or a range FROM..TO", text);
    snprintf(from, CIVIL_DAY_LEN, "%.*s", (int)n, text);
    snprintf(to, CIVIL_DAY_LEN, "%s", dots ? dots + 2 : from);
    return EXIT_OK;
}

int cli_calendar_close(struct cli *cli, int argc, char **argv)
{
    struct cal_args a;
    char from[CIVIL_DAY_LEN], to[CIVIL_DAY_LEN];
    int rc = parse(argc, argv, "close", true, &a);
    if (rc == EXIT_OK)
        rc = split_range(a.day, from, to);
    if (rc == EXIT_OK)
        rc = cli_open_db(cli, true);
    if (rc != EXIT_OK)
        return rc;
    int closed = 0, cleared = 0;
    struct cli_errs e;
    rc = cli_errs_report(&e, ledger_close_days(cli->ledger, from, to, a.reason, a.by,
                                               clock_wall_ms(), &closed, &cleared,
                                               cli_errs_open(&e)));
    if (rc != EXIT_OK)
        return rc;
    printf("%s%s%s: %d day(s) closed (%s)", from, strcmp(from, to) ? ".." : "",
           strcmp(from, to) ? to : "", closed, a.reason);
    if (cleared)
        printf("; %d absence(s) the sweep had made removed", cleared);
    printf("\nno absence sweep runs on a closed day, and its summary tells the bureau it is "
           "closed\n");
    return EXIT_OK;
}

int cli_calendar_reopen(struct cli *cli, int argc, char **argv)
{
    struct cal_args a;
    char day[CIVIL_DAY_LEN];
    int rc = parse(argc, argv, "reopen", false, &a);
    if (rc == EXIT_OK)
        rc = cli_day_option(a.day, "date", day);
    if (rc == EXIT_OK)
        rc = cli_open_db(cli, true);
    if (rc != EXIT_OK)
        return rc;
    bool sweep_done = false;
    struct cli_errs e;
    rc = cli_errs_report(&e, ledger_reopen_day(cli->ledger, day, a.by, clock_wall_ms(),
                                               &sweep_done, cli_errs_open(&e)));
    if (rc != EXIT_OK)
        return rc;
    printf("%s is open again\n", day);
    if (sweep_done)
        printf("its absence sweep was skipped while it was closed: run `gatescreen sweep "
               "--date %s` to make it now\n", day);
    return EXIT_OK;
}
