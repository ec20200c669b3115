/* gatescreen-bureau report, notice list, notice ack: the roll-ups and the notices
 * on the command line. --csv and --json print exactly what the pull API answers
 * (bureau/common/rollup.c and notice_list.c write both); without them, the same
 * figures for a person to read. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "bcli.h"
#include "bstore_rollup.h"

enum out_kind { OUT_TEXT, OUT_CSV, OUT_JSON };

struct report_opts {
    const char *day, *from, *to, *level, *county;
    enum out_kind out;
};

/* An answer is made in memory and printed only when all of it could be made, so a
 * failure never leaves half a file on stdout. */
struct answer {
    char *buf;
    size_t len;
    FILE *f;
};

static int answer_open(struct answer *a)
{
    *a = (struct answer){0};
    a->f = open_memstream(&a->buf, &a->len);
    return a->f ? 0 : -1;
}

/* Prints the answer when `made` (all of it was written); frees it. EXIT_OK, or
 * EXIT_FAILED. */
static int answer_close(struct answer *a, bool made)
{
    if (fclose(a->f) != 0)
        made = false;
    if (made)
        fwrite(a->buf, 1, a->len, stdout);
    free(a->buf);
    return made ? EXIT_OK : bcli_fail("the answer could not be made (out of memory)");
}

/* The query failed: nothing is printed. */
static void answer_drop(struct answer *a)
{
    fclose(a->f);
    free(a->buf);
}

/* ---- report: the text for people -------------------------------------------------- */

static void percent(FILE *f, long long num, long long den)
{
    double r = rollup_rate(num, den);
    if (r >= 0)
        fprintf(f, " (%.1f%%)", r * 100.0);
}

static void text_unit(FILE *f, const struct rollup_row *r)
{
    fprintf(f, "%s", r->day);
    if (r->county)
        fprintf(f, " %s", r->county);
    if (r->school_code)
        fprintf(f, " %s %s", r->school_code, r->school_name ? r->school_name : "");
    else
        fprintf(f, "%s", r->county ? "" : " city");
    fprintf(f, ": %lld of %lld schools reported", r->schools_reported, r->schools_expected);
    percent(f, r->schools_reported, r->schools_expected);
    if (r->revision > 0)
        fprintf(f, ", revision %lld", r->revision);
    fputc('\n', f);
}

static void text_checks(FILE *f, const struct rollup_row *r)
{
    const long long *v = r->fig;
    fprintf(f, "  morning checks %lld of %lld expected", v[RF_MORNING_DONE],
            v[RF_MORNING_EXPECTED]);
    percent(f, v[RF_MORNING_DONE], v[RF_MORNING_EXPECTED]);
    fprintf(f, ", %lld in all\n", v[RF_MORNING_ALL]);
    if (r->noon_schools == 0) {
        fprintf(f, "  noon checks: none of these schools has them\n");
        return;
    }
    fprintf(f, "  noon checks %lld of %lld expected", v[RF_NOON_DONE], v[RF_NOON_EXPECTED]);
    percent(f, v[RF_NOON_DONE], v[RF_NOON_EXPECTED]);
    fprintf(f, ", %lld in all, at %lld school%s\n", v[RF_NOON_ALL], r->noon_schools,
            r->noon_schools == 1 ? "" : "s");
}

static void text_health(FILE *f, const long long *v)
{
    fprintf(f, "  fevers: %lld screens, %lld confirmed, %lld cleared, %lld open\n",
            v[RF_FEVER_SCREENS], v[RF_FEVER_CONFIRMED], v[RF_FEVER_CLEARED], v[RF_FEVER_OPEN]);
    fprintf(f, "  referrals: %lld opened (sent home %lld, hospital %lld, returned to class "
               "%lld), %lld pending\n", v[RF_REFERRALS_OPENED], v[RF_REFERRALS_SENT_HOME],
            v[RF_REFERRALS_HOSPITAL], v[RF_REFERRALS_RETURNED], v[RF_REFERRALS_PENDING]);
    fprintf(f, "  absences %lld: illness %lld, personal %lld, other %lld, late %lld, "
               "unexplained %lld\n", v[RF_ABSENCES_ALL], v[RF_ABSENCES_ILLNESS],
            v[RF_ABSENCES_PERSONAL], v[RF_ABSENCES_OTHER], v[RF_ABSENCES_LATE],
            v[RF_ABSENCES_UNEXPLAINED]);
    fprintf(f, "  symptoms: fever %lld, cough %lld, sore throat %lld, diarrhoea %lld, "
               "vomiting %lld, rash %lld, conjunctivitis %lld, other %lld\n",
            v[RF_SYMPTOM_FEVER], v[RF_SYMPTOM_COUGH], v[RF_SYMPTOM_SORE_THROAT],
            v[RF_SYMPTOM_DIARRHOEA], v[RF_SYMPTOM_VOMITING], v[RF_SYMPTOM_RASH],
            v[RF_SYMPTOM_CONJUNCTIVITIS], v[RF_SYMPTOM_OTHER]);
    fprintf(f, "  returns after illness %lld, certificates recorded %lld\n",
            v[RF_RETURNS_AFTER_ILLNESS], v[RF_CERTIFICATES_RECORDED]);
    fprintf(f, "  cluster alerts: %lld opened, %lld open\n", v[RF_ALERTS_OPENED],
            v[RF_ALERTS_OPEN]);
}

