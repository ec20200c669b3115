/* The nurse's commands of `gatescreen`: the day's queue (flags, referrals,
 * absences, alerts), rechecks, manual checks, referral outcomes, absence causes,
 * leave, certificates, the day's figures and the absence sweep by hand. The rules
 * live in the ledger (ledger_health.h); this file parses, checks values and prints. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil.h"
#include "cli_nurse.h"
#include "clock.h"
#include "config_load.h"
#include "ledger_health.h"
#include "log.h"
#include "textnum.h"
#include "zone.h"

/* ---- options ---------------------------------------------------------------------- */

enum opt {
    O_BY, O_DATE, O_CLASS, O_INSTRUMENT, O_WINDOW, O_OUTCOME, O_NOTE, O_CAUSE, O_SYMPTOMS,
    O_ONSET, O_CLINIC, O_DIAGNOSIS, O_FROM, O_TO, O_REASON, O_ISSUER, O_PART, O_COUNT
};
#define OPT(o) (1u << (o))
#define OPT_VAL 256 /* getopt values above any short option character */

static const struct option long_options[] = {
    {"by", required_argument, NULL, OPT_VAL + O_BY},
    {"date", required_argument, NULL, OPT_VAL + O_DATE},
    {"class", required_argument, NULL, OPT_VAL + O_CLASS},
    {"instrument", required_argument, NULL, OPT_VAL + O_INSTRUMENT},
    {"window", required_argument, NULL, OPT_VAL + O_WINDOW},
    {"outcome", required_argument, NULL, OPT_VAL + O_OUTCOME},
    {"note", required_argument, NULL, OPT_VAL + O_NOTE},
    {"cause", required_argument, NULL, OPT_VAL + O_CAUSE},
    {"symptoms", required_argument, NULL, OPT_VAL + O_SYMPTOMS},
    {"onset", required_argument, NULL, OPT_VAL + O_ONSET},
    {"clinic", required_argument, NULL, OPT_VAL + O_CLINIC},
    {"diagnosis", required_argument, NULL, OPT_VAL + O_DIAGNOSIS},
    {"from", required_argument, NULL, OPT_VAL + O_FROM},
    {"to", required_argument, NULL, OPT_VAL + O_TO},
    {"reason", required_argument, NULL, OPT_VAL + O_REASON},
    {"issuer", required_argument, NULL, OPT_VAL + O_ISSUER},
    {"part", required_argument, NULL, OPT_VAL + O_PART},
    {NULL, 0, NULL, 0},
};

/* What one command accepts and requires. */
struct syntax {
    const char *name;
    unsigned allowed, required; /* OPT() masks */
    int min_pos, max_pos;
    const char *positional;     /* for the message: "PERSON TEMP" */
};

struct args {
    const char *opt[O_COUNT];
    int npos;
    char **pos;
    char day[LEDGER_DAY_LEN]; /* --date, or today, for the commands that take it */
};

/* Options may come before or after the positional arguments (GNU getopt permutes;
 * main() reset optind to 0 for that). */
static int parse_args(int argc, char **argv, const struct syntax *sx, struct args *a)
{
    char msg[160];
    int c;
    *a = (struct args){0};
    while ((c = getopt_long(argc, argv, "", long_options, NULL)) != -1)
        if (c < OPT_VAL || !(sx->allowed & OPT(c - OPT_VAL)))
            return cli_usage_error("%s: bad option", sx->name);
        else
            a->opt[c - OPT_VAL] = optarg;
    for (int o = 0; o < O_COUNT; o++) {
        if ((sx->required & OPT(o)) && !a->opt[o]) {
            snprintf(msg, sizeof msg, "%s: --%s is required", sx->name, long_options[o].name);
            return cli_usage_error("%s", msg);
        }
    }
    a->npos = argc - optind;
    a->pos = argv + optind;
    if (a->npos < sx->min_pos || a->npos > sx->max_pos) {
        snprintf(msg, sizeof msg, "%s: expected %s", sx->name,
                 sx->max_pos ? sx->positional : "no arguments");
        return cli_usage_error("%s", msg);
    }
    return EXIT_OK;
}

