/* The command lines the four programs share, so that they read alike and their
 * rules live in one place:
 *
 *   gatescreend, gatescreen-bureaud   [-c FILE] [-f] [-v] [--check-config [FILE]]
 *                                     [-V] [-h] (gatescreend also --new-ledger)
 *   gatescreen, gatescreen-bureau     [-c FILE] [-h] GROUP [NAME] ARGS...
 *
 * Exit statuses for all: 0 done, 1 the operation failed, 2 usage or configuration,
 * 75 the store was busy or away (EX_TEMPFAIL of sysexits.h: nothing changed, run the
 * command again). */
#ifndef GS_CMDLINE_H
#define GS_CMDLINE_H

#include <stdbool.h>
#include <stdio.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_TEMPFAIL = 75 };

/* Returned by the parsers when the program goes on (any other value is the exit
 * status: after --help or --version, or a usage error already said on stderr). */
#define CMDLINE_RUN (-1)

/* A daemon's options. */
struct daemon_args {
    const char *config_path;   /* -c, or the --check-config FILE, or the default */
    bool foreground;           /* -f */
    int verbose;               /* -v count */
    bool check_config;         /* --check-config */
    bool new_ledger;           /* --new-ledger (only when the program takes it) */
};

/* Who is parsing: the name for messages and --version, the version, the default
 * configuration, the usage text's printer, and whether --new-ledger is an option. */
struct daemon_program {
    const char *name;
    const char *version;
    const char *default_config;
    void (*usage)(FILE *out);
    bool takes_new_ledger;
};

int cmdline_daemon(const struct daemon_program *p, int argc, char **argv,
                   struct daemon_args *a);

/* A command-line tool's global options (before the command word): sets
 * *config_path (left as it is without -c) and *first to the index of the command's
 * first word. */
int cmdline_global(int argc, char **argv, void (*usage)(FILE *out), const char **config_path,
                   int *first);

/* How many words (1 or 2) at the start of argv name the command `group [name]`
 * (name NULL: a one-word command); 0 when they do not. */
int cmdline_match(const char *group, const char *name, int argc, char **argv);

/* The command's own arguments, from its last word as their argv[0] (so getopt starts
 * after it), with getopt reset: optind = 0 makes glibc re-initialise it, so the "+"
 * (stop at the first non-option) used for the global options does not carry over
 * and `roster import FILE --by NAME` takes options after the file too. */
void cmdline_enter(int argc, char **argv, int first, int words, int *cargc, char ***cargv);

#endif
