/* gatescreend: the gate daemon. Command line only; see daemon.c. */
#include <stdio.h>
#include <stdlib.h>

#include "cmdline.h"
#include "config_load.h"
#include "daemon.h"
#include "log.h"
#include "secret_file.h"
#include "uploader.h"

#define DEFAULT_CONFIG "/etc/gatescreen/gatescreen.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gatescreend [-c FILE] [-f] [-v] [--new-ledger]\n"
            "       gatescreend --check-config [FILE]\n"
            "  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ")\n"
            "  -f, --foreground    stay in the foreground and log to stderr (systemd)\n"
            "  -v, --verbose       debug logging\n"
            "      --check-config  validate the configuration, print 'configuration OK'\n"
            "                      (and warn about buses asked for more polls than they carry)\n"
            "      --new-ledger    start with a new, empty ledger when the configured one\n"
            "                      is missing although it held a roster\n"
            "  -V, --version       print the version\n");
}

static int check_config(const char *path)
{
    struct config *cfg = config_load(path, stderr);
    if (!cfg)
        return 2;
    /* What start would refuse, said before start: [upstream]'s files by the very
     * checks the uploader's start runs (a missing file included). */
    int bad = secret_file_check_config(cfg, stderr);
    bad |= uploader_check_files(cfg, stderr);
    config_warnings(cfg, stderr); /* not errors: the file is valid */
    config_free(cfg);
    if (bad)
        return 2;
    printf("configuration OK\n");
    return 0;
}

int main(int argc, char **argv)
{
    static const struct daemon_program me = {"gatescreend", GS_VERSION, DEFAULT_CONFIG, usage,
                                              true};
    struct daemon_args a;
    uploader_forget_environment();
    log_init("gatescreend", LOG_LVL_INFO, LOG_OUT_STDERR);
    int rc = cmdline_daemon(&me, argc, argv, &a);
    if (rc != CMDLINE_RUN)
        return rc;
    struct daemon_opts o = {.config_path = a.config_path, .foreground = a.foreground,
                            .verbose = a.verbose, .new_ledger = a.new_ledger};
    return a.check_config ? check_config(o.config_path) : daemon_run(&o);
}
