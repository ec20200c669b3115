/* The gate's contract (sql/002_contract_views.sql) read three ways must give one
 * answer. For a ledger of people in every state the contract knows, each person
 * is asked:
 * - the gate: ledger_gate_lookup by card (open_case, needs_certificate);
 * - the nurse: ledger_open_case and ledger_needs_certificate (the CLI and the web
 *   person page), and whether the person is on the open-flag or open-referral
 *   list (ledger_list_open_*: the CLI's lists and the web Today page's);
 * - the web: whether ledger_web_returns lists the person as back without a
 *   certificate (everyone arrives today, so this is "needs one" for an event
 *   before today).
 * Each answer is compared with the one written in the table below, so a path
 * that drifts from the others fails here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "ledger.h"
#include "ledger_gate.h"
#include "ledger_health.h"
#include "ledger_web.h"
#include "log.h"

#include "ledger_fixture.h"
#include "zone.h"

#define D0 "2024-03-04" /* today */
#define DM1 "2024-03-03"
#define DM2 "2024-03-02"
#define DP1 "2024-03-05"

#define MAX_IDS 32
#define ID_LEN 16

/* What a person has, in the order it is written, and what each path must say. */
struct case_row {
    const char *who;
    const char *absence_day, *absence_cause; /* an absence, or NULL */
    const char *absence2_day;                /* a second illness absence, or NULL */
    const char *referral_outcome;            /* a confirmed screen of DM1 with a referral:
                                                "" without outcome, NULL none */
    const char *cert_day;                    /* a certificate issued then, or NULL */
    bool screen_today;                       /* a fever screen at the gate, awaiting recheck */
    bool cleared_screen;                     /* a screen of DM1 cleared by the recheck */
    bool open_case, needs, back;             /* expected; back = on the web's returns */
    bool untraced, unexplained;              /* the gate holds for an earlier unknown cause;
                                                the nurse's page lists it (up to today) */
    const char *back_cause;                  /* the event the web names */
};

static const struct case_row cases[] = {
    {.who = "NONE"},
    {.who = "ILL", .absence_day = DM1, .absence_cause = "illness", .needs = true,
     .back = true, .back_cause = "illness"},
    {.who = "ILL_CERT", .absence_day = DM1, .absence_cause = "illness", .cert_day = DM1},
    {.who = "ILL_LATER_CERT", .absence_day = DM2, .absence_cause = "illness", .cert_day = D0},
    {.who = "ILL_OLD_CERT", .absence_day = DM1, .absence_cause = "illness", .cert_day = DM2,
     .needs = true, .back = true, .back_cause = "illness"},
    {.who = "ILL_TWICE", .absence_day = DM2, .absence_cause = "illness", .absence2_day = DM1,
     .cert_day = DM2, .needs = true, .back = true, .back_cause = "illness"},
    {.who = "PERSONAL", .absence_day = DM1, .absence_cause = "personal"},
    {.who = "UNKNOWN", .absence_day = DM1, .absence_cause = "unknown", .untraced = true,
     .unexplained = true},
    /* Absent today without a cause: on the nurse's list, but arriving late today is
     * the answer, not a reason to hold the person. */
    {.who = "UNKNOWN_TODAY", .absence_day = D0, .absence_cause = "unknown", .unexplained = true},
    {.who = "LATE", .absence_day = DM1, .absence_cause = "late"},
    /* Ill today: held today, but not "back" (the day itself is not a return). */
    {.who = "ILL_TODAY", .absence_day = D0, .absence_cause = "illness", .needs = true},
    {.who = "ILL_AHEAD", .absence_day = DP1, .absence_cause = "illness"},
    {.who = "SCREEN", .screen_today = true, .open_case = true},
    {.who = "CLEARED", .cleared_screen = true},
    {.who = "REFERRAL", .referral_outcome = "", .open_case = true},
    {.who = "SENT_HOME", .referral_outcome = "sent_home", .needs = true, .back = true,
     .back_cause = "sent_home"},
    {.who = "HOSPITAL", .referral_outcome = "hospital", .needs = true, .back = true,
     .back_cause = "hospital"},
    {.who = "HOSPITAL_CERT", .referral_outcome = "hospital", .cert_day = D0},
    {.who = "RETURNED", .referral_outcome = "returned_to_class"},
    /* Sent home the day of an illness absence: the web names the cause first by name. */
    {.who = "ILL_SENT_HOME", .absence_day = DM1, .absence_cause = "illness",
     .referral_outcome = "sent_home", .needs = true, .back = true, .back_cause = "illness"},
    {.who = "ILL_SCREEN", .absence_day = DM2, .absence_cause = "illness", .screen_today = true,
     .open_case = true, .needs = true, .back = true, .back_cause = "illness"},
    {.who = "REFERRAL_ILL", .absence_day = DM2, .absence_cause = "illness",
     .referral_outcome = "", .open_case = true, .needs = true, .back = true,
     .back_cause = "illness"},
};
#define NCASES (sizeof cases / sizeof cases[0])

