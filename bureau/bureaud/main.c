/* gatescreen-bureaud: the bureau's collector. Command line only; see bureaud.c. */
#include <getopt.h>
#include <stdio.h>

#include "bconfig.h"
#include "bureaud.h"
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
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
        {"check-config", no_argument, NULL, 'C'}, {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        /* accepted for the school daemon's habit: the collector never detaches */
        {"foreground", no_argument, NULL, 'f'},   {NULL, 0, NULL, 0},
    };
    struct bureaud_opts o = {.config_path = DEFAULT_CONFIG};
    int check = 0, c;
    log_init("gatescreen-bureaud", LOG_LVL_INFO, LOG_OUT_STDERR);
    while ((c = getopt_long(argc, argv, "c:fvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config_path = optarg; break;
        case 'f': break;
        case 'v': o.verbose = true; break;
        case 'C': check = 1; break;
        case 'V': printf("gatescreen-bureaud " GS_VERSION "\n"); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (check && optind < argc)
        o.config_path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "gatescreen-bureaud: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    return check ? check_config(o.config_path) : bureaud_run(&o);
}
