/* What the command-line tool's core (cli.c) shares with the nurse's commands
 * (cli_nurse.c), and those commands. */
#ifndef GS_CLI_NURSE_H
#define GS_CLI_NURSE_H

#include <stdbool.h>

#include "config.h"
#include "ledger.h"

/* Exit statuses: 0 done, 1 the operation failed (bad data, database), 2 usage or
 * configuration error. */
enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

struct cli {
    const char *config_path;
    struct config *cfg;
    struct ledger *ledger;
};

/* "gatescreen: MESSAGE" and the usage on stderr; returns EXIT_USAGE. */
int cli_usage_error(const char *fmt, const char *arg);
/* The person running the command, for the audit log. */
const char *cli_login_name(void);
/* Loads the configuration (unless cli->cfg is loaded already) and opens the ledger. */
int cli_open_db(struct cli *cli, bool migrate);

/* The nurse's commands: argv[0] is the command word, options anywhere. */
int cli_flags(struct cli *cli, int argc, char **argv);
int cli_recheck(struct cli *cli, int argc, char **argv);
int cli_referral(struct cli *cli, int argc, char **argv);
int cli_absences(struct cli *cli, int argc, char **argv);
int cli_absence(struct cli *cli, int argc, char **argv);
int cli_followup(struct cli *cli, int argc, char **argv);
int cli_leave(struct cli *cli, int argc, char **argv);
int cli_certificate(struct cli *cli, int argc, char **argv);
int cli_check(struct cli *cli, int argc, char **argv);
int cli_alerts(struct cli *cli, int argc, char **argv);
int cli_alert_close(struct cli *cli, int argc, char **argv);
int cli_day(struct cli *cli, int argc, char **argv);
int cli_sweep(struct cli *cli, int argc, char **argv);

#endif