/* ---- values ----------------------------------------------------------------------- */

/* The configuration and the school's zone: needed before values can be checked
 * (what "today" is, the plausible temperatures); the ledger is opened after. */
static int load_config(struct cli *cli)
{
    if (!cli->cfg && !(cli->cfg = config_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    return zone_set(cli->cfg->school.timezone) < 0 ? EXIT_USAGE : EXIT_OK;
}

/* What every command does first: the command line, the configuration, and the
 * --date option (a->day) of the commands that take one. */
static int start(struct cli *cli, int argc, char **argv, const struct syntax *sx, struct args *a)
{
    int rc = parse_args(argc, argv, sx, a);
    if (rc == EXIT_OK)
        rc = load_config(cli);
    if (rc == EXIT_OK && (sx->allowed & OPT(O_DATE)))
        rc = cli_day_option(a->opt[O_DATE], "date", a->day);
    return rc;
}

/* The ledger, opened only once the values are checked: opening may create or migrate it. */
static int open_ledger(struct cli *cli)
{
    return cli_open_db(cli, true);
}

/* start() and open_ledger(): all a command that checks nothing more needs. */
static int begin(struct cli *cli, int argc, char **argv, const struct syntax *sx, struct args *a)
{
    int rc = start(cli, argc, argv, sx, a);
    return rc == EXIT_OK ? open_ledger(cli) : rc;
}

/* A thermometer reading within the configured plausible range. */
static int get_temp(const struct cli *cli, const char *text, int *centi)
{
    const struct cfg_screening *s = &cli->cfg->screening;
    long v;
    char lo[16], hi[16];
    if (tn_centi(text, s->valid_min_centi, s->valid_max_centi, &v) == 0) {
        *centi = (int)v;
        return EXIT_OK;
    }
    return cli_fail("temperature '%s' is not a reading in °C from %s to %s (like 37.6)", text,
                tn_format_centi(s->valid_min_centi, lo, sizeof lo),
                tn_format_centi(s->valid_max_centi, hi, sizeof hi));
}

/* "sent-home" as typed -> "sent_home" as stored. */
static void underscores(const char *in, char *out, size_t n)
{
    snprintf(out, n, "%s", in);
    for (char *p = out; *p; p++)
        if (*p == '-')
            *p = '_';
}

static const char *by_of(const struct args *a)
{
    return a->opt[O_BY] ? a->opt[O_BY] : cli_login_name();
}

static void print_alerts_opened(const struct opened_alerts *o)
{
    for (int i = 0; i < o->count; i++)
        printf("cluster alert %" PRId64 " opened: report it to the bureau "
               "(details: gatescreen alerts)\n", o->id[i]);
}

/* ---- flags and referrals ---------------------------------------------------------- */

static void print_flag(const struct flag_view *v, void *arg)
{
    char t[16], w[32], who[96];
    (*(int *)arg)++;
    if (*v->external_id)
        snprintf(who, sizeof who, "%s %s (%s)", v->external_id, v->name,
                 *v->class_name ? v->class_name : "no class");
    else if (v->has_card)
        snprintf(who, sizeof who, "unknown card %" PRIu64, v->card);
    else
        snprintf(who, sizeof who, "unknown person");
    printf("  flag %" PRId64 ": %s: screen %s °C at %s%s%s\n", v->id, who,
           tn_format_centi(v->screen_centi, t, sizeof t), civil_local_text(v->opened_ms, CIVIL_DAY_HHMM, "?", w, sizeof w),
           *v->lane ? ", lane " : "", v->lane);
}

static void print_referral(const struct referral_view *v, void *arg)
{
    char s[16], r[16], w[32];
    (*(int *)arg)++;
    printf("  referral %" PRId64 ": %s %s (%s): since %s, screen %s °C, recheck %s °C (%s)\n",
           v->id, v->external_id, v->name, *v->class_name ? v->class_name : "no class",
           civil_local_text(v->opened_ms, CIVIL_DAY_HHMM, "?", w, sizeof w), tn_format_centi(v->screen_centi, s, sizeof s),
           tn_format_centi(v->recheck_centi, r, sizeof r), v->recheck_instrument);
}

int cli_flags(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"flags", 0, 0, 0, 0, ""};
    struct args a;
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    int flags = 0, referrals = 0;
    printf("Fever flags waiting for a recheck:\n");
    if (ledger_list_open_flags(cli->ledger, print_flag, &flags) < 0)
        return EXIT_FAILED;
    if (!flags)
        printf("  none\n");
    printf("Referrals waiting for an outcome:\n");
    if (ledger_list_open_referrals(cli->ledger, print_referral, &referrals) < 0)
        return EXIT_FAILED;
    if (!referrals)
        printf("  none\n");
    return EXIT_OK;
}

/* ---- recheck, check, referral ----------------------------------------------------- */

int cli_recheck(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"recheck", OPT(O_BY) | OPT(O_INSTRUMENT), OPT(O_INSTRUMENT),
                                     2, 2, "PERSON TEMP"};
    struct args a;
    struct recheck in = {0};
    int rc = start(cli, argc, argv, &sx, &a);
    if (rc == EXIT_OK)
        rc = get_temp(cli, a.pos[1], &in.temp_centi);
    if (rc == EXIT_OK)
        rc = open_ledger(cli);
    if (rc != EXIT_OK)
        return rc;
    in.person = a.pos[0];
    in.instrument = a.opt[O_INSTRUMENT];
    in.threshold_centi = cli->cfg->screening.threshold_centi;
    in.by = by_of(&a);
    in.at_ms = clock_wall_ms();
    struct recheck_result out;
    struct cli_errs e;
    if ((rc = cli_errs_report(&e, ledger_recheck(cli->ledger, &cli->cfg->screening, &in, &out,
                                                 cli_errs_open(&e)))) != EXIT_OK)
        return rc;
    char t[16], th[16];
    printf("%s: recheck %s °C (%s), threshold %s: ", in.person,
           tn_format_centi(in.temp_centi, t, sizeof t), in.instrument,
           tn_format_centi(in.threshold_centi, th, sizeof th));
    if (out.confirmed)
        printf("fever confirmed; referral %" PRId64 " to the isolation room opened\n",
               out.referral_id);
    else
        printf("cleared\n");
    print_alerts_opened(&out.alerts);
    return EXIT_OK;
}

