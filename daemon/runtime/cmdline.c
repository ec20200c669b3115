/* The programs' shared command-line rules (cmdline.h), on getopt_long. */
#include "cmdline.h"

#include <getopt.h>
#include <string.h>

int cmdline_daemon(const struct daemon_program *p, int argc, char **argv,
                   struct daemon_args *a)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
        {"verbose", no_argument, NULL, 'v'},      {"check-config", no_argument, NULL, 'C'},
        {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
        {"new-ledger", no_argument, NULL, 'N'},   {NULL, 0, NULL, 0},
    };
    int c;
    *a = (struct daemon_args){.config_path = p->default_config};
    while ((c = getopt_long(argc, argv, "c:fvVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': a->config_path = optarg; break;
        case 'f': a->foreground = true; break;
        case 'v': a->verbose++; break;
        case 'C': a->check_config = true; break;
        case 'N':
            if (!p->takes_new_ledger) { /* the bureau's collector has no ledger */
                fprintf(stderr, "%s: unrecognized option '--new-ledger'\n", p->name);
                goto usage;
            }
            a->new_ledger = true;
            break;
        case 'V': printf("%s %s\n", p->name, p->version); return EXIT_OK;
        case 'h': p->usage(stdout); return EXIT_OK;
        default: goto usage; /* getopt has said what was wrong */
        }
    }
    if (a->check_config && optind < argc)
        a->config_path = argv[optind++];
    if (optind < argc) {
        fprintf(stderr, "%s: unexpected argument '%s'\n", p->name, argv[optind]);
        goto usage;
    }
    return CMDLINE_RUN;
usage:
    p->usage(stderr);
    return EXIT_USAGE;
}

int cmdline_global(int argc, char **argv, void (*usage)(FILE *out), const char **config_path,
                   int *first)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    int c;
    /* "+": stop at the command word; each command parses its own options. */
    while ((c = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            *config_path = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return EXIT_OK;
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    *first = optind;
    return CMDLINE_RUN;
}

int cmdline_match(const char *group, const char *name, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], group) != 0)
        return 0;
    if (!name)
        return 1;
    return argc >= 2 && strcmp(argv[1], name) == 0 ? 2 : 0;
}

void cmdline_enter(int argc, char **argv, int first, int words, int *cargc, char ***cargv)
{
    *cargc = argc - first - words + 1;
    *cargv = argv + first + words - 1;
    optind = 0;
}
