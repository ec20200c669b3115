/* gatescreen-bureaud: start, serve, reload, stop (bureaud.c). */
#ifndef GS_BUREAUD_H
#define GS_BUREAUD_H

#include <stdbool.h>

struct bureaud_opts {
    const char *config_path;
    bool verbose;
};

/* Runs until SIGTERM or SIGINT; the process's exit status (0 clean stop, 1 could not
 * start, 2 bad configuration). */
int bureaud_run(const struct bureaud_opts *o);

#endif