/* Noon when the day is today and the noon window has begun, else morning. */
static const char *default_window(const struct cli *cli, const char *day)
{
    struct civil now;
    const struct cfg_windows *w = &cli->cfg->windows;
    if (!w->noon_enabled || civil_from_ms(clock_wall_ms(), &now) < 0)
        return "morning";
    return strcmp(now.day, day) == 0 && now.minute >= w->noon_start ? "noon" : "morning";
}

static int check_values(struct cli *cli, const struct args *a, struct manual_check *in)
{
    int rc = get_temp(cli, a->pos[1], &in->temp_centi);
    if (rc != EXIT_OK)
        return rc;
    in->window = a->opt[O_WINDOW] ? a->opt[O_WINDOW] : default_window(cli, a->day);
    if (strcmp(in->window, "noon") == 0 && !cli->cfg->windows.noon_enabled)
        return cli_fail("noon checks are not enabled in this school's configuration "
                        "([windows] noon)");
    if (strcmp(in->window, "evening") == 0 && !cli->cfg->windows.evening_enabled)
        return cli_fail("evening checks are not enabled in this school's configuration "
                        "([windows] evening)");
    return EXIT_OK;
}

static void print_check(const struct manual_check *in, const struct manual_check_result *out)
{
    char t[16], th[16];
    printf("%s: %s check on %s: %s °C (%s), threshold %s\n", in->person, in->window, in->day,
           tn_format_centi(in->temp_centi, t, sizeof t), in->instrument,
           tn_format_centi(in->threshold_centi, th, sizeof th));
    if (out->flag_id)
        printf("at or above the threshold: fever flag %" PRId64 " opened; recheck with "
               "`gatescreen recheck %s TEMP --instrument ...`\n", out->flag_id, in->person);
    else if (out->open_flag_id)
        printf("at or above the threshold: fever flag %" PRId64 " is already open for a "
               "recheck\n", out->open_flag_id);
}

