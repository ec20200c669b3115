/* gatescreend's life: start-up in dependency order, the main loop, reload and a
 * clean stop. main.c only parses the command line. */
#ifndef GS_DAEMON_H
#define GS_DAEMON_H

#include <stdbool.h>

struct daemon_opts {
    const char *config_path;
    bool foreground; /* stay attached, log to stderr (also under systemd) */
    int verbose;     /* -v count: 1 = debug logging regardless of the config */
    bool new_ledger; /* start with an empty ledger although one is expected */
};

/* Runs the daemon until SIGTERM/SIGINT; returns the process exit status:
 * 0 clean stop, 1 failure while running or starting, 2 bad configuration
 * (3, STOP_GUARD_STATUS, is an exit from within a stop that overran
 * [daemon] stop_timeout). */
int daemon_run(const struct daemon_opts *opts);

#endif