static int setup(void **state)
{
    struct fx *f = fx_new("contract");
    if (!f)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

static void absence_row(struct fx *f, const char *who, const char *day, const char *cause)
{
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms) SELECT id, '%s', '%s', 0 "
           "FROM people WHERE external_id = '%s'", day, cause, who);
}

/* A screen of DM1 rechecked: cleared, or confirmed with a referral (outcome ""
 * none yet), as ledger_recheck and ledger_referral_outcome leave them. */
static void rechecked_screen(struct fx *f, const char *who, const char *outcome)
{
    long long flag = gate_fever(f, who, DM1, 3800);
    sql(f, "UPDATE flags SET state = '%s' WHERE id = %lld", outcome ? "confirmed" : "cleared",
        flag);
    if (!outcome)
        return;
    sql(f, "INSERT INTO referrals (flag_id, person_id, opened_ms, day, outcome, outcome_ms) "
           "SELECT id, person_id, 0, '" DM1 "', nullif('%s', ''), 0 FROM flags WHERE id = %lld",
        outcome, flag);
}

/* Card 1000 + i; today's arrival (sent to the nurse, as the gate does with anyone
 * it holds); then what the row has. */
static void build(struct fx *f, size_t i)
{
    const struct case_row *c = &cases[i];
    student(f, c->who, "1班");
    sql(f, "INSERT INTO cards (card_no, person_id, added_ms) SELECT %zu, id, 0 FROM people "
           "WHERE external_id = '%s'", 1000 + i, c->who);
    reading(f, c->who, D0, at(D0, 7, 20), 3650, "valid", "see_nurse");
    if (c->absence_day)
        absence_row(f, c->who, c->absence_day, c->absence_cause);
    if (c->absence2_day)
        absence_row(f, c->who, c->absence2_day, "illness");
    if (c->referral_outcome)
        rechecked_screen(f, c->who, c->referral_outcome);
    if (c->cleared_screen)
        rechecked_screen(f, c->who, NULL);
    if (c->cert_day)
        sql(f, "INSERT INTO certificates (person_id, issuer, issued_day, checked_by, "
               "recorded_ms) SELECT id, 'clinic', '%s', 'nurse', 0 FROM people WHERE "
               "external_id = '%s'", c->cert_day, c->who);
    if (c->screen_today)
        gate_fever(f, c->who, D0, 3800);
}

/* ---- what the lists say ----------------------------------------------------------- */

struct seen {
    int n;
    char id[MAX_IDS][ID_LEN];
    char cause[MAX_IDS][ID_LEN];
};

static void add_seen(struct seen *s, const char *id, const char *cause)
{
    if (!*id || s->n == MAX_IDS)
        return; /* an unknown card's screen has no person */
    snprintf(s->id[s->n], ID_LEN, "%s", id);
    snprintf(s->cause[s->n], ID_LEN, "%s", cause ? cause : "");
    s->n++;
}

static const char *seen_cause(const struct seen *s, const char *id)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->id[i], id) == 0)
            return s->cause[i];
    return NULL;
}

static void on_flag(const struct flag_view *v, void *arg)
{
    add_seen(arg, v->external_id, NULL);
}

static void on_referral(const struct referral_view *v, void *arg)
{
    add_seen(arg, v->external_id, NULL);
}

static void on_unexplained(const struct absence_view *v, void *arg)
{
    add_seen(arg, v->external_id, v->cause);
}

static void on_return(const struct lw_return *v, void *arg)
{
    add_seen(arg, v->external_id, v->cause);
}