int cli_check(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"check", OPT(O_BY) | OPT(O_INSTRUMENT) | OPT(O_WINDOW) |
                                     OPT(O_DATE), OPT(O_INSTRUMENT), 2, 2, "PERSON TEMP"};
    struct args a;
    struct manual_check in = {0};
    int rc = start(cli, argc, argv, &sx, &a);
    if (rc == EXIT_OK)
        rc = check_values(cli, &a, &in);
    if (rc == EXIT_OK)
        rc = open_ledger(cli);
    if (rc != EXIT_OK)
        return rc;
    in.person = a.pos[0];
    in.day = a.day;
    in.instrument = a.opt[O_INSTRUMENT];
    in.threshold_centi = cli->cfg->screening.threshold_centi;
    in.by = by_of(&a);
    in.at_ms = clock_wall_ms();
    struct manual_check_result out;
    struct cli_errs e;
    enum ledger_status failed = ledger_manual_check(cli->ledger, &in, &out, cli_errs_open(&e));
    if ((rc = cli_errs_report(&e, failed)) != EXIT_OK)
        return rc;
    if (out.existed && (out.flag_id || out.open_flag_id)) {
        char t[16];
        printf("%s: %s check on %s kept (%s °C, %s); %s °C is a fever: flag %" PRId64 " %s for a "
               "recheck\n", in.person, in.window, in.day,
               tn_format_centi(out.temp_centi, t, sizeof t), out.instrument,
               a.pos[1], out.flag_id ? out.flag_id : out.open_flag_id,
               out.flag_id ? "opened" : "already open");
        return EXIT_OK;
    }
    if (out.existed) {
        char t[16], hm[16];
        return cli_fail("%s already has a %s check on %s: %s °C (%s) at %s; nothing changed",
                    in.person, in.window, in.day, tn_format_centi(out.temp_centi, t, sizeof t),
                    out.instrument, civil_local_text(out.at_ms, CIVIL_HHMM, "?", hm, sizeof hm));
    }
    print_check(&in, &out);
    return EXIT_OK;
}

int cli_referral(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"referral", OPT(O_BY) | OPT(O_OUTCOME) | OPT(O_NOTE),
                                     OPT(O_OUTCOME), 1, 1, "PERSON"};
    struct args a;
    char outcome[32];
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    underscores(a.opt[O_OUTCOME], outcome, sizeof outcome);
    int64_t id;
    struct cli_errs e;
    enum ledger_status st = ledger_referral_outcome(cli->ledger, a.pos[0], outcome,
                                                    a.opt[O_NOTE], by_of(&a), clock_wall_ms(),
                                                    &id, cli_errs_open(&e));
    if ((rc = cli_errs_report(&e, st)) != EXIT_OK)
        return rc;
    printf("%s: referral %" PRId64 ": %s\n", a.pos[0], id, a.opt[O_OUTCOME]);
    if (strcmp(outcome, "returned_to_class") != 0)
        printf("a return-to-school certificate is needed before %s comes back "
               "(gatescreen certificate)\n", a.pos[0]);
    return EXIT_OK;
}

/* ---- absences, follow-ups, leave, certificates ------------------------------------ */

/* Whether the school sweeps a part of the day (午检缺勤, 晚检缺勤): their listing and
 * figures are shown even when there are none. */
static bool part_sweeps_on(const struct cfg_windows *w)
{
    return (w->noon_enabled && w->noon_sweep) || w->evening_enabled;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

static void print_absence(const struct absence_view *v, void *arg)
{
    static const char *const clinic[] = {"-", "no", "yes"};
    char late[16] = "-";
    (*(int *)arg)++;
    if (v->late_ms)
        civil_local_text(v->late_ms, CIVIL_HHMM, "?", late, sizeof late);
    /* The last column: the latest follow-up, else the note taken with the cause. */
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", v->external_id, v->name,
           or_dash(v->class_name), v->cause, or_dash(v->symptoms), or_dash(v->onset_day),
           clinic[v->clinic_visit + 1], or_dash(v->diagnosis), late, or_dash(v->returned_day),
           v->followups, or_dash(*v->last_followup ? v->last_followup : v->note));
}

