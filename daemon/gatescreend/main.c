/* gatescreend: the gate daemon. Command line only; see daemon.c. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

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
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},      {"check-config", no_argument, NULL, 'C'},
        {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
        {"new-ledger", no_argument, NULL, 'N'},
        {NULL, 0, NULL, 0},
    };
    uploader_forget_environment();
    struct daemon_opts o = {.config_path = DEFAULT_CONFIG};
    int check = 0, c;
    log_init("gatescreend", LOG_LVL_INFO, LOG_OUT_STDERR);
    while ((c = getopt_long(argc, argv, "c:fvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config_path = optarg; break;
        case 'f': o.foreground = true; break;
        case 'v': o.verbose++; break;
        case 'C': check = 1; break;
        case 'N': o.new_ledger = true; break;
        case 'V': printf("gatescreend " GS_VERSION "\n"); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (check && optind < argc)
        o.config_path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "gatescreend: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return check ? check_config(o.config_path) : daemon_run(&o);
}
