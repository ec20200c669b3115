/* gatescreen-bureau calendar holiday | workday | clear | list, closure add | remove |
 * list: the school calendar and the bureau's closures (bstore_calendar.h), which
 * say which schools `missing` expects on a day. Days and ranges are checked here
 * (deadline.h) before anything is sent to the database. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bcli.h"
#include "bstore_calendar.h"
#include "deadline.h"
#include "textnum.h"

#define NAME_MAX_CHARS 100 /* a holiday's name, a county */
#define REASON_MAX_CHARS 200

static const char *const weekdays[] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};

/* Options shared by these commands; each takes the ones it names in `allowed`. */
struct cal_opts {
    const char *name, *county, *reason;
    char from[DAY_LEN], to[DAY_LEN];
    int days;
    bool range; /* a RANGE was given */
};

/* Why `v` cannot be a name, county or reason (shown, stored, put in CSV), or NULL. */
static const char *text_problem(const char *v, long max_chars)
{
    size_t n = strlen(v);
    long chars = tn_utf8_length(v, n);
    if (n == 0)
        return "is empty";
    if (chars < 0)
        return "is not valid UTF-8";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return "has a control character";
    return chars > max_chars ? "is too long" : NULL;
}

static int check_text(const char *cmd, const char *opt, const char *v, long max_chars)
{
    const char *why = v ? text_problem(v, max_chars) : NULL;
    if (why)
        return bcli_usage_error("%s: --%s %s (at most %ld characters, no control characters)",
                                cmd, opt, why, max_chars);
    return EXIT_OK;
}

static int read_options(const char *cmd, const char *allowed, int argc, char **argv,
                        struct cal_opts *o)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"county", required_argument, NULL, 'c'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    int c, which = -1;
    opterr = 0; /* our message, not getopt's */
    while ((c = getopt_long(argc, argv, "", opts, &which)) != -1) {
        if (c == '?')
            return bcli_usage_error("%s: bad option '%s'", cmd, argv[optind - 1]);
        if (!strchr(allowed, c))
            return bcli_usage_error("%s: --%s is not an option of this command", cmd,
                                    opts[which].name);
        if (c == 'n')
            o->name = optarg;
        else if (c == 'c')
            o->county = optarg;
        else
            o->reason = optarg;
    }
    int rc = check_text(cmd, "name", o->name, NAME_MAX_CHARS);
    if (rc == EXIT_OK)
        rc = check_text(cmd, "county", o->county, NAME_MAX_CHARS);
    if (rc == EXIT_OK)
        rc = check_text(cmd, "reason", o->reason, REASON_MAX_CHARS);
    return rc;
}

/* Options, then RANGE: required unless `optional`. */
static int parse_args(const char *cmd, const char *allowed, bool optional, int argc,
                      char **argv, struct cal_opts *o)
{
    char why[200];
    int rc = read_options(cmd, allowed, argc, argv, o);
    if (rc != EXIT_OK)
        return rc;
    if (optind == argc && optional)
        return EXIT_OK;
    if (optind != argc - 1)
        return bcli_usage_error("%s: expected one DAY or FROM..TO (YYYY-MM-DD)", cmd);
    if (day_range_parse(argv[optind], o->from, o->to, &o->days, why, sizeof why) < 0)
        return bcli_usage_error("%s: %s", cmd, why);
    o->range = true;
    return EXIT_OK;
}

static const char *range_of(const struct cal_opts *o, char *buf, size_t n)
{
    if (o->days == 1)
        snprintf(buf, n, "%s (%s)", o->from, weekdays[day_weekday(o->from)]);
    else
        snprintf(buf, n, "%s..%s (%d days)", o->from, o->to, o->days);
    return buf;
}

/* ---- calendar ------------------------------------------------------------------- */