static void part_absences_head(void)
{
    printf("\nnoon and evening absences (午检缺勤, 晚检缺勤):\n"
           "external_id\tname\tclass\tpart\tcause\tsymptoms\trecorded\tby\tnote\n");
}

static void print_part_absence(const struct part_absence_view *v, void *arg)
{
    char at[32];
    if ((*(int *)arg)++ == 0)
        part_absences_head();
    civil_local_text(v->recorded_ms, CIVIL_HHMM, "?", at, sizeof at);
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v->external_id, v->name,
           or_dash(v->class_name), v->part, v->cause, or_dash(v->symptoms), at,
           or_dash(v->recorded_by), or_dash(v->note));
}

/* The noon (午检缺勤) and evening (晚检缺勤) absences of the day, after the day's
 * absences: a second table, shown when a part-day sweep is on or when there are
 * rows (a sweep run before it was turned off), so that a school without them sees
 * the listing as it always was. */
static int print_part_absences(struct cli *cli, const char *day, const char *class_name)
{
    int n = 0;
    if (ledger_list_part_absences(cli->ledger, day, class_name, false, print_part_absence,
                                  &n) < 0)
        return EXIT_FAILED;
    if (n == 0 && !part_sweeps_on(&cli->cfg->windows))
        return EXIT_OK;
    if (n == 0)
        part_absences_head();
    printf("%d noon or evening absence%s on %s\n", n, n == 1 ? "" : "s", day);
    return EXIT_OK;
}

int cli_absences(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"absences", OPT(O_DATE) | OPT(O_CLASS), 0, 0, 0, ""};
    struct args a;
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    int n = 0;
    printf("external_id\tname\tclass\tcause\tsymptoms\tonset\tclinic\tdiagnosis\tlate\treturned\t"
           "followups\tnote\n");
    if (ledger_list_absences(cli->ledger, a.day, a.opt[O_CLASS], print_absence, &n) < 0)
        return EXIT_FAILED;
    printf("%d absence%s on %s\n", n, n == 1 ? "" : "s", a.day);
    return print_part_absences(cli, a.day, a.opt[O_CLASS]);
}

static int absence_values(const struct args *a, struct absence_cause *in, char *onset)
{
    int rc = a->opt[O_ONSET] ? cli_day_option(a->opt[O_ONSET], "onset date", onset) : EXIT_OK;
    if (rc != EXIT_OK)
        return rc;
    *in = (struct absence_cause){
        .person = a->pos[0], .day = a->day, .cause = a->opt[O_CAUSE],
        .symptoms = a->opt[O_SYMPTOMS], .onset_day = a->opt[O_ONSET] ? onset : NULL,
        .clinic = a->opt[O_CLINIC], .diagnosis = a->opt[O_DIAGNOSIS], .note = a->opt[O_NOTE],
        .by = by_of(a), .at_ms = clock_wall_ms(), .part = a->opt[O_PART],
    };
    return EXIT_OK;
}

int cli_absence(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"absence", OPT(O_BY) | OPT(O_DATE) | OPT(O_CAUSE) |
                                     OPT(O_SYMPTOMS) | OPT(O_ONSET) | OPT(O_CLINIC) |
                                     OPT(O_DIAGNOSIS) | OPT(O_NOTE) | OPT(O_PART), OPT(O_CAUSE),
                                     1, 1, "PERSON"};
    struct args a;
    struct absence_cause in;
    char onset[LEDGER_DAY_LEN];
    int rc = start(cli, argc, argv, &sx, &a);
    if (rc == EXIT_OK)
        rc = absence_values(&a, &in, onset);
    if (rc == EXIT_OK)
        rc = open_ledger(cli);
    if (rc != EXIT_OK)
        return rc;
    struct absence_result out;
    struct cli_errs e;
    enum ledger_status st = ledger_absence_set_cause(cli->ledger, &cli->cfg->screening, &in,
                                                     &out, cli_errs_open(&e));
    if ((rc = cli_errs_report(&e, st)) != EXIT_OK)
        return rc;
    printf("%s: %s%sabsence on %s %s: %s", in.person, in.part ? in.part : "", in.part ? " " : "",
           in.day, out.created ? "registered" : "updated", in.cause);
    if (*out.symptoms)
        printf(" (%s)", out.symptoms);
    if (!out.created && strcmp(out.previous_cause, in.cause) != 0)
        printf(", was %s", out.previous_cause);
    printf("\n");
    print_alerts_opened(&out.alerts);
    return EXIT_OK;
}

