/* The documents for the bureau on a real SQLite ledger: the daily summary's exact
 * figures, notices of referrals and cluster alerts in pseudonym and names mode, the
 * pseudonym key (HMAC-SHA-256 test vectors, refused key files), and that no name
 * or id ever leaves in a summary or a pseudonym-mode notice.
 *
 * With GS_DOCS_DIR set, every document built is also written there as NAME.json:
 * tests/integration/test_summary_schema.py validates them against the schemas. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "civil.h"
#include "config_load.h"
#include "ledger.h"
#include "ledger_health.h"
#include "log.h"
#include "upstream.h"

#include "ledger_fixture.h"
#include "ledger_upstream.h"
#include "zone.h"

#define D0 "2024-03-04" /* a Monday: the scripted school day */
#define DM1 "2024-03-03"
#define DM3 "2024-03-01"
#define DP1 "2024-03-05"

/* The key file of the fixture (37 bytes, its newline included) and what
 * python3 -c 'import hmac,hashlib; print(hmac.new(KEY, ID.encode(),
 * hashlib.sha256).hexdigest())' gives for the ids used below. */
#define TEST_KEY "gatescreen test key 0123456789abcdef\n"
#define PSEUDO_XSA3 "0affc7f504ab5cb2cab65124b4c17adf0a7cd5ae37b21e988fa268554bac34db"
#define PSEUDO_XSC0 "80df8820f5b907de352a1693af4fb3109664147ddfc62c317f3e5d2c47b5f8df"
#define PSEUDO_S2020001 "12d380c10999754c54d3be5e35c5a00e3b13e695b96bfd2de225ac104b07525b"

static const char config_text[] =
    "[school]\ncode = T001\nname = 测试学校\n"
    "[ledger]\ndatabase = ledger.db\n"
    "[windows]\nmorning = 07:00-08:30\nnoon = 11:30-13:00\n"
    "[bus gw]\ntcp = 127.0.0.1:1502\n"
    "[lane east-1]\ngate = 东门\n[lane north-1]\ngate = 北门\n"
    "[device ir-1]\nbus = gw\nlane = east-1\n[device ir-2]\nbus = gw\nunit = 2\nlane = north-1\n";

/* Everyone in the fixture: no document may carry these unless names are asked for. */
static const char *const people_ids[] = {"XSA0", "XSA1", "XSA2", "XSA3", "XSA4", "XSA5",
                                         "XST1", "XSW1", "XSGONE", "XSLV", "XSR1", "XSC0",
                                         "XSC1", "XSC2", NULL};

/* ---- fixture and helpers ---------------------------------------------------------- */

#define NOW at(D0, 10, 0)
#define NOW_ISO "2024-03-04T02:00:00.000Z" /* 10:00 in Asia/Shanghai */