/* ---- the agreement ---------------------------------------------------------------- */

static void expect(const char *who, const char *path, const char *what, bool got, bool want)
{
    if (got != want)
        fail_msg("%s: %s says %s = %d, expected %d", who, path, what, got, want);
}

static void check_untraced(const struct case_row *c, const struct gate_person *gp,
                           const struct seen *unexplained)
{
    expect(c->who, "the gate", "untraced absence", gp->state.untraced_absence, c->untraced);
    expect(c->who, "the web's unexplained absences", "listed",
           seen_cause(unexplained, c->who) != NULL, c->unexplained);
    if (c->untraced && !c->unexplained)
        fail_msg("%s: the table is wrong: held as untraced but not on the list", c->who);
}

static void check_person(struct fx *f, struct ledger_gate *g, size_t i, const struct seen *lists,
                         const struct seen *returns, const struct seen *unexplained)
{
    const struct case_row *c = &cases[i];
    struct gate_person gp;
    assert_int_equal(ledger_gate_lookup(g, 1000 + i, D0, &gp), 0);
    assert_string_equal(gp.external_id, c->who);
    expect(c->who, "the gate", "open case", gp.state.open_case, c->open_case);
    expect(c->who, "the gate", "needs a certificate", gp.state.needs_certificate, c->needs);
    check_untraced(c, &gp, unexplained);

    bool open = !c->open_case, needs = !c->needs;
    assert_int_equal(ledger_open_case(f->l, c->who, &open), 0);
    assert_int_equal(ledger_needs_certificate(f->l, c->who, D0, &needs), 0);
    expect(c->who, "ledger_open_case", "open case", open, c->open_case);
    expect(c->who, "ledger_needs_certificate", "needs a certificate", needs, c->needs);
    expect(c->who, "the nurse's open lists", "open case", seen_cause(lists, c->who) != NULL,
           c->open_case);

    const char *cause = seen_cause(returns, c->who);
    expect(c->who, "the web's returns", "back without a certificate", cause != NULL, c->back);
    if (c->back && cause && strcmp(cause, c->back_cause) != 0)
        fail_msg("%s: the web's returns name %s, expected %s", c->who, cause, c->back_cause);
    /* Back without a certificate is needing one, seen on a later day. */
    if (c->back && !c->needs)
        fail_msg("%s: the table is wrong: back but not needing a certificate", c->who);
}

static void test_three_paths_agree(void **state)
{
    struct fx *f = *state;
    for (size_t i = 0; i < NCASES; i++)
        build(f, i);
    gate_fever(f, NULL, D0, 3900); /* an unknown card's screen: on the list, no person */

    struct seen lists = {0}, returns = {0}, unexplained = {0};
    assert_int_equal(ledger_list_open_flags(f->l, on_flag, &lists), 0);
    assert_int_equal(ledger_list_open_referrals(f->l, on_referral, &lists), 0);
    assert_int_equal(ledger_web_returns(f->l, D0, NULL, on_return, &returns), 0);
    assert_int_equal(ledger_web_unexplained(f->l, D0, NULL, MAX_IDS, on_unexplained,
                                            &unexplained), 0);
    int count = -1;
    assert_int_equal(ledger_web_count_unexplained(f->l, D0, NULL, &count), 0);
    assert_int_equal(count, unexplained.n);

    struct ledger_gate *g;
    assert_int_equal(ledger_gate_open(f->l, &g), 0);
    for (size_t i = 0; i < NCASES; i++)
        check_person(f, g, i, &lists, &returns, &unexplained);
    ledger_gate_close(g);
}

/* The rules are where the migration put them, once each. */
static void test_views_exist(void **state)
{
    struct fx *f = *state;
    assert_int_equal(qint(f, "SELECT count(*) FROM sqlite_schema WHERE type = 'view' AND name "
                             "IN ('contract_open_case', 'contract_certificate_event', "
                             "'contract_uncovered_event', 'contract_untraced_absence')"), 4);
    assert_true(qint(f, "PRAGMA user_version") >= 2); /* the views came with 002 */
}

int main(void)
{
    log_init("test_contract_views", LOG_LVL_ERR, LOG_OUT_PLAIN);
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_three_paths_agree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_views_exist, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
