/* `gatescreen summary`: the day's summary document as the bureau would get it,
 * pretty-printed for people. It only reads: the ledger is opened without
 * migrating, and no revision is stored (the daemon does that when it sends). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "civil.h"
#include "cli_upstream.h"
#include "clock.h"
#include "config_load.h"
#include "ledger_upstream.h"
#include "upstream.h"
#include "zone.h"


static int parse(int argc, char **argv, const char **date)
{
    static const struct option opts[] = {{"date", required_argument, NULL, 'd'},
                                          {NULL, 0, NULL, 0}};
    int c;
    *date = NULL;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'd')
            return cli_usage_error("summary: bad option%s", "");
        *date = optarg;
    }
    if (optind != argc)
        return cli_usage_error("summary: unexpected argument '%s'", argv[optind]);
    return EXIT_OK;
}

/* Builds and prints; the ledger is open. */
static int print_summary(struct cli *cli, const char *day)
{
    int revision;
    char *json = NULL, *pretty = NULL;
    int rc = EXIT_FAILED;
    if (summary_latest_revision(cli->ledger, day, &revision) == 0 &&
        summary_build(cli->ledger, cli->cfg, day, revision, clock_wall_ms(), &json) == 0 &&
        summary_pretty(json, &pretty) == 0) {
        printf("%s\n", pretty);
        rc = EXIT_OK;
    }
    free(json);
    free(pretty);
    return rc;
}

int cli_summary(struct cli *cli, int argc, char **argv)
{
    const char *date;
    char day[CIVIL_DAY_LEN];
    int rc = parse(argc, argv, &date);
    if (rc != EXIT_OK)
        return rc;
    if (!cli->cfg && !(cli->cfg = config_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    if (zone_set(cli->cfg->school.timezone) < 0)
        return EXIT_USAGE;
    if ((rc = cli_day_option(date, "date", day)) != EXIT_OK)
        return rc;
    /* No migration: printing must not change the file (a missing ledger is an error). */
    if ((rc = cli_open_db(cli, false)) != EXIT_OK)
        return rc;
    return print_summary(cli, day);
}
