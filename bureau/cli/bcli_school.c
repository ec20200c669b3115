/* gatescreen-bureau school add | import | list | disable. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bcli.h"
#include "bstore_admin.h"
#include "school_list.h"

#define LIST_MAX_BYTES (16L << 20)

/* One option of `school add` into the row, checked as a CSV field would be. */
static int set_option(struct school_row *r, enum school_field f, const char *v)
{
    char why[200];
    if (school_set(r, f, v, why, sizeof why) < 0)
        return bcli_fail("%s", why);
    return EXIT_OK;
}

static int add_options(int argc, char **argv, struct school_row *r, unsigned *given)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, SF_NAME},
        {"county", required_argument, NULL, SF_COUNTY},
        {"kind", required_argument, NULL, SF_KIND},
        {"enrolment", required_argument, NULL, SF_ENROLMENT},
        {"contact", required_argument, NULL, SF_CONTACT_NAME},
        {"phone", required_argument, NULL, SF_CONTACT_PHONE},
        {NULL, 0, NULL, 0}};
    int c, rc = EXIT_OK;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c < 0 || c >= SF_COUNT)
            return bcli_usage_error("school add: bad option");
        if (rc == EXIT_OK)
            rc = set_option(r, (enum school_field)c, optarg);
        *given |= 1u << c;
    }
    return rc;
}

int bcli_school_add(struct bcli *cli, int argc, char **argv)
{
    struct school_row r = {0};
    unsigned given = 0;
    struct errbuf e;
    int rc = add_options(argc, argv, &r, &given);
    if (rc != EXIT_OK)
        return rc;
    if (optind != argc - 1)
        return bcli_usage_error("school add: expected one CODE");
    static const enum school_field required[] = {SF_NAME, SF_COUNTY, SF_KIND};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!(given & (1u << required[i])))
            return bcli_usage_error("school add: --%s is required",
                                    school_field_name(required[i]));
    if ((rc = set_option(&r, SF_CODE, argv[optind])) != EXIT_OK || (rc = bcli_open(cli)))
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_school_add(cli->store, &r, bcli_actor(), errs);
    if (st == BSTORE_OK)
        printf("school %s added\n", r.code);
    return bcli_errs_report(&e, st);
}

/* The whole file (bounded: a city's list is small). */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    char *buf = NULL;
    if (!f || fstat(fileno(f), &st) < 0)
        goto fail;
    if (st.st_size > LIST_MAX_BYTES) {
        bcli_fail("%s: too large (%lld bytes; at most %ld)", path, (long long)st.st_size,
                  LIST_MAX_BYTES);
        fclose(f);
        return NULL;
    }
    if (!(buf = malloc((size_t)st.st_size + 1)))
        goto fail;
    *len = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f))
        goto fail;
    buf[*len] = '\0';
    fclose(f);
    return buf;
fail:
    bcli_fail("%s: cannot read: %s", path, strerror(errno));
    free(buf);
    if (f)
        fclose(f);
    return NULL;
}

int bcli_school_import(struct bcli *cli, int argc, char **argv)
{
    struct school_list *l = NULL;
    struct bstore_import_stats s;
    struct errbuf e;
    size_t len = 0;
    if (argc != 2 || argv[1][0] == '-')
        return bcli_usage_error("school import: expected one FILE.csv");
    const char *file = argv[1];
    char *text = read_file(file, &len);
    if (!text)
        return EXIT_FAILED;
    int problems = school_list_parse(file, text, len, &l, stderr), rc;
    free(text);
    if (problems) {
        fprintf(stderr, "%s: %d problem%s; nothing was changed\n", file, problems,
                problems == 1 ? "" : "s");
        return EXIT_FAILED;
    }
    if ((rc = bcli_open(cli)) == EXIT_OK) {
        FILE *errs = bcli_errs_open(&e);
        enum bstore_status st = bstore_school_import(cli->store, l, file, bcli_actor(), &s, errs);
        if (st == BSTORE_OK)
            printf("%s: %d schools: %d added, %d updated, %d unchanged\n", file, s.rows, s.added,
                   s.updated, s.unchanged);
        else
            fprintf(errs, "%s: nothing was changed", file);
        rc = bcli_errs_report(&e, st);
    }
    school_list_free(l);
    return rc;
}

static void print_school(const struct bstore_school_view *v, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\t%ld\t%s\t%s\t%s\t%d\n", v->code, v->name, v->county, v->kind,
           v->enrolment, v->contact_name, v->contact_phone, v->active ? "yes" : "no",
           v->credentials);
}

int bcli_school_list(struct bcli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {NULL, 0, NULL, 0}};
    bool all = false;
    int c, rc;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'a')
            return bcli_usage_error("school list: bad option");
        all = true;
    }
    if (optind != argc)
        return bcli_usage_error("school list: unexpected argument '%s'", argv[optind]);
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    printf("code\tname\tcounty\tkind\tenrolment\tcontact\tphone\tactive\tcredentials\n");
    return bstore_school_list(cli->store, all, print_school, NULL) < 0 ? EXIT_FAILED : EXIT_OK;
}

int bcli_school_disable(struct bcli *cli, int argc, char **argv)
{
    struct errbuf e;
    int rc;
    if (argc != 2 || argv[1][0] == '-')
        return bcli_usage_error("school disable: expected one CODE");
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_school_disable(cli->store, argv[1], bcli_actor(), errs);
    if (st == BSTORE_OK)
        printf("school %s disabled: its uploads are refused from now on\n", argv[1]);
    return bcli_errs_report(&e, st);
}