static int calendar_set(struct bcli *cli, int argc, char **argv, const char *kind)
{
    char cmd[32], range[64];
    struct cal_opts o = {0};
    struct errbuf e;
    int changed, rc;
    snprintf(cmd, sizeof cmd, "calendar %s", kind);
    if ((rc = parse_args(cmd, "n", false, argc, argv, &o)) != EXIT_OK ||
        (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_calendar_set(cli->store, o.from, o.to, kind,
                                                o.name ? o.name : "", bcli_actor(), &changed,
                                                errs);
    if (st == BSTORE_OK)
        printf("%s: %s%s%s (%d changed)\n", range_of(&o, range, sizeof range),
               strcmp(kind, "holiday") == 0 ? "holiday" : "make-up school day",
               o.name ? " " : "", o.name ? o.name : "", changed);
    int wd = day_weekday(o.from);
    if (st == BSTORE_OK && o.days == 1 && strcmp(kind, "workday") == 0 && wd != 0 && wd != 6)
        printf("note: %s is a %s, a school day anyway\n", o.from, weekdays[wd]);
    return bcli_errs_report(&e, st);
}

int bcli_calendar_holiday(struct bcli *cli, int argc, char **argv)
{
    return calendar_set(cli, argc, argv, "holiday");
}

int bcli_calendar_workday(struct bcli *cli, int argc, char **argv)
{
    return calendar_set(cli, argc, argv, "workday");
}

int bcli_calendar_clear(struct bcli *cli, int argc, char **argv)
{
    char range[64];
    struct cal_opts o = {0};
    struct errbuf e;
    int removed, rc;
    if ((rc = parse_args("calendar clear", "", false, argc, argv, &o)) != EXIT_OK ||
        (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_calendar_clear(cli->store, o.from, o.to, bcli_actor(),
                                                  &removed, errs);
    if (st == BSTORE_OK)
        printf("%s: %d entr%s removed; those days follow their weekday again\n",
               range_of(&o, range, sizeof range), removed, removed == 1 ? "y" : "ies");
    return bcli_errs_report(&e, st);
}

static void print_calendar(const struct bstore_calendar_view *v, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\t%s\t%s\n", v->day, v->weekday, v->kind, v->name, v->set_by,
           v->set_at);
}

int bcli_calendar_list(struct bcli *cli, int argc, char **argv)
{
    struct cal_opts o = {0};
    int rc;
    if ((rc = parse_args("calendar list", "", true, argc, argv, &o)) != EXIT_OK ||
        (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    printf("day\tweekday\tkind\tname\tset_by\tset_at\n");
    return bstore_calendar_list(cli->store, o.range ? o.from : NULL, o.range ? o.to : NULL,
                                print_calendar, NULL) < 0 ? EXIT_FAILED : EXIT_OK;
}

/* ---- closures ------------------------------------------------------------------- */

int bcli_closure_add(struct bcli *cli, int argc, char **argv)
{
    char range[64];
    struct cal_opts o = {0};
    struct errbuf e;
    int changed, rc;
    if ((rc = parse_args("closure add", "cr", false, argc, argv, &o)) != EXIT_OK)
        return rc;
    if (!o.reason)
        return bcli_usage_error("closure add: --reason is required");
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_closure_add(cli->store, o.from, o.to, o.county, o.reason,
                                               bcli_actor(), &changed, errs);
    if (st == BSTORE_OK)
        printf("%s: closed, %s%s: %s (%d changed)\n", range_of(&o, range, sizeof range),
               o.county ? "county " : "all schools", o.county ? o.county : "", o.reason,
               changed);
    return bcli_errs_report(&e, st);
}

int bcli_closure_remove(struct bcli *cli, int argc, char **argv)
{
    char range[64];
    struct cal_opts o = {0};
    struct errbuf e;
    int removed, rc;
    if ((rc = parse_args("closure remove", "c", false, argc, argv, &o)) != EXIT_OK ||
        (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_closure_remove(cli->store, o.from, o.to, o.county,
                                                  bcli_actor(), &removed, errs);
    if (st == BSTORE_OK)
        printf("%s: %d closure%s of %s%s removed\n", range_of(&o, range, sizeof range),
               removed, removed == 1 ? "" : "s", o.county ? "county " : "all schools",
               o.county ? o.county : "");
    return bcli_errs_report(&e, st);
}

static void print_closure(const struct bstore_closure_view *v, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\t%s\t%s\n", v->day, v->weekday, v->county ? v->county : "(all)",
           v->reason, v->created_by, v->created_at);
}

int bcli_closure_list(struct bcli *cli, int argc, char **argv)
{
    struct cal_opts o = {0};
    int rc;
    if ((rc = parse_args("closure list", "", true, argc, argv, &o)) != EXIT_OK ||
        (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    printf("day\tweekday\tcounty\treason\tby\tat\n");
    return bstore_closure_list(cli->store, o.range ? o.from : NULL, o.range ? o.to : NULL,
                               print_closure, NULL) < 0 ? EXIT_FAILED : EXIT_OK;
}
