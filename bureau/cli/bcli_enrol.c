/* gatescreen-bureau ca init | school enrol: the bureau's own CA and a school's
 * credential from it (bureau/enrol), registered in the database and carried to the
 * school in one bundle file (docs/bureau.md, "Enrolment"). */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bcli.h"
#include "bstore_admin.h"
#include "certid.h"
#include "clock.h"
#include "enrol.h"
#include "textnum.h"

#define CA_DAYS_DEFAULT 3650
#define SCHOOL_DAYS_DEFAULT 825 /* a little over two school years */

struct enrol_opts {
    const char *ca, *url, *server_ca, *out, *name;
    int days;
};

static int days_option(const char *text, int max, int *out)
{
    long v;
    if (tn_long(text, 1, max, &v) < 0)
        return bcli_usage_error("--days %s: a whole number of days from 1 to %d", text, max);
    *out = (int)v;
    return EXIT_OK;
}

static int parse(int argc, char **argv, struct enrol_opts *o, const char *what)
{
    static const struct option opts[] = {
        {"ca", required_argument, NULL, 'a'},        {"url", required_argument, NULL, 'u'},
        {"server-ca", required_argument, NULL, 's'}, {"out", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, 'n'},      {"days", required_argument, NULL, 'd'},
        {NULL, 0, NULL, 0}};
    int c, rc = EXIT_OK;
    while (rc == EXIT_OK && (c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'a': o->ca = optarg; break;
        case 'u': o->url = optarg; break;
        case 's': o->server_ca = optarg; break;
        case 'o': o->out = optarg; break;
        case 'n': o->name = optarg; break;
        case 'd': rc = days_option(optarg, ENROL_DAYS_MAX, &o->days); break;
        default: rc = bcli_usage_error("%s: bad option", what);
        }
    }
    if (rc == EXIT_OK && optind != argc - 1)
        rc = bcli_usage_error("%s: expected one argument", what);
    return rc;
}

int bcli_ca_init(struct bcli *cli, int argc, char **argv)
{
    (void)cli;
    struct enrol_opts o = {.name = "gatescreen bureau CA", .days = CA_DAYS_DEFAULT};
    int rc = parse(argc, argv, &o, "ca init");
    if (rc != EXIT_OK)
        return rc;
    const char *dir = argv[optind];
    if (enrol_ca_create(dir, o.name, o.days, clock_wall_ms() / 1000, stderr) < 0)
        return EXIT_FAILED;
    printf("CA created in %s (ca.pem, ca.key): give ca.pem to gatescreen-bureaud as "
           "[collector] client_ca; keep ca.key offline if you can\n", dir);
    return EXIT_OK;
}

/* What the collector will look the certificate up by, from what enrol_issue made. */
static void certid_of(const struct enrol_record *r, struct certid *id)
{
    memset(id, 0, sizeof *id);
    snprintf(id->sha256, sizeof id->sha256, "%s", r->cert_sha256);
    snprintf(id->serial, sizeof id->serial, "%s", r->cert_serial);
    snprintf(id->code, sizeof id->code, "%s", r->code);
    id->not_after_ms = r->not_after * 1000;
}

/* The bundle is written first (never over an existing file) and removed again if the
 * database refuses the credential: a bundle exists only for a credential the
 * collector knows. */
static int issue(struct bcli *cli, const char *code, const struct enrol_opts *o,
                 const struct enrol_credential *c)
{
    struct certid id;
    long long cred = 0;
    struct errbuf e;
    certid_of(enrol_record(c), &id);
    if (enrol_write_bundle(c, o->url, o->server_ca, o->out, clock_wall_ms() / 1000, stderr) < 0)
        return EXIT_FAILED;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_credential_add(cli->store, code, &id,
                                                  enrol_record(c)->token_sha256, bcli_actor(),
                                                  &cred, errs);
    if (st != BSTORE_OK)
        unlink(o->out);
    else
        printf("school %s enrolled: certificate serial %s, SHA-256 %s; bundle %s (give it "
               "to the school: gatescreen upstream enrol %s)\n",
               code, id.serial, id.sha256, o->out, o->out);
    return bcli_errs_report(&e, st);
}

int bcli_school_enrol(struct bcli *cli, int argc, char **argv)
{
    struct enrol_opts o = {.days = SCHOOL_DAYS_DEFAULT};
    int rc = parse(argc, argv, &o, "school enrol");
    if (rc == EXIT_OK && (!o.ca || !o.url || !o.server_ca || !o.out))
        rc = bcli_usage_error("school enrol: expected CODE --ca DIR --url URL --server-ca FILE "
                              "--out BUNDLE");
    if (rc != EXIT_OK)
        return rc;
    const char *code = argv[optind];
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    int64_t now = clock_wall_ms() / 1000;
    struct enrol_ca *ca = enrol_ca_load_dir(o.ca, now, stderr);
    struct enrol_credential *c = ca ? enrol_issue(ca, code, o.days, now, stderr) : NULL;
    rc = c ? issue(cli, code, &o, c) : EXIT_FAILED;
    enrol_credential_free(c);
    enrol_ca_free(ca);
    return rc;
}
