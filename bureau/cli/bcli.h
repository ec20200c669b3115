/* gatescreen-bureau, the bureau administrator's command line: what its commands
 * share. Exit statuses as for the school's gatescreen: 0 done, 1 refused or failed,
 * 2 usage or configuration, 75 the database is not available (try again). */
#ifndef GS_BCLI_H
#define GS_BCLI_H

#include <stdbool.h>
#include <stdio.h>

#include "bconfig.h"
#include "bstore.h"
#include "cmdline.h"
#include "errbuf.h"


struct bcli {
    const char *config_path;
    struct bconfig *cfg;
    struct bstore *store;
};

/* Loads the configuration and connects (migrating the schema first): EXIT_OK, or the
 * exit status with the reason on stderr. */
int bcli_open(struct bcli *cli);
/* The one table from a store status to the exit status. */
int bcli_exit_status(enum bstore_status st);

/* "gatescreen-bureau: MESSAGE" on stderr; EXIT_FAILED. */
int bcli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The same with the usage; EXIT_USAGE. */
int bcli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Who runs the command, for audit_log (SUDO_USER, else the login name). */
const char *bcli_actor(void);

/* The sentences a store call wrote to errs, each as "gatescreen-bureau: LINE" on
 * stderr; then the exit status of st. */
FILE *bcli_errs_open(struct errbuf *e);
int bcli_errs_report(struct errbuf *e, enum bstore_status st);

/* The commands (bcli_school.c, bcli_credential.c, bcli_enrol.c). */
int bcli_school_add(struct bcli *cli, int argc, char **argv);
int bcli_school_import(struct bcli *cli, int argc, char **argv);
int bcli_school_list(struct bcli *cli, int argc, char **argv);
int bcli_school_disable(struct bcli *cli, int argc, char **argv);
int bcli_credential_add(struct bcli *cli, int argc, char **argv);
int bcli_credential_revoke(struct bcli *cli, int argc, char **argv);
int bcli_quarantine_list(struct bcli *cli, int argc, char **argv);
/* bcli_calendar.c */
int bcli_calendar_holiday(struct bcli *cli, int argc, char **argv);
int bcli_calendar_workday(struct bcli *cli, int argc, char **argv);
int bcli_calendar_clear(struct bcli *cli, int argc, char **argv);
int bcli_calendar_list(struct bcli *cli, int argc, char **argv);
int bcli_closure_add(struct bcli *cli, int argc, char **argv);
int bcli_closure_remove(struct bcli *cli, int argc, char **argv);
int bcli_closure_list(struct bcli *cli, int argc, char **argv);
/* bcli_missing.c */
int bcli_missing(struct bcli *cli, int argc, char **argv);
/* bcli_enrol.c */
int bcli_ca_init(struct bcli *cli, int argc, char **argv);
int bcli_school_enrol(struct bcli *cli, int argc, char **argv);
/* bcli_report.c */
int bcli_report(struct bcli *cli, int argc, char **argv);
int bcli_notice_list(struct bcli *cli, int argc, char **argv);
int bcli_notice_ack(struct bcli *cli, int argc, char **argv);
/* bcli_user.c */
int bcli_user_add(struct bcli *cli, int argc, char **argv);
int bcli_user_list(struct bcli *cli, int argc, char **argv);
int bcli_user_disable(struct bcli *cli, int argc, char **argv);
int bcli_user_enable(struct bcli *cli, int argc, char **argv);

#endif