static void text_row(const struct rollup_row *r, void *arg)
{
    FILE *f = arg;
    const long long *v = r->fig;
    text_unit(f, r);
    if (r->schools_reported == 0)
        return;
    fprintf(f, "  population %lld: students %lld, teachers %lld, staff %lld; expected %lld, "
               "on leave %lld\n", v[RF_POPULATION_TOTAL], v[RF_POPULATION_STUDENT],
            v[RF_POPULATION_TEACHER], v[RF_POPULATION_STAFF], v[RF_EXPECTED], v[RF_ON_LEAVE]);
    text_checks(f, r);
    text_health(f, v);
    fprintf(f, "  devices: %lld lanes", v[RF_LANES]);
    if (v[RF_LANES_KNOWN] > 0)
        fprintf(f, ", availability %.1f%% (of the %lld known)",
                r->availability_sum * 100.0 / (double)v[RF_LANES_KNOWN], v[RF_LANES_KNOWN]);
    fputc('\n', f);
}

/* ---- report ------------------------------------------------------------------------- */

static int report_options(int argc, char **argv, struct report_opts *o)
{
    static const struct option opts[] = {
        {"day", required_argument, NULL, 'd'}, {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'}, {"level", required_argument, NULL, 'l'},
        {"county", required_argument, NULL, 'c'}, {"csv", no_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'J'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char **slot = c == 'd' ? &o->day : c == 'f' ? &o->from : c == 't' ? &o->to
                          : c == 'l' ? &o->level : c == 'c' ? &o->county : NULL;
        if (slot)
            *slot = optarg;
        else if (c == 'C' || c == 'J')
            o->out = o->out == OUT_TEXT ? (c == 'C' ? OUT_CSV : OUT_JSON) : (enum out_kind)-1;
        else
            return bcli_usage_error("report: bad option");
    }
    if (optind != argc)
        return bcli_usage_error("report: unexpected argument '%s'", argv[optind]);
    if ((int)o->out < 0)
        return bcli_usage_error("report: give at most one of --csv and --json");
    if (o->day && (o->from || o->to))
        return bcli_usage_error("report: give --day D, or --from D --to D, not both");
    if (!o->day && (!o->from || !o->to))
        return bcli_usage_error("report: give --day D, or --from D --to D");
    if (o->day)
        o->from = o->to = o->day;
    return EXIT_OK;
}

static int report_refused(enum bstore_status st, const struct rollup_query *q)
{
    if (st == BSTORE_NOT_FOUND)
        return bcli_fail("no school is in county %s", q->county);
    if (st == BSTORE_UNAVAILABLE) {
        bcli_fail("the database is not available now; try again");
        return EXIT_TEMPFAIL;
    }
    if (st != BSTORE_OK)
        return bcli_fail("the report could not be made (%s)", bstore_status_name(st));
    return bcli_fail("the report would have more than %d rows: ask for fewer days, or one "
                     "county", ROLLUP_MAX_ROWS);
}

int bcli_report(struct bcli *cli, int argc, char **argv)
{
    struct report_opts o = {0};
    struct rollup_query q;
    const char *param;
    char why[256];
    struct answer a;
    long rows = 0;
    int rc = report_options(argc, argv, &o);
    if (rc != EXIT_OK)
        return rc;
    if (rollup_query_set(&q, o.from, o.to, o.level, o.county, &param, why, sizeof why) < 0)
        return bcli_usage_error("report: %s", why);
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    if (answer_open(&a) < 0)
        return bcli_fail("out of memory");
    struct rollup_writer *w = o.out == OUT_TEXT ? NULL
                              : rollup_writer_new(a.f, o.out == OUT_CSV ? ROLLUP_CSV : ROLLUP_JSON,
                                                  &q);
    if (o.out != OUT_TEXT && !w)
        return answer_close(&a, false);
    enum bstore_status st = bstore_rollup(cli->store, &q, ROLLUP_MAX_ROWS,
                                          w ? rollup_writer_row : text_row, w ? (void *)w : a.f,
                                          &rows);
    bool made = (o.out == OUT_TEXT || rollup_writer_end(w) == 0);
    if (st != BSTORE_OK || rows > ROLLUP_MAX_ROWS) {
        answer_drop(&a);
        return report_refused(st, &q);
    }
    return answer_close(&a, made);
}

/* ---- notice list ------------------------------------------------------------------ */

static void notice_text(const struct notice_row *r, void *arg)
{
    FILE *f = arg;
    fprintf(f, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r->opened_at, r->school_code,
            r->school_name, r->county, r->type, r->notice_id,
            r->acknowledged_at ? r->acknowledged_at : "-",
            r->acknowledged_by ? r->acknowledged_by : "-", r->ack_note ? r->ack_note : "-",
            r->received_at);
}

struct list_opts {
    const char *from, *to, *county, *school;
    bool unacknowledged;
    enum out_kind out;
};

static int list_options(int argc, char **argv, struct list_opts *o)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'}, {"to", required_argument, NULL, 't'},
        {"county", required_argument, NULL, 'c'}, {"school", required_argument, NULL, 's'},
        {"unacknowledged", no_argument, NULL, 'u'}, {"csv", no_argument, NULL, 'C'},
        {"json", no_argument, NULL, 'J'}, {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        const char **slot = c == 'f' ? &o->from : c == 't' ? &o->to : c == 'c' ? &o->county
                          : c == 's' ? &o->school : NULL;
        if (slot)
            *slot = optarg;
        else if (c == 'u')
            o->unacknowledged = true;
        else if (c == 'C' || c == 'J')
            o->out = o->out == OUT_TEXT ? (c == 'C' ? OUT_CSV : OUT_JSON) : (enum out_kind)-1;
        else
            return bcli_usage_error("notice list: bad option");
    }
    if (optind != argc)
        return bcli_usage_error("notice list: unexpected argument '%s'", argv[optind]);
    if ((int)o->out < 0)
        return bcli_usage_error("notice list: give at most one of --csv and --json");
    return EXIT_OK;
}

static int list_refused(enum bstore_status st, const struct notice_query *q)
{
    if (st == BSTORE_NOT_FOUND)
        return q->school[0] ? bcli_fail("school %s: not found", q->school)
                            : bcli_fail("no school is in county %s", q->county);
    if (st == BSTORE_UNAVAILABLE) {
        bcli_fail("the database is not available now; try again");
        return EXIT_TEMPFAIL;
    }
    if (st != BSTORE_OK)
        return bcli_fail("the list could not be made (%s)", bstore_status_name(st));
    return bcli_fail("there are more than %d such notices: ask for fewer days",
                     NOTICE_MAX_ROWS);
}

int bcli_notice_list(struct bcli *cli, int argc, char **argv)
{
    struct list_opts o = {0};
    struct notice_query q;
    const char *param;
    char why[256];
    struct answer a;
    long rows = 0;
    int rc = list_options(argc, argv, &o);
    if (rc != EXIT_OK)
        return rc;
    if (notice_query_set(&q, o.from, o.to, o.unacknowledged ? "1" : NULL, o.county, o.school,
                         &param, why, sizeof why) < 0)
        return bcli_usage_error("notice list: %s", why);
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    if (answer_open(&a) < 0)
        return bcli_fail("out of memory");
    struct notice_writer *w = o.out == OUT_TEXT ? NULL
                              : notice_writer_new(a.f, o.out == OUT_CSV ? ROLLUP_CSV : ROLLUP_JSON,
                                                  &q);
    if (o.out != OUT_TEXT && !w)
        return answer_close(&a, false);
    if (!w)
        fprintf(a.f, "opened_at\tschool\tname\tcounty\ttype\tnotice_id\tacknowledged_at\t"
                     "acknowledged_by\tnote\treceived_at\n");
    enum bstore_status st = bstore_notices(cli->store, &q, NOTICE_MAX_ROWS,
                                           w ? notice_writer_row : notice_text,
                                           w ? (void *)w : a.f, &rows);
    bool made = (o.out == OUT_TEXT || notice_writer_end(w) == 0);
    if (st != BSTORE_OK || rows > NOTICE_MAX_ROWS) {
        answer_drop(&a);
        return list_refused(st, &q);
    }
    return answer_close(&a, made);
}

/* ---- notice ack -------------------------------------------------------------------- */

int bcli_notice_ack(struct bcli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"note", required_argument, NULL, 'n'},
                                          {NULL, 0, NULL, 0}};
    const char *note = NULL, *problem;
    struct bstore_ack ack;
    struct errbuf e;
    int c, rc;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c != 'n')
            return bcli_usage_error("notice ack: bad option");
        note = optarg;
    }
    if (optind != argc - 2 || !note)
        return bcli_usage_error("notice ack: expected SCHOOL NOTICE_ID --note TEXT");
    if ((problem = notice_note_problem(note)))
        return bcli_usage_error("notice ack: %s", problem);
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    FILE *errs = bcli_errs_open(&e);
    enum bstore_status st = bstore_notice_ack(cli->store, argv[optind], argv[optind + 1],
                                              bcli_actor(), note, &ack, errs);
    if (st == BSTORE_OK)
        printf("notice %s acknowledged by %s at %s\n", argv[optind + 1], ack.by, ack.at);
    return bcli_errs_report(&e, st);
}
