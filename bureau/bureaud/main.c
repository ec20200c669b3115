/* gatescreen-bureaud: the bureau's collector. Command line only; see bureaud.c. */
#include <stdio.h>

#include "bconfig.h"
#include "bureaud.h"
#include "cmdline.h"
#include "log.h"
#include "pull_auth.h"

#define DEFAULT_CONFIG "/etc/gatescreen-bureau/bureau.conf"

static void usage(FILE *out)
{
    fprintf(out, "usage: gatescreen-bureaud [-c FILE] [-v]\n"
                 "       gatescreen-bureaud --check-config [FILE]\n"
                 "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
                 "  -v, --verbose       debug logging\n"
                 "      --check-config  check the configuration and the files it names, "
                 "print 'configuration OK'\n"
                 "  -V, --version       print the version\n"
                 "It runs in the foreground and logs to stderr (systemd: Type=notify).\n");
}

static int check_config(const char *path)
{
    struct bconfig *c = bconfig_load(path, stderr);
    if (!c)
        return 2;
    int bad = bconfig_check_files(c, stderr);
    struct pull_auth *tokens = bad ? NULL : pull_auth_new(&c->pull, stderr);
    bad = bad || !tokens; /* every line of the token file, as the start reads it */
    pull_auth_free(tokens);
    bconfig_free(c);
    if (bad)
        return 2;
    printf("configuration OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    /* -f is accepted for the school daemon's habit: the collector never detaches */
    static const struct daemon_program me = {"gatescreen-bureaud", GS_VERSION, DEFAULT_CONFIG,
                                              usage, false};
    struct daemon_args a;
    log_init("gatescreen-bureaud", LOG_LVL_INFO, LOG_OUT_STDERR);
    int rc = cmdline_daemon(&me, argc, argv, &a);
    if (rc != CMDLINE_RUN)
        return rc;
    struct bureaud_opts o = {.config_path = a.config_path, .verbose = a.verbose > 0};
    return a.check_config ? check_config(o.config_path) : bureaud_run(&o);
}