static int setup(void **state)
{
    struct fx *f = fx_new("summary");
    if (!f)
        return -1;
    snprintf(f->key, sizeof f->key, "%s/pseudonym.key", f->dir);
    f->cfg = config_parse("test.conf", config_text, sizeof config_text - 1, f->dir, f->e);
    write_file(f->key, TEST_KEY, strlen(TEST_KEY), 0600);
    f->ps = pseudonym_open(f->key, f->e);
    *state = f;
    return f->cfg && f->ps ? 0 : -1;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

static int recheck(struct fx *f, const char *who, int centi, struct recheck_result *out)
{
    struct recheck in = {.person = who, .temp_centi = centi, .instrument = "ear",
                         .threshold_centi = 3730, .by = "nurse", .at_ms = NOW};
    return ledger_recheck(f->l, &f->cfg->screening, &in, out, f->e);
}

static int absence(struct fx *f, const char *who, const char *cause, const char *symptoms,
                   struct absence_result *out)
{
    struct absence_cause in = {.person = who, .day = D0, .cause = cause, .symptoms = symptoms,
                               .by = "nurse", .at_ms = NOW};
    return ledger_absence_set_cause(f->l, &f->cfg->screening, &in, out, f->e);
}

struct day_ids {
    int64_t referral; /* XSA3's, sent home */
    int64_t alert;    /* 3班, rule day, XSC0..XSC2 */
};

/* A school day with something in every figure (as in test_ledger_health.c) and a
 * cluster of three illness absences in 3班. */
static void school_day(struct fx *f, struct day_ids *ids)
{
    struct recheck_result rr;
    struct absence_result ab;
    struct certificate_result cr;
    int created, late;
    for (int i = 0; i < 6; i++) {
        char who[8];
        snprintf(who, sizeof who, "XSA%d", i);
        student(f, who, "1班");
    }
    person(f, "XST1", "teacher", "1班", 1);
    person(f, "XSW1", "staff", "", 1);
    person(f, "XSGONE", "student", "1班", 0);
    student(f, "XSLV", "1班");
    sql(f, "INSERT INTO leaves (person_id, from_day, to_day, at_ms) VALUES (" PID("XSLV")
           ", '" D0 "', '" D0 "', 0)");
    for (int i = 0; i < 3; i++) {
        char who[8];
        snprintf(who, sizeof who, "XSA%d", i);
        gate_check(f, who, D0, "morning", reading(f, who, D0, at(D0, 7, 10 + i), 3650, "valid",
                                                  "admit"));
    }
    gate_check(f, "XST1", D0, "morning",
               reading(f, "XST1", D0, at(D0, 7, 5), 3640, "valid", "admit"));
    reading(f, "XSA3", D0, at(D0, 7, 20), 0, "fault", "invalid");
    reading(f, NULL, D0, at(D0, 7, 22), 3650, "valid", "unknown_card");
    reading(f, "XSA4", D0, at(D0, 9, 23), 0, "no_measurement", "no_measurement"); /* late */
    gate_fever(f, "XSA3", D0, 3790); /* -> confirmed, sent home */
    gate_fever(f, "XSA0", D0, 3760); /* -> cleared */
    assert_int_equal(recheck(f, "XSA3", 3800, &rr), 0);
    ids->referral = rr.referral_id;
    int64_t id;
    assert_int_equal(ledger_referral_outcome(f->l, "XSA3", "sent_home", NULL, "nurse", NOW, &id,
                                             f->e), 0);
    assert_int_equal(recheck(f, "XSA0", 3650, &rr), 0);
    gate_fever(f, "XSA1", D0, 3740); /* still open */
    assert_int_equal(ledger_absence_sweep(f->l, D0, &f->cfg->windows, NULL, NOW, &created,
                                          &late, f->e), 0);
    assert_int_equal(absence(f, "XSA5", "illness", "cough,rash", &ab), 0);
    student(f, "XSR1", "2班"); /* back after yesterday's illness, with a certificate */
    sql(f, "INSERT INTO absences (person_id, day, cause, recorded_ms, returned_day) VALUES "
           "(" PID("XSR1") ", '" DM1 "', 'illness', 0, '" D0 "')");
    gate_check(f, "XSR1", D0, "noon",
               reading(f, "XSR1", D0, at(D0, 12, 0), 3650, "valid", "admit"));
    assert_int_equal(ledger_certificate_add(f->l, "XSR1", "clinic", DM1, "nurse", NOW, &cr,
                                            f->e), 0);
    for (int i = 0; i < 3; i++) {
        char who[8];
        snprintf(who, sizeof who, "XSC%d", i);
        student(f, who, "3班");
        assert_int_equal(absence(f, who, "illness", "fever", &ab), 0);
    }
    assert_int_equal(ab.alerts.count, 1);
    ids->alert = ab.alerts.id[0];
    /* The daemon's availability of one lane; north-1 has none stored. */
    assert_int_equal(ledger_store_figure(f->l, D0, "lane.east-1.availability_permille", 998), 0);
    assert_string_equal(errs(f), "");
}

/* Writes the document to $GS_DOCS_DIR/NAME.json for the schema test. */
static void keep(const char *name, const char *json)
{
    const char *dir = getenv("GS_DOCS_DIR");
    char path[512];
    if (!dir || !*dir)
        return;
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fputs(json, out);
    fclose(out);
}

static json_t *parse(const char *json)
{
    json_error_t e;
    json_t *doc = json_loads(json, 0, &e);
    if (!doc)
        fail_msg("not JSON (%s): %s", e.text, json);
    return doc;
}

/* The value at a dotted path: "absences.by_cause.illness", "devices.0.lane". */
static json_t *get(json_t *doc, const char *path)
{
    char buf[128], *save = NULL;
    snprintf(buf, sizeof buf, "%s", path);
    json_t *v = doc;
    for (char *k = strtok_r(buf, ".", &save); v && k; k = strtok_r(NULL, ".", &save))
        v = json_is_array(v) ? json_array_get(v, strtoul(k, NULL, 10)) : json_object_get(v, k);
    if (!v)
        fail_msg("no %s in the document", path);
    return v;
}

static void want_int(json_t *doc, const char *path, long long want)
{
    json_t *v = get(doc, path);
    if (!json_is_integer(v) || json_integer_value(v) != want)
        fail_msg("%s = %s, expected %lld", path, json_dumps(v, JSON_ENCODE_ANY), want);
}

static void want_real(json_t *doc, const char *path, double want)
{
    json_t *v = get(doc, path);
    if (!json_is_real(v) || json_real_value(v) != want)
        fail_msg("%s = %s, expected %g", path, json_dumps(v, JSON_ENCODE_ANY), want);
}

static void want_str(json_t *doc, const char *path, const char *want)
{
    json_t *v = get(doc, path);
    if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
        fail_msg("%s = %s, expected \"%s\"", path, json_dumps(v, JSON_ENCODE_ANY), want);
}

/* No id and no name of anyone in the fixture appears anywhere in the text. */
static void assert_anonymous(const char *what, const char *json)
{
    for (int i = 0; people_ids[i]; i++)
        if (strstr(json, people_ids[i]))
            fail_msg("%s names %s: %s", what, people_ids[i], json);
    if (strstr(json, "学生"))
        fail_msg("%s has a name: %s", what, json);
}

/* ---- pseudonyms ------------------------------------------------------------------- */

static void test_pseudonym_vectors(void **state)
{
    struct fx *f = *state;
    char out[65];
    pseudonym_of(f->ps, "S2020001", out);
    assert_string_equal(out, PSEUDO_S2020001);
    pseudonym_of(f->ps, "XSA3", out);
    assert_string_equal(out, PSEUDO_XSA3);

    /* RFC 4231 test case 6: a key longer than SHA-256's block. */
    unsigned char key[131];
    memset(key, 0xaa, sizeof key);
    char path[128];
    snprintf(path, sizeof path, "%s/rfc4231.key", f->dir);
    write_file(path, key, sizeof key, 0400);
    struct pseudonym *p = pseudonym_open(path, f->e);
    assert_non_null(p);
    pseudonym_of(p, "Test Using Larger Than Block-Size Key - Hash Key First", out);
    assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    pseudonym_free(p);
    assert_string_equal(errs(f), "");
}

static void test_pseudonym_key_errors(void **state)
{
    struct fx *f = *state;
    char path[128], big[4097];
    memset(big, 'k', sizeof big);
    static const struct {
        const char *file;
        size_t len;
        mode_t mode;
        const char *err;
    } rows[] = {
        {"short.key", 31, 0600, "short.key: the pseudonym key is 31 bytes; it must be 32 to 4096"},
        {"world.key", 32, 0644, "world.key: mode 0644 lets group or others read it; chmod 600 "
                                "it\n"},
        {"group.key", 32, 0640, "group.key: mode 0640 lets group or others read it"},
        {"other.key", 32, 0604, "other.key: mode 0604 lets group or others read it"},
        {"gexec.key", 32, 0610, "gexec.key: mode 0610 lets group or others read it"},
        {"big.key", sizeof big, 0600, "big.key: the pseudonym key is 4097 bytes"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", f->dir, rows[i].file);
        write_file(path, big, rows[i].len, rows[i].mode);
        assert_null(pseudonym_open(path, f->e));
        const char *e = errs(f);
        if (!strstr(e, rows[i].err))
            fail_msg("%s: '%s' lacks '%s'", rows[i].file, e, rows[i].err);
    }
    snprintf(path, sizeof path, "%s/missing.key", f->dir);
    assert_null(pseudonym_open(path, f->e));
    assert_non_null(strstr(errs(f), "missing.key: cannot open the pseudonym key: No such file"));
    assert_null(pseudonym_open(f->dir, f->e));
    assert_non_null(strstr(errs(f), "not a regular file"));
    /* Exactly 32 bytes is enough. */
    snprintf(path, sizeof path, "%s/ok.key", f->dir);
    write_file(path, big, 32, 0600);
    struct pseudonym *p = pseudonym_open(path, f->e);
    assert_non_null(p);
    pseudonym_free(p);
}

/* ---- the summary ------------------------------------------------------------------ */

static void test_summary_figures(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    school_day(f, &ids);
    char *json = NULL;
    assert_int_equal(summary_build(f->l, f->cfg, D0, 3, INT64_C(1795937462250), &json), 0);
    keep("summary", json);
    assert_anonymous("summary", json);
    json_t *d = parse(json);
    want_str(d, "schema", "gatescreen.summary/2");
    want_str(d, "school.code", "T001");
    want_str(d, "school.name", "测试学校");
    want_str(d, "date", D0);
    want_int(d, "revision", 3);
    want_str(d, "generated_at", "2026-11-29T07:31:02.250Z");
    static const struct {
        const char *path;
        int value;
    } ints[] = {
        {"population.student", 11}, {"population.teacher", 1}, {"population.staff", 1},
        {"population.total", 13}, {"expected", 10}, {"on_leave", 1},
        {"checks.morning.done", 4}, {"checks.morning.expected", 10}, {"checks.morning.all", 5},
        {"checks.noon.done", 1}, {"checks.noon.expected", 10}, {"checks.noon.all", 1},
        {"fevers.screens", 3}, {"fevers.confirmed", 1}, {"fevers.cleared", 1},
        {"fevers.open", 1},
        {"referrals.opened", 1}, {"referrals.by_outcome.sent_home", 1},
        {"referrals.by_outcome.hospital", 0}, {"referrals.by_outcome.returned_to_class", 0},
        {"referrals.pending", 0},
        {"absences.all", 5}, {"absences.by_cause.illness", 4}, {"absences.by_cause.personal", 0},
        {"absences.by_cause.other", 0}, {"absences.by_cause.late", 1},
        {"absences.unexplained", 0},
        {"absences.by_symptom.fever", 3}, {"absences.by_symptom.cough", 1},
        {"absences.by_symptom.sore_throat", 0}, {"absences.by_symptom.diarrhoea", 0},
        {"absences.by_symptom.vomiting", 0}, {"absences.by_symptom.rash", 1},
        {"absences.by_symptom.conjunctivitis", 0}, {"absences.by_symptom.other", 0},
        {"returns.after_illness", 1}, {"returns.certificates_recorded", 1},
        {"alerts.opened", 1}, {"alerts.open_count", 1}, {"alerts.open.0.cases", 3},
        /* Version 2: students and staff apart (only students expected here: the
         * teacher's check counts in staff's all, not in a rate). */
        {"groups.students.population", 11}, {"groups.students.expected", 10},
        {"groups.students.checks.morning.done", 4}, {"groups.students.checks.morning.all", 4},
        {"groups.students.checks.noon.done", 1}, {"groups.students.absences.all", 5},
        {"groups.students.absences.illness", 4},
        {"groups.staff.population", 2}, {"groups.staff.expected", 0},
        {"groups.staff.checks.morning.done", 0}, {"groups.staff.checks.morning.all", 1},
        {"groups.staff.absences.all", 0}, {"groups.staff.absences.illness", 0},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        want_int(d, ints[i].path, ints[i].value);
    want_real(d, "checks.morning.coverage", 0.4);
    want_real(d, "checks.noon.coverage", 0.1);
    want_str(d, "alerts.open.0.class", "3班");
    want_str(d, "alerts.open.0.rule", "day");
    want_str(d, "alerts.open.0.day", D0);
    assert_int_equal(json_array_size(get(d, "devices")), 2);
    want_str(d, "devices.0.lane", "east-1");
    want_str(d, "devices.0.gate", "东门");
    want_real(d, "devices.0.availability", 0.998);
    want_str(d, "devices.1.lane", "north-1");
    assert_true(json_is_null(get(d, "devices.1.availability")));
    /* Numbers as people write them, and UTF-8 as it is. */
    assert_non_null(strstr(json, "\"availability\":0.998"));
    assert_non_null(strstr(json, "\"coverage\":0.4,"));
    assert_non_null(strstr(json, "\"gate\":\"东门\""));
    assert_true(json_is_null(get(d, "closed")));
    assert_int_equal(json_array_size(get(d, "arrival_slots")), 0);
    json_decref(d);
    free(json);
}

/* Teachers and staff expected too: their checks, rate and illness absences
 * (教职工因病缺勤) are their own figures, and the groups add up to the school's. */
static void test_summary_staff_apart(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    struct absence_result ab;
    char *json = NULL;
    f->cfg->windows.absence_kinds = CFG_KIND_STUDENT | CFG_KIND_TEACHER | CFG_KIND_STAFF;
    school_day(f, &ids); /* the sweep finds XSW1 (staff) without a check */
    assert_int_equal(absence(f, "XSW1", "illness", "cough", &ab), 0);
    assert_int_equal(summary_build(f->l, f->cfg, D0, 1, NOW, &json), 0);
    keep("summary_staff", json);
    json_t *d = parse(json);
    want_int(d, "expected", 12);
    want_int(d, "groups.students.expected", 10);
    want_int(d, "groups.staff.expected", 2);
    want_int(d, "groups.staff.checks.morning.done", 1);
    want_int(d, "groups.staff.checks.morning.expected", 2);
    want_real(d, "groups.staff.checks.morning.coverage", 0.5);
    want_int(d, "groups.staff.absences.all", 1);
    want_int(d, "groups.staff.absences.illness", 1);
    want_int(d, "groups.students.absences.illness", 4);
    want_int(d, "absences.by_cause.illness", 5);
    want_int(d, "checks.morning.done", 5);
    json_decref(d);
    free(json);
}

/* A day with nothing: zeros, noon null without noon checks, no later alert. */
static void test_summary_empty_day(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    char *json = NULL;
    school_day(f, &ids);
    f->cfg->windows.noon_enabled = false;
    assert_int_equal(summary_build(f->l, f->cfg, DM3, 0, NOW, &json), 0);
    keep("summary_empty", json);
    json_t *d = parse(json);
    want_int(d, "revision", 0);
    want_str(d, "generated_at", NOW_ISO);
    want_int(d, "checks.morning.done", 0);
    want_real(d, "checks.morning.coverage", 0.0);
    assert_true(json_is_null(get(d, "checks.noon")));
    want_int(d, "alerts.opened", 0);
    want_int(d, "alerts.open_count", 0); /* 3班's alert is of a later day */
    assert_int_equal(json_array_size(get(d, "alerts.open")), 0);
    assert_true(json_is_null(get(d, "devices.0.availability")));
    json_decref(d);
    free(json);
}

static void test_summary_same_facts(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    char *a = NULL, *b = NULL, *c = NULL;
    bool same = false;
    school_day(f, &ids);
    assert_int_equal(summary_build(f->l, f->cfg, D0, 1, NOW, &a), 0);
    assert_int_equal(summary_build(f->l, f->cfg, D0, 2, NOW + 60000, &b), 0);
    assert_string_not_equal(a, b);
    assert_int_equal(summary_same_facts(a, b, &same), 0);
    assert_true(same);

    /* One more fact: another absence's cause. */
    struct absence_result ab;
    assert_int_equal(absence(f, "XSLV", "personal", NULL, &ab), 0);
    assert_int_equal(summary_build(f->l, f->cfg, D0, 2, NOW, &c), 0);
    assert_int_equal(summary_same_facts(a, c, &same), 0);
    assert_false(same);
    /* Another lane figure changes the facts too. */
    free(a);
    a = c;
    c = NULL;
    assert_int_equal(ledger_store_figure(f->l, D0, "lane.north-1.availability_permille", 1000),
                     0);
    assert_int_equal(summary_build(f->l, f->cfg, D0, 2, NOW, &c), 0);
    assert_non_null(strstr(c, "\"availability\":1.0"));
    assert_int_equal(summary_same_facts(a, c, &same), 0);
    assert_false(same);
    assert_int_equal(summary_same_facts(a, "{not json", &same), -1);
    assert_int_equal(summary_same_facts("[1]", a, &same), -1);
    free(a);
    free(b);
    free(c);
}

/* Once the day's readings are purged, the figures stored before the purge are used. */
static void test_summary_after_purge(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    char *before = NULL, *after = NULL;
    bool same = false;
    int deleted, days;
    school_day(f, &ids);
    assert_int_equal(summary_build(f->l, f->cfg, D0, 1, NOW, &before), 0);
    assert_int_equal(ledger_purge(f->l, &f->cfg->windows, at(DP1, 10, 0), NULL, &deleted,
                                  &days), 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM readings"), 0);
    assert_int_equal(summary_build(f->l, f->cfg, D0, 1, NOW, &after), 0);
    assert_int_equal(summary_same_facts(before, after, &same), 0);
    assert_true(same);
    free(before);
    free(after);
}

static void test_summary_latest_revision(void **state)
{
    struct fx *f = *state;
    int rev = -1;
    assert_int_equal(summary_latest_revision(f->l, D0, &rev), 0);
    assert_int_equal(rev, 0);
    sql(f, "INSERT INTO summaries (day, revision, generated_ms, body) VALUES "
           "('" D0 "', 1, 0, '{}'), ('" D0 "', 4, 0, '{}'), ('" DP1 "', 9, 0, '{}')");
    assert_int_equal(summary_latest_revision(f->l, D0, &rev), 0);
    assert_int_equal(rev, 4);
}

/* ---- notices ---------------------------------------------------------------------- */

static void test_notice_referral(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    char *json = NULL, id[64];
    school_day(f, &ids);
    assert_int_equal(notice_build_referral(f->l, f->cfg, f->ps, ids.referral, NOW + 1, &json), 0);
    keep("notice_referral", json);
    assert_anonymous("referral notice", json);
    json_t *d = parse(json);
    snprintf(id, sizeof id, "T001/referral/%lld", (long long)ids.referral);
    want_str(d, "schema", "gatescreen.notice/1");
    want_str(d, "type", "referral_opened");
    want_str(d, "notice_id", id);
    want_str(d, "school.code", "T001");
    want_str(d, "generated_at", "2024-03-04T02:00:00.001Z");
    want_str(d, "opened_at", NOW_ISO);
    want_str(d, "day", D0);
    want_str(d, "person.pseudonym", PSEUDO_XSA3);
    want_str(d, "person.class", "1班");
    /* no kind in pseudonym mode: a teacher is one person per class */
    assert_null(json_object_get(get(d, "person"), "kind"));
    assert_int_equal(json_object_size(get(d, "person")), 2);
    want_real(d, "screen_temperature", 37.9);
    want_real(d, "threshold", 37.3);
    want_real(d, "recheck_temperature", 38.0);
    want_str(d, "recheck_instrument", "ear");
    assert_non_null(strstr(json, "\"screen_temperature\":37.9,"));
    json_decref(d);
    free(json);

    /* identify = names: id and name too. */
    f->cfg->upstream.identify_names = true;
    assert_int_equal(notice_build_referral(f->l, f->cfg, f->ps, ids.referral, NOW, &json), 0);
    keep("notice_referral_names", json);
    d = parse(json);
    want_str(d, "person.external_id", "XSA3");
    want_str(d, "person.name", "学生XSA3");
    want_str(d, "person.pseudonym", PSEUDO_XSA3);
    json_decref(d);
    free(json);

    assert_int_equal(notice_build_referral(f->l, f->cfg, f->ps, 9999, NOW, &json), -1);
    assert_null(json);
}

/* A referral whose flag had no person (an unknown card): person null. */
static void test_notice_referral_unknown_person(void **state)
{
    struct fx *f = *state;
    char *json = NULL;
    sql(f, "INSERT INTO flags (id, person_id, opened_ms, day, screen_centi, threshold_centi, "
           "state, recheck_centi, recheck_instrument, recheck_by, recheck_ms) VALUES "
           "(77, NULL, %lld, '" D0 "', 3785, 3730, 'confirmed', 3850, 'oral', 'nurse', %lld)",
        (long long)NOW, (long long)NOW);
    sql(f, "INSERT INTO referrals (id, flag_id, person_id, opened_ms, day) VALUES "
           "(5, 77, NULL, %lld, '" D0 "')", (long long)NOW);
    assert_int_equal(notice_build_referral(f->l, f->cfg, f->ps, 5, NOW, &json), 0);
    keep("notice_referral_unknown", json);
    json_t *d = parse(json);
    want_str(d, "notice_id", "T001/referral/5");
    assert_true(json_is_null(get(d, "person")));
    want_real(d, "screen_temperature", 37.85);
    want_real(d, "recheck_temperature", 38.5);
    assert_non_null(strstr(json, "\"screen_temperature\":37.85"));
    json_decref(d);
    free(json);
}

static void test_notice_alert(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    char *json = NULL, id[64];
    school_day(f, &ids);
    assert_int_equal(notice_build_alert(f->l, f->cfg, f->ps, ids.alert, NOW, &json), 0);
    keep("notice_alert", json);
    assert_anonymous("alert notice", json);
    json_t *d = parse(json);
    snprintf(id, sizeof id, "T001/alert/%lld", (long long)ids.alert);
    want_str(d, "type", "cluster_alert");
    want_str(d, "notice_id", id);
    want_str(d, "class", "3班");
    want_str(d, "rule", "day");
    want_str(d, "day", D0);
    want_str(d, "opened_at", NOW_ISO);
    want_int(d, "case_count", 3);
    assert_int_equal(json_array_size(get(d, "cases")), 3);
    want_str(d, "cases.0.person.pseudonym", PSEUDO_XSC0);
    want_str(d, "cases.0.person.class", "3班");
    want_str(d, "cases.0.case_kind", "illness_absence");
    want_str(d, "cases.0.day", D0);
    json_decref(d);
    free(json);

    f->cfg->upstream.identify_names = true;
    assert_int_equal(notice_build_alert(f->l, f->cfg, f->ps, ids.alert, NOW, &json), 0);
    keep("notice_alert_names", json);
    d = parse(json);
    for (int i = 0; i < 3; i++) {
        char path[32], who[8], name[16];
        snprintf(who, sizeof who, "XSC%d", i);
        snprintf(name, sizeof name, "学生XSC%d", i);
        snprintf(path, sizeof path, "cases.%d.person.external_id", i);
        want_str(d, path, who);
        snprintf(path, sizeof path, "cases.%d.person.name", i);
        want_str(d, path, name);
    }
    json_decref(d);
    free(json);
    assert_int_equal(notice_build_alert(f->l, f->cfg, f->ps, 9999, NOW, &json), -1);
}

/* Without a key a pseudonym-mode notice cannot be built; with names it can. */
static void test_notice_without_key(void **state)
{
    struct fx *f = *state;
    struct day_ids ids;
    char *json = NULL;
    school_day(f, &ids);
    assert_int_equal(notice_build_referral(f->l, f->cfg, NULL, ids.referral, NOW, &json), -1);
    assert_null(json);
    f->cfg->upstream.identify_names = true;
    assert_int_equal(notice_build_alert(f->l, f->cfg, NULL, ids.alert, NOW, &json), 0);
    assert_null(strstr(json, "pseudonym"));
    assert_non_null(strstr(json, "\"external_id\":\"XSC1\""));
    free(json);
}

static void test_pretty(void **state)
{
    (void)state;
    char *out = NULL;
    assert_int_equal(summary_pretty("{\"b\":0.571,\"a\":{\"gate\":\"东门\"}}", &out), 0);
    assert_string_equal(out, "{\n  \"a\": {\n    \"gate\": \"东门\"\n  },\n  \"b\": 0.571\n}");
    free(out);
    assert_int_equal(summary_pretty("{oops", &out), -1);
    assert_null(out);
}

int main(void)
{
    log_init("test_summary", LOG_LVL_ERR, LOG_OUT_PLAIN);
    if (zone_set("Asia/Shanghai") < 0)
        return 1;
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_pseudonym_vectors),
        T(test_pseudonym_key_errors),
        T(test_summary_figures),
        T(test_summary_staff_apart),
        T(test_summary_empty_day),
        T(test_summary_same_facts),
        T(test_summary_after_purge),
        T(test_summary_latest_revision),
        T(test_notice_referral),
        T(test_notice_referral_unknown_person),
        T(test_notice_alert),
        T(test_notice_without_key),
        T(test_pretty),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
