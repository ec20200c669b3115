/* gatescreen-bureau missing [--day D] [--deadline morning|day] [--county C] [--csv]:
 * the schools expected on a day that had not reported by its deadline, by county,
 * with their contact; the late ones with when (bstore_missing.h, the same query as
 * the collector's GET /v1/missing). Exit 0 whenever the list could be made, empty
 * or not: a script counts the lines of --csv. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bcli.h"
#include "bstore_missing.h"
#include "csv_out.h"
#include "deadline.h"

struct missing_opts {
    char day[DAY_LEN];
    bool day_given, csv;
    struct bstore_missing_query q;
};

static int parse_options(int argc, char **argv, struct missing_opts *o)
{
    static const struct option opts[] = {{"day", required_argument, NULL, 'd'},
                                         {"deadline", required_argument, NULL, 'l'},
                                         {"county", required_argument, NULL, 'c'},
                                         {"csv", no_argument, NULL, 'v'},
                                         {NULL, 0, NULL, 0}};
    char why[200];
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd' && day_parse(optarg, o->day, why, sizeof why) < 0)
            return bcli_usage_error("missing: --day %s", why);
        if (c == 'l' && deadline_parse(optarg, &o->q.deadline, why, sizeof why) < 0)
            return bcli_usage_error("missing: --deadline %s", why);
        if (c == 'c' && county_check(optarg, why, sizeof why) < 0)
            return bcli_usage_error("missing: --county %s", why);
        if (c == '?')
            return bcli_usage_error("missing: bad option '%s'", argv[optind - 1]);
        o->day_given |= c == 'd';
        o->q.deadline_given |= c == 'l';
        o->csv |= c == 'v';
        if (c == 'c')
            o->q.county = optarg;
    }
    if (optind != argc)
        return bcli_usage_error("missing: unexpected argument '%s'", argv[optind]);
    o->q.day = o->day_given ? o->day : NULL;
    return EXIT_OK;
}

/* "35min", "1h05", "2d 3h": how late, for people. */
static const char *duration(long long s, char *buf, size_t n)
{
    long long m = s / 60;
    if (s < 60)
        snprintf(buf, n, "%llds", s < 0 ? 0 : s);
    else if (m < 60)
        snprintf(buf, n, "%lldmin", m);
    else if (m < 24 * 60)
        snprintf(buf, n, "%lldh%02lld", m / 60, m % 60);
    else
        snprintf(buf, n, "%lldd %lldh", m / (24 * 60), m / 60 % 24);
    return buf;
}

/* ---- text ------------------------------------------------------------------------ */

static void print_head(const struct missing_report *r, const char *zone)
{
    const struct missing_day *d = missing_report_day(r);
    char ago[32];
    printf("%s %s, %s deadline %s (%s), %s %s\n", d->day, d->weekday,
           deadline_name(d->deadline), d->deadline_local, zone,
           d->past_s >= 0 ? "passed" : "in", duration(d->past_s >= 0 ? d->past_s : -d->past_s,
                                                      ago, sizeof ago));
    if (!d->school_day) {
        printf("not a school day%s%s%s: no school is expected\n",
               d->calendar_kind ? " (holiday " : " (weekend)", d->calendar_name,
               d->calendar_kind ? ")" : "");
        return;
    }
    for (int i = 0; i < missing_report_closures(r); i++) {
        struct missing_closure c;
        missing_report_closure(r, i, &c);
        printf("closed: %s: %s\n", c.county ? c.county : "all schools", c.reason);
    }
    printf("%d schools expected: %d on time, %d late, %d no report yet", d->expected,
           d->on_time, d->late, d->missing);
    if (d->reported_closed)
        printf(" (%d of those reporting said they were closed)", d->reported_closed);
    if (d->closed)
        printf("; %d closed", d->closed);
    printf("\n");
}

static void print_school(const struct missing_school *s)
{
    char late[32];
    printf("  %s\t%s\t%s\t%s\t", s->code, s->name, s->contact_name[0] ? s->contact_name : "-",
           s->contact_phone[0] ? s->contact_phone : "-");
    if (s->late)
        printf("late by %s (received %s)\n", duration(s->late_s, late, sizeof late),
               s->received_local);
    else
        printf("no report yet\n");
}

static void print_text(const struct missing_report *r, const char *zone)
{
    int k = 0, n = missing_report_schools(r);
    print_head(r, zone);
    for (int i = 0; i < missing_report_counties(r); i++) {
        struct missing_county c;
        struct missing_school s;
        missing_report_county(r, i, &c);
        if (c.late + c.missing == 0)
            continue;
        printf("%s: %d expected, %d late, %d no report yet\n", c.county, c.expected, c.late,
               c.missing);
        for (; k < n; k++) { /* both lists are by county */
            missing_report_school(r, k, &s);
            if (strcmp(s.county, c.county) != 0)
                break;
            print_school(&s);
        }
    }
}

int bcli_missing(struct bcli *cli, int argc, char **argv)
{
    struct missing_opts o = {0};
    struct missing_report *r = NULL;
    struct errbuf e;
    int rc = parse_options(argc, argv, &o);
    if (rc != EXIT_OK || (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    o.q.cfg = &cli->cfg->deadlines;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_missing(cli->store, &o.q, &r, errs);
    if (st == BSTORE_OK && o.csv)
        missing_report_csv_schools(stdout, r);
    else if (st == BSTORE_OK)
        print_text(r, cli->cfg->deadlines.timezone);
    missing_report_free(r);
    return bcli_errs_report(&e, st);
}