int cli_followup(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"followup", OPT(O_BY) | OPT(O_DATE), 0, 2, 2, "PERSON NOTE"};
    struct args a;
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    struct cli_errs e;
    enum ledger_status failed = ledger_absence_followup(cli->ledger, a.pos[0], a.day, a.pos[1],
                                                        by_of(&a), clock_wall_ms(),
                                                        cli_errs_open(&e));
    if ((rc = cli_errs_report(&e, failed)) != EXIT_OK)
        return rc;
    printf("%s: follow-up added to the absence of %s\n", a.pos[0], a.day);
    return EXIT_OK;
}

int cli_leave(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"leave", OPT(O_BY) | OPT(O_FROM) | OPT(O_TO) | OPT(O_REASON),
                                     OPT(O_FROM) | OPT(O_TO), 1, 1, "PERSON"};
    struct args a;
    char from[LEDGER_DAY_LEN], to[LEDGER_DAY_LEN];
    int rc = start(cli, argc, argv, &sx, &a);
    if (rc == EXIT_OK)
        rc = cli_day_option(a.opt[O_FROM], "from date", from);
    if (rc == EXIT_OK)
        rc = cli_day_option(a.opt[O_TO], "to date", to);
    if (rc == EXIT_OK)
        rc = open_ledger(cli);
    if (rc != EXIT_OK)
        return rc;
    struct cli_errs e;
    enum ledger_status failed = ledger_leave_add(cli->ledger, a.pos[0], from, to, a.opt[O_REASON],
                                                 by_of(&a), clock_wall_ms(), cli_errs_open(&e));
    if ((rc = cli_errs_report(&e, failed)) != EXIT_OK)
        return rc;
    printf("%s: leave from %s to %s recorded\n", a.pos[0], from, to);
    return EXIT_OK;
}

static void print_certificate(const char *person, const char *issued,
                              const struct certificate_result *out)
{
    printf("%s: certificate issued %s recorded", person, issued);
    if (out->absence_id)
        printf(" (for the illness absence of %s)", out->absence_day);
    printf("\n");
    if (!out->was_needed)
        printf("note: %s did not need a certificate; it is kept for when they do\n", person);
    if (out->still_needed)
        printf("note: %s still needs a certificate issued after their last illness; "
               "the gate keeps sending them to the nurse\n", person);
}

int cli_certificate(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"certificate", OPT(O_BY) | OPT(O_ISSUER) | OPT(O_DATE),
                                     OPT(O_ISSUER), 1, 1, "PERSON"};
    struct args a;
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    struct certificate_result out;
    struct cli_errs e;
    enum ledger_status st = ledger_certificate_add(cli->ledger, a.pos[0], a.opt[O_ISSUER],
                                                   a.day, by_of(&a), clock_wall_ms(), &out,
                                                   cli_errs_open(&e));
    if ((rc = cli_errs_report(&e, st)) != EXIT_OK)
        return rc;
    print_certificate(a.pos[0], a.day, &out);
    return EXIT_OK;
}

/* ---- alerts ----------------------------------------------------------------------- */

static void print_alert(const struct alert_view *v, void *arg)
{
    char o[32], c[32];
    (*(int *)arg)++;
    printf("alert %" PRId64 ": %s: %s, %d case%s (%s) by rule %s on %s; opened %s", v->id,
           v->closed_ms ? "closed" : "OPEN", v->class_name, v->cases, v->cases == 1 ? "" : "s",
           v->people, v->rule, v->day, civil_local_text(v->opened_ms, CIVIL_DAY_HHMM, "?", o, sizeof o));
    if (v->closed_ms)
        printf(", closed %s by %s", civil_local_text(v->closed_ms, CIVIL_DAY_HHMM, "?", c, sizeof c), v->closed_by);
    printf("\n");
}

