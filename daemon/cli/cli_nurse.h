/* What the command-line tool's core (cli.c) shares with the nurse's commands
 * (cli_nurse.c), and those commands. */
#ifndef GS_CLI_NURSE_H
#define GS_CLI_NURSE_H

#include <stdbool.h>
#include <stdio.h>

#include "civil.h"
#include "cmdline.h"
#include "config.h"
#include "errbuf.h"
#include "ledger.h"
#include "log.h"

/* Exit statuses (cmdline.h): 0 done, 1 the operation failed (bad data, database), 2
 * usage or configuration error, 75 the ledger was busy. A ledger call's status
 * becomes one through cli_exit_status. */

struct cli {
    const char *config_path;
    struct config *cfg;
    struct ledger *ledger;
};

/* "gatescreen: MESSAGE" on stderr; returns EXIT_FAILED (a refused value). */
int cli_fail(const char *fmt, ...) GS_PRINTF(1, 2);
/* "gatescreen: MESSAGE" and the usage on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, const char *arg);
/* The person running the command, for the audit log. */
const char *cli_login_name(void);
/* A date option (`what` names it in the message), or today in the school's zone
 * when it was not given; a malformed date is a bad value: EXIT_FAILED. */
int cli_day_option(const char *text, const char *what, char day[CIVIL_DAY_LEN]);
/* What a ledger call writes to its `errs`, collected and then printed one line at a
 * time as "gatescreen: ..." on stderr. */
struct cli_errs {
    struct errbuf b;
};
/* The FILE to pass as `errs` (stderr itself when out of memory). */
FILE *cli_errs_open(struct cli_errs *e);
/* The exit status of a ledger call's status: the one table (cli.c, README "Exit
 * statuses", docs/design.md "Errors"). */
int cli_exit_status(enum ledger_status st);
/* Prints what was written (or, for a busy ledger, that it was busy); returns
 * cli_exit_status(st). */
int cli_errs_report(struct cli_errs *e, enum ledger_status st);
/* Loads the configuration (unless cli->cfg is loaded already) and opens the ledger. */
int cli_open_db(struct cli *cli, bool migrate);

/* A command: argv[0] is the command word, options anywhere; returns an exit status. */
typedef int cli_command(struct cli *cli, int argc, char **argv);

/* The nurse's commands. */
cli_command cli_flags, cli_recheck, cli_referral, cli_absences, cli_absence, cli_followup,
    cli_leave, cli_certificate, cli_check, cli_alerts, cli_alert_close, cli_day, cli_sweep;

#endif
