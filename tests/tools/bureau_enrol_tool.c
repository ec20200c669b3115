/* The bureau's side of enrolment for the tests, until `gatescreen-bureau` has its
 * `ca init` and `school enrol` commands, which will call the same functions
 * (bureau/enrol/enrol.h says how, with the credentials row):
 *
 *   bureau_enrol_tool init-ca DIR [--name NAME] [--days N] [--now SECONDS]
 *   bureau_enrol_tool enrol CODE --ca DIR --url URL --out BUNDLE [--server-ca FILE]
 *                     [--days N] [--now SECONDS]
 *
 * init-ca makes DIR/ca.pem and DIR/ca.key. enrol issues CODE a certificate from the
 * CA in DIR and writes its bundle; the server CA in the bundle is --server-ca, or
 * the client CA itself (DIR/ca.pem) when not given. It prints the bureau's record as
 * one JSON object: code, cert_serial, cert_sha256, token_sha256, not_before,
 * not_after. --now (seconds since the epoch) pretends it is another time, for
 * certificates that have expired. Exit 0, 1 refused (the reasons on stderr), 2 usage. */
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "enrol.h"
#include "textnum.h"

struct opts {
    const char *name, *ca, *url, *out, *server_ca;
    long days;
    int64_t now;
};

static int usage(void)
{
    fputs("usage: bureau_enrol_tool init-ca DIR [--name NAME] [--days N] [--now SECONDS]\n"
          "       bureau_enrol_tool enrol CODE --ca DIR --url URL --out BUNDLE "
          "[--server-ca FILE] [--days N] [--now SECONDS]\n", stderr);
    return 2;
}

static int number(const char *text, long min, long max, long *out, const char *what)
{
    if (tn_long(text, min, max, out) == 0)
        return 0;
    fprintf(stderr, "bureau_enrol_tool: %s '%s': a number from %ld to %ld\n", what, text, min,
            max);
    return -1;
}

static int parse(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"name", required_argument, NULL, 'n'}, {"days", required_argument, NULL, 'd'},
        {"ca", required_argument, NULL, 'c'},   {"url", required_argument, NULL, 'u'},
        {"out", required_argument, NULL, 'o'},  {"server-ca", required_argument, NULL, 's'},
        {"now", required_argument, NULL, 't'},  {NULL, 0, NULL, 0}};
    long now = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        if (c == 'n')
            o->name = optarg;
        else if (c == 'c')
            o->ca = optarg;
        else if (c == 'u')
            o->url = optarg;
        else if (c == 'o')
            o->out = optarg;
        else if (c == 's')
            o->server_ca = optarg;
        else if (c == 'd' && number(optarg, 1, 100000, &o->days, "--days") == 0)
            continue;
        else if (c == 't' && number(optarg, 1, LONG_MAX, &now, "--now") == 0)
            o->now = now;
        else
            return -1;
    }
    return optind == argc - 1 ? 0 : -1;
}

static int init_ca(const char *dir, const struct opts *o)
{
    const char *name = o->name ? o->name : "gatescreen bureau school CA";
    int rc = enrol_ca_create(dir, name, (int)(o->days ? o->days : 3650), o->now, stderr);
    if (rc == 0)
        printf("%s/" ENROL_CA_CERT "\n%s/" ENROL_CA_KEY "\n", dir, dir);
    return rc == 0 ? 0 : 1;
}

static void print_record(const struct enrol_record *r)
{
    printf("{\"code\": \"%s\", \"cert_serial\": \"%s\", \"cert_sha256\": \"%s\", "
           "\"token_sha256\": \"%s\", \"not_before\": %" PRId64 ", \"not_after\": %" PRId64
           "}\n", r->code, r->cert_serial, r->cert_sha256, r->token_sha256, r->not_before,
           r->not_after);
}

static int enrol(const char *code, const struct opts *o)
{
    char server_ca[PATH_MAX];
    if (!o->ca || !o->url || !o->out)
        return usage();
    snprintf(server_ca, sizeof server_ca, "%s/" ENROL_CA_CERT, o->ca);
    struct enrol_ca *ca = enrol_ca_load_dir(o->ca, o->now, stderr);
    struct enrol_credential *c =
        ca ? enrol_issue(ca, code, (int)(o->days ? o->days : 365), o->now, stderr) : NULL;
    int rc = c && enrol_write_bundle(c, o->url, o->server_ca ? o->server_ca : server_ca,
                                     o->out, o->now, stderr) == 0 ? 0 : 1;
    if (rc == 0)
        print_record(enrol_record(c));
    enrol_credential_free(c);
    enrol_ca_free(ca);
    return rc;
}

int main(int argc, char **argv)
{
    struct opts o = {.now = clock_wall_ms() / 1000};
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (parse(argc - 1, argv + 1, &o) < 0)
        return usage();
    const char *arg = argv[optind + 1];
    if (strcmp(cmd, "init-ca") == 0)
        return init_ca(arg, &o);
    if (strcmp(cmd, "enrol") == 0)
        return enrol(arg, &o);
    return usage();
}