int cli_alerts(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"alerts", 0, 0, 0, 0, ""};
    struct args a;
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    int n = 0;
    if (ledger_list_alerts(cli->ledger, print_alert, &n) < 0)
        return EXIT_FAILED;
    if (!n)
        printf("no cluster alerts\n");
    return EXIT_OK;
}

int cli_alert_close(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"alert-close", OPT(O_BY), 0, 1, 1, "ID"};
    struct args a;
    long id = 0;
    int rc = start(cli, argc, argv, &sx, &a);
    if (rc == EXIT_OK && tn_long(a.pos[0], 1, INT32_MAX, &id) < 0)
        rc = cli_fail("alert id '%s' is not a number (see gatescreen alerts)", a.pos[0]);
    if (rc == EXIT_OK)
        rc = open_ledger(cli);
    if (rc != EXIT_OK)
        return rc;
    struct cli_errs e;
    if ((rc = cli_errs_report(&e, ledger_alert_close(cli->ledger, id, by_of(&a), clock_wall_ms(),
                                                     cli_errs_open(&e)))) != EXIT_OK)
        return rc;
    printf("alert %ld closed\n", id);
    return EXIT_OK;
}

/* ---- day figures, sweep ----------------------------------------------------------- */

struct fig_part {
    enum day_figure fig;
    const char *label;
};

/* "Title: TOTAL (label n, label n)", or without a total "Title: label n, ..." */
static void print_parts(const char *title, const struct day_figures *f, int total,
                        const struct fig_part *parts, size_t n)
{
    printf("%s: ", title);
    if (total >= 0)
        printf("%d (", f->v[total]);
    for (size_t i = 0; i < n; i++)
        printf("%s%s %d", i ? ", " : "", parts[i].label, f->v[parts[i].fig]);
    printf("%s\n", total >= 0 ? ")" : "");
}

#define PARTS(title, f, total, ...)                                                       \
    do {                                                                                  \
        static const struct fig_part parts_[] = {__VA_ARGS__};                            \
        print_parts(title, f, total, parts_, sizeof parts_ / sizeof parts_[0]);           \
    } while (0)

static void print_checks(const char *title, const struct day_figures *f, int done, int all,
                         int coverage)
{
    printf("%s: %d of %d expected (%d.%d%%); %d in all\n", title, f->v[done], f->v[FIG_EXPECTED],
           f->v[coverage] / 10, f->v[coverage] % 10, f->v[all]);
}

