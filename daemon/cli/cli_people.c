/* Health observation from the command line (README "Health observation"): start
 * one, end it, list who is under observation on a day, and one person's readings
 * and checks during theirs. The rules are the ledger's (ledger_observe.h); this
 * file parses, checks values and prints. */
#include "cli_people.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "civil.h"
#include "clock.h"
#include "config_load.h"
#include "ledger_observe.h"
#include "textnum.h"
#include "zone.h"

struct obs_args {
    const char *reason, *days, *from, *note, *by, *date, *class_name;
    const char *person; /* the one positional argument, or NULL */
};

/* Options `allowed` (letters of the table below) and `npos` (0 or 1) positionals. */
static int parse(int argc, char **argv, const char *cmd, const char *allowed, int npos,
                 struct obs_args *a)
{
    static const struct option opts[] = {
        {"reason", required_argument, NULL, 'r'}, {"days", required_argument, NULL, 'n'},
        {"from", required_argument, NULL, 'f'},   {"note", required_argument, NULL, 't'},
        {"by", required_argument, NULL, 'b'},     {"date", required_argument, NULL, 'd'},
        {"class", required_argument, NULL, 'c'},  {NULL, 0, NULL, 0}};
    char msg[96];
    int c;
    *a = (struct obs_args){.by = cli_login_name()};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?' || !strchr(allowed, c)) {
            snprintf(msg, sizeof msg, "%s: bad option", cmd);
            return cli_usage_error("%s", msg);
        }
        const char **slot = c == 'r' ? &a->reason : c == 'n' ? &a->days : c == 'f' ? &a->from
                          : c == 't' ? &a->note : c == 'b' ? &a->by : c == 'd' ? &a->date
                          : &a->class_name;
        *slot = optarg;
    }
    if (argc - optind != npos) {
        snprintf(msg, sizeof msg, "%s: expected %s", cmd, npos ? "one PERSON" : "no arguments");
        return cli_usage_error("%s", msg);
    }
    a->person = npos ? argv[optind] : NULL;
    return EXIT_OK;
}

/* The configuration and the school's zone (what "today" is), then the ledger. */
static int open_all(struct cli *cli)
{
    if (!cli->cfg && !(cli->cfg = config_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    if (zone_set(cli->cfg->school.timezone) < 0)
        return EXIT_USAGE;
    return cli_open_db(cli, true);
}

int cli_observe(struct cli *cli, int argc, char **argv)
{
    struct obs_args a;
    char from[LEDGER_DAY_LEN], to[LEDGER_DAY_LEN];
    long days = 0;
    int rc = parse(argc, argv, "observe", "rnftb", 1, &a);
    if (rc != EXIT_OK)
        return rc;
    if (!a.reason || !a.days)
        return cli_usage_error("observe: --reason and --days are required%s", "");
    if (tn_long(a.days, 1, OBSERVE_DAYS_MAX, &days) < 0)
        return cli_fail("--days '%s' is not a number of days from 1 to %d", a.days,
                        OBSERVE_DAYS_MAX);
    if ((rc = open_all(cli)) != EXIT_OK || (rc = cli_day_option(a.from, "from date", from)))
        return rc;
    char reason[32];
    snprintf(reason, sizeof reason, "%s", a.reason);
    for (char *p = reason; *p; p++)
        *p = *p == '-' ? '_' : *p; /* "close-contact" as typed */
    struct observe_in in = {.person = a.person, .reason = reason, .note = a.note,
                            .from_day = from, .days = (int)days, .by = a.by,
                            .at_ms = clock_wall_ms()};
    int64_t id = 0;
    struct cli_errs e;
    rc = cli_errs_report(&e, ledger_observe(cli->ledger, &in, &id, to, cli_errs_open(&e)));
    if (rc == EXIT_OK)
        printf("%s: under observation from %s to %s (observation %" PRId64 "); the gate %s\n",
               a.person, from, to, id, cli->cfg->screening.observation_refer
                   ? "sends them to the nurse" : "admits them with a note");
    return rc;
}

int cli_observe_end(struct cli *cli, int argc, char **argv)
{
    struct obs_args a;
    int rc = parse(argc, argv, "observe-end", "b", 1, &a);
    if (rc != EXIT_OK || (rc = open_all(cli)) != EXIT_OK)
        return rc;
    struct cli_errs e;
    rc = cli_errs_report(&e, ledger_observe_end(cli->ledger, a.person, a.by, clock_wall_ms(),
                                                cli_errs_open(&e)));
    if (rc == EXIT_OK)
        printf("%s: observation ended\n", a.person);
    return rc;
}

static void print_observation(const struct observation_view *v, void *arg)
{
    char t[16], w[32];
    (*(int *)arg)++;
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", v->external_id, v->name,
           v->class_name, v->reason, v->from_day, v->to_day, v->ended_day, v->readings,
           v->referred, v->fevers, v->last_ms ? tn_format_centi(v->last_centi, t, sizeof t) : "",
           v->last_ms ? civil_local_text(v->last_ms, CIVIL_DAY_HHMM, "?", w, sizeof w) : "");
}

int cli_observations(struct cli *cli, int argc, char **argv)
{
    struct obs_args a;
    char day[LEDGER_DAY_LEN];
    int rc = parse(argc, argv, "observations", "dc", 0, &a), n = 0;
    if (rc != EXIT_OK || (rc = open_all(cli)) != EXIT_OK ||
        (rc = cli_day_option(a.date, "date", day)) != EXIT_OK)
        return rc;
    printf("person\tname\tclass\treason\tfrom\tto\tended\treadings\treferred\tfevers\t"
           "last_temp\tlast_at\n");
    if (ledger_list_observations(cli->ledger, day, a.class_name, print_observation, &n) < 0)
        return EXIT_FAILED;
    fprintf(stderr, "%d under observation on %s\n", n, day);
    return EXIT_OK;
}

static void print_check(const struct observed_check_view *v, void *arg)
{
    char t[16], th[16], w[32];
    (void)arg;
    printf("%" PRId64 "\t%s\t%s\t%s\t%s\t%s\t%s\n", v->observation_id,
           civil_local_text(v->at_ms, CIVIL_DAY_HHMM, "?", w, sizeof w), v->source,
           v->has_temp ? tn_format_centi(v->temp_centi, t, sizeof t) : "",
           tn_format_centi(v->threshold_centi, th, sizeof th), v->outcome, v->lane);
}

int cli_observation(struct cli *cli, int argc, char **argv)
{
    struct obs_args a;
    int rc = parse(argc, argv, "observation", "", 1, &a);
    if (rc != EXIT_OK || (rc = open_all(cli)) != EXIT_OK)
        return rc;
    struct cli_errs e;
    printf("observation\tat\tsource\ttemp\tthreshold\toutcome\tlane\n");
    return cli_errs_report(&e, ledger_observed_checks(cli->ledger, a.person, print_check, NULL,
                                                      cli_errs_open(&e)));
}