static void print_figures(const struct day_figures *f, bool stored, bool noon, bool parts)
{
    printf("Figures for %s (%s)\n", f->day,
           stored ? "as stored before its readings were purged" : "from the ledger now");
    PARTS("Population", f, FIG_POP_TOTAL, {FIG_POP_STUDENT, "students"},
          {FIG_POP_TEACHER, "teachers"}, {FIG_POP_STAFF, "staff"});
    printf("Expected: %d (%d more on leave)\n", f->v[FIG_EXPECTED], f->v[FIG_ON_LEAVE]);
    print_checks("Morning checks", f, FIG_MORNING_DONE, FIG_MORNING_ALL, FIG_MORNING_COVERAGE);
    if (noon || f->v[FIG_NOON_ALL])
        print_checks("Noon checks", f, FIG_NOON_DONE, FIG_NOON_ALL, FIG_NOON_COVERAGE);
    PARTS("Readings", f, FIG_READINGS, {FIG_READINGS_VALID, "valid"},
          {FIG_READINGS_INVALID, "invalid"}, {FIG_READINGS_NO_MEASUREMENT, "no measurement"});
    PARTS("Gate decisions", f, -1, {FIG_OUT_ADMIT, "admit"}, {FIG_OUT_FEVER, "fever"},
          {FIG_OUT_INVALID, "invalid"}, {FIG_OUT_UNKNOWN_CARD, "unknown card"},
          {FIG_OUT_NO_IDENTITY, "no identity"}, {FIG_OUT_SEE_NURSE, "see nurse"},
          {FIG_OUT_NO_MEASUREMENT, "no measurement"});
    PARTS("Fever screens", f, FIG_SCREENS, {FIG_CONFIRMED, "confirmed"},
          {FIG_CLEARED, "cleared"}, {FIG_SCREENS_OPEN, "still open"});
    PARTS("Referrals opened", f, FIG_REFERRALS, {FIG_REF_SENT_HOME, "sent home"},
          {FIG_REF_HOSPITAL, "hospital"}, {FIG_REF_RETURNED, "returned to class"},
          {FIG_REF_PENDING, "pending"});
    PARTS("Absences", f, FIG_ABSENCES, {FIG_ABS_UNKNOWN, "cause unknown"},
          {FIG_ABS_ILLNESS, "illness"}, {FIG_ABS_PERSONAL, "personal"}, {FIG_ABS_OTHER, "other"},
          {FIG_ABS_LATE, "late"});
    if (parts || f->v[FIG_PART_NOON] || f->v[FIG_PART_EVENING])
        printf("Noon and evening absences: %d noon, %d evening (cause unknown: %d, %d)\n",
               f->v[FIG_PART_NOON], f->v[FIG_PART_EVENING], f->v[FIG_PART_NOON_UNKNOWN],
               f->v[FIG_PART_EVENING_UNKNOWN]);
    PARTS("Symptoms", f, -1, {FIG_SYM_FEVER, "fever"}, {FIG_SYM_COUGH, "cough"},
          {FIG_SYM_SORE_THROAT, "sore throat"}, {FIG_SYM_DIARRHOEA, "diarrhoea"},
          {FIG_SYM_VOMITING, "vomiting"}, {FIG_SYM_RASH, "rash"},
          {FIG_SYM_CONJUNCTIVITIS, "conjunctivitis"}, {FIG_SYM_OTHER, "other"});
    printf("Returns after illness: %d; certificates recorded: %d\n",
           f->v[FIG_RETURNS_AFTER_ILLNESS], f->v[FIG_CERTIFICATES]);
    printf("Cluster alerts: %d opened for this day, %d open now\n", f->v[FIG_ALERTS_OPENED],
           f->v[FIG_ALERTS_OPEN]);
}

int cli_day(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"day", OPT(O_DATE), 0, 0, 0, ""};
    struct args a;
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    struct day_figures live, kept;
    int stored = 0;
    if (ledger_day_figures(cli->ledger, a.day, &cli->cfg->windows, &live) < 0 ||
        ledger_load_day_figures(cli->ledger, a.day, &kept, &stored) < 0)
        return EXIT_FAILED;
    /* Once a day's readings are purged only the stored figures still tell it whole.
     * A day that never had readings (manual checks only) is told by the ledger: what
     * was recorded after the figures were stored (a cause) counts. */
    bool use_stored = stored && live.v[FIG_READINGS] == 0 && kept.v[FIG_READINGS] > 0;
    const struct cfg_windows *w = &cli->cfg->windows;
    print_figures(use_stored ? &kept : &live, use_stored, w->noon_enabled, part_sweeps_on(w));
    return EXIT_OK;
}

int cli_sweep(struct cli *cli, int argc, char **argv)
{
    static const struct syntax sx = {"sweep", OPT(O_DATE) | OPT(O_BY), 0, 0, 0, ""};
    struct args a;
    int rc = begin(cli, argc, argv, &sx, &a);
    if (rc != EXIT_OK)
        return rc;
    int created, late;
    struct cli_errs e;
    /* The sweep is the day worker's job and answers 0 / -1: a refusal or a database
     * failure, exit 1 either way. */
    int failed = ledger_absence_sweep(cli->ledger, a.day, &cli->cfg->windows, by_of(&a),
                                      clock_wall_ms(), &created, &late, cli_errs_open(&e));
    if ((rc = cli_errs_report(&e, failed < 0 ? LEDGER_IO : LEDGER_OK)) != EXIT_OK)
        return rc;
    if (created)
        printf("%s: %d absences recorded: %d came late, %d without a cause yet "
               "(gatescreen absences)\n", a.day, created, late, created - late);
    else
        printf("%s: no new absences (everyone expected is checked, on leave or recorded)\n",
               a.day);
    return EXIT_OK;
}
