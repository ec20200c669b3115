/* The roll-ups' and the pull API's parts without a database (issue 15): the CSV
 * writer's formula guard (core/csv_out.c), the parameters the API and the CLI
 * share (bureau/common/rollup.c, notice_list.c), a row as JSON and as CSV, the
 * [pull] section of the configuration and the token check (pull_auth.c). The
 * figures against a real database are integration.test_bureau_rollup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bconfig.h"
#include "csv_out.h"
#include "notice_list.h"
#include "pull_auth.h"
#include "rollup.h"

/* noinline: inlined, GCC 12's -Wdangling-pointer takes open_memstream's buffer for
 * this frame's local (a false positive at -O2). */
__attribute__((noinline)) static char *written(void (*fn)(FILE *f, const void *arg),
                                               const void *arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    fn(f, arg);
    fclose(f);
    return buf;
}

static void one_record(FILE *f, const void *arg)
{
    const char *const *cells = arg;
    int n = 0;
    while (cells[n])
        n++;
    csv_out_record(f, cells, n);
}

static void test_csv_out(void **state)
{
    (void)state;
    const char *cells[] = {"=1+1", "+86 138", "-3", "@SUM(A1)", "\tx", "\xef\xbc\x9d" "1",
                           "plain", "a,b", "say \"hi\"", "", "1-2", NULL};
    char *out = written(one_record, cells);
    assert_string_equal(out, "'=1+1,'+86 138,'-3,'@SUM(A1),'\tx,'\xef\xbc\x9d" "1,plain,"
                             "\"a,b\",\"say \"\"hi\"\"\",,1-2\r\n");
    free(out);
    assert_true(csv_out_formula("\r1"));
    assert_false(csv_out_formula("1=1"));
    assert_false(csv_out_formula(""));
}

/* ---- parameters ---------------------------------------------------------------------- */

static void rollup_bad(const char *from, const char *to, const char *level, const char *county,
                       const char *param, const char *words)
{
    struct rollup_query q;
    const char *p = NULL;
    char why[256];
    if (rollup_query_set(&q, from, to, level, county, &p, why, sizeof why) != -1)
        fail_msg("%s..%s level %s county %s was taken", from ? from : "-", to ? to : "-",
                 level ? level : "-", county ? county : "-");
    assert_non_null(p);
    assert_string_equal(p, param);
    if (!strstr(why, words))
        fail_msg("expected \"%s\" in \"%s\"", words, why);
}

static void test_rollup_query(void **state)
{
    (void)state;
    struct rollup_query q;
    const char *p;
    char why[256];
    assert_int_equal(rollup_query_set(&q, "2026-12-01", "2026-12-31", NULL, NULL, &p, why,
                                      sizeof why), 0);
    assert_int_equal(q.level, ROLLUP_CITY);
    assert_string_equal(q.county, "");
    assert_int_equal(rollup_query_set(&q, "2024-01-01", "2024-12-31", "school", "魏都区", &p,
                                      why, sizeof why), 0); /* 366 days: a leap year */
    assert_int_equal(q.level, ROLLUP_SCHOOL);
    assert_string_equal(q.county, "魏都区");
    rollup_bad(NULL, "2026-12-01", NULL, NULL, "from", "from is required");
    rollup_bad("2026-12-01", "", NULL, NULL, "to", "to is required");
    rollup_bad("2026-02-29", "2026-03-01", NULL, NULL, "from", "not a day");
    rollup_bad("2026-12-01 ", "2026-12-01", NULL, NULL, "from", "not a day");
    rollup_bad("2026-12-02", "2026-12-01", NULL, NULL, "to", "before from");
    rollup_bad("2025-01-01", "2026-01-02", NULL, NULL, "to", "more than 366 days");
    rollup_bad("2026-12-01", "2026-12-01", "County", NULL, "level", "not one of");
    rollup_bad("2026-12-01", "2026-12-01", NULL, "魏都区", "county", "not the city");
    rollup_bad("2026-12-01", "2026-12-01", "county", "", "county", "county");
    rollup_bad("2026-12-01", "2026-12-01", "county", "a\x01", "county", "control");
}

static void test_notice_query(void **state)
{
    (void)state;
    struct notice_query q;
    const char *p;
    char why[256];
    assert_int_equal(notice_query_set(&q, NULL, NULL, NULL, NULL, NULL, &p, why, sizeof why), 0);
    assert_false(q.unacknowledged);
    assert_int_equal(notice_query_set(&q, "2026-12-01", NULL, "yes", "建安区", "B001", &p, why,
                                      sizeof why), 0);
    assert_true(q.unacknowledged);
    assert_string_equal(q.school, "B001");
    assert_int_equal(notice_query_set(&q, NULL, NULL, "2", NULL, NULL, &p, why, sizeof why), -1);
    assert_string_equal(p, "unacknowledged");
    assert_int_equal(notice_query_set(&q, NULL, NULL, NULL, NULL, "a/b", &p, why, sizeof why),
                     -1);
    assert_string_equal(p, "school"); /* the API's parameter, not the list's column */
    assert_int_equal(notice_query_set(&q, "2026-12-02", "2026-12-01", NULL, NULL, NULL, &p, why,
                                      sizeof why), -1);
    assert_string_equal(p, "to");
    assert_null(notice_note_problem("rang the parents\nback tomorrow"));
    assert_non_null(notice_note_problem(""));
    assert_non_null(notice_note_problem("a\x1b[31m"));
    assert_non_null(notice_note_problem("\xff"));
}

/* ---- a row written ----------------------------------------------------------------------- */

struct write_case {
    enum rollup_format format;
    enum rollup_level level;
    const struct rollup_row *rows;
    int n;
};

static void write_rows(FILE *f, const void *arg)
{
    const struct write_case *c = arg;
    struct rollup_query q;
    const char *p;
    char why[100];
    assert_int_equal(rollup_query_set(&q, "2026-12-07", "2026-12-07",
                                      rollup_level_name(c->level), NULL, &p, why, sizeof why), 0);
    struct rollup_writer *w = rollup_writer_new(f, c->format, &q);
    assert_non_null(w);
    for (int i = 0; i < c->n; i++)
        rollup_writer_row(&c->rows[i], w);
    assert_int_equal(rollup_writer_end(w), 0);
}

static struct rollup_row sample_row(void)
{
    struct rollup_row r = {.day = "2026-12-07", .county = "魏都区", .school_code = "A001",
                           .school_name = "=x", .revision = 3, .schools_expected = 1,
                           .schools_reported = 1, .noon_schools = 0, .availability_sum = 1.9};
    r.fig[RF_POPULATION_TOTAL] = 900;
    r.fig[RF_MORNING_DONE] = 5;
    r.fig[RF_MORNING_EXPECTED] = 6;
    r.fig[RF_LANES] = 3;
    r.fig[RF_LANES_KNOWN] = 2;
    return r;
}

static void test_row_json(void **state)
{
    (void)state;
    struct rollup_row rows[2] = {sample_row(), sample_row()};
    rows[1].school_code = "A002";
    rows[1].schools_reported = 0;
    rows[1].revision = 0;
    struct write_case c = {ROLLUP_JSON, ROLLUP_SCHOOL, rows, 2};
    char *out = written(write_rows, &c);
    json_error_t e;
    json_t *j = json_loads(out, 0, &e);
    if (!j)
        fail_msg("not JSON (%s): %s", e.text, out);
    json_t *r0 = json_array_get(json_object_get(j, "rows"), 0);
    json_t *r1 = json_array_get(json_object_get(j, "rows"), 1);
    assert_string_equal(json_string_value(json_object_get(j, "level")), "school");
    assert_true(json_is_null(json_object_get(j, "county")));
    assert_int_equal(json_integer_value(json_object_get(r0, "revision")), 3);
    assert_float_equal(json_real_value(json_object_get(
                           json_object_get(json_object_get(r0, "checks"), "morning"), "rate")),
                       0.833, 1e-9);
    assert_true(json_is_null(json_object_get(json_object_get(r0, "checks"), "noon")));
    assert_float_equal(json_real_value(json_object_get(json_object_get(r0, "devices"),
                                                       "availability")), 0.95, 1e-9);
    assert_true(json_is_null(json_object_get(r1, "population")));
    assert_true(json_is_null(json_object_get(r1, "revision")));
    assert_non_null(strstr(out, "\"rate\":0.833,")); /* 3 decimals, not 0.83299999 */
    json_decref(j);
    free(out);
}

static int count_char(const char *s, const char *end, char ch)
{
    int n = 0;
    for (; s < end; s++)
        n += *s == ch;
    return n;
}

static void test_row_csv(void **state)
{
    (void)state;
    struct rollup_row r = sample_row();
    struct write_case c = {ROLLUP_CSV, ROLLUP_SCHOOL, &r, 1};
    char *out = written(write_rows, &c);
    assert_memory_equal(out, CSV_OUT_BOM, 3);
    const char *row = strstr(out, "\r\n") + 2;
    assert_int_equal(count_char(out, row, ','), count_char(row, row + strlen(row), ','));
    assert_non_null(strstr(out, "morning_done,morning_expected,morning_rate,morning_all,"
                                "noon_schools,noon_done"));
    assert_non_null(strstr(row, "2026-12-07,魏都区,A001,'=x,3,1,1,1.000,"));
    assert_non_null(strstr(row, ",5,6,0.833,0,0,,,,")); /* no noon: empty cells */
    /* then version 2's columns (issue 19): closed, grouped, the groups' figures */
    assert_non_null(strstr(row, ",3,2,0.950,0,0,0,0,0,0,0,0,0,0,0,0\r\n"));
    assert_non_null(strstr(out, ",availability,schools_closed,schools_grouped,"
                                "students_expected,"));
    free(out);
}

/* ---- [pull] ------------------------------------------------------------------------------- */

#define BASE                                                                          \
    "[collector]\nlisten = 0.0.0.0:8443\ntls_cert = c.pem\ntls_key = c.key\n"        \
    "client_ca = ca.pem\n[database]\ndsn = dbname=bureau\n"
#define DIGEST "5E884898DA28047151D0E56F8DC6292773603D0D6AABBDD62A11EF721D1542D8"

static struct bconfig *parse(const char *text, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    struct bconfig *c = bconfig_parse("b.conf", text, strlen(text), "/etc/b", f);
    fclose(f);
    return c;
}

static void test_pull_config(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse(BASE, &errs);
    assert_non_null(c);
    assert_int_equal(c->pull.n_token_files + c->pull.n_token_sha256, 0);
    bconfig_free(c);
    free(errs);
    c = parse(BASE "[pull]\ntoken_files = a.token, /srv/b.token\ntoken_sha256 = " DIGEST "\n",
              &errs);
    assert_non_null(c);
    assert_int_equal(c->pull.n_token_files, 2);
    assert_string_equal(c->pull.token_files[0], "/etc/b/a.token");
    assert_string_equal(c->pull.token_files[1], "/srv/b.token");
    assert_int_equal(c->pull.n_token_sha256, 1);
    assert_string_equal(c->pull.token_sha256[0],
                        "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8");
    bconfig_free(c);
    free(errs);
    c = parse(BASE "[pull]\n", &errs);
    assert_null(c);
    assert_non_null(strstr(errs, "b.conf:8: [pull]: give token_files or token_sha256"));
    free(errs);
    c = parse(BASE "[pull]\ntoken_sha256 = abc\n", &errs);
    assert_null(c);
    assert_non_null(strstr(errs, "b.conf:9: [pull] token_sha256: \"abc\" is not a SHA-256"));
    free(errs);
}

static void test_pull_auth(void **state)
{
    (void)state;
    char label[PULL_LABEL_LEN], why[200], path[] = "/tmp/gs-pull-XXXXXX";
    struct bcfg_pull cfg = {.n_token_sha256 = 1};
    snprintf(cfg.token_sha256[0], 65, "%s",
             "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"); /* "password" */
    struct pull_auth *a = pull_auth_new(&cfg, stderr);
    assert_non_null(a);
    assert_int_equal(pull_auth_check(a, "Bearer password", label, why, sizeof why), 401);
    assert_non_null(strstr(why, "not one of")); /* a real digest, but too short a token */
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "pull-token-0123456789\n", 22), 22);
    close(fd);
    cfg.n_token_files = 1;
    snprintf(cfg.token_files[0], sizeof cfg.token_files[0], "%s", path);
    assert_int_equal(pull_auth_reload(a, &cfg, stderr), 0);
    assert_int_equal(pull_auth_check(a, "Bearer pull-token-0123456789", label, why, sizeof why),
                     0);
    assert_int_equal(strlen(label), 12);
    assert_int_equal(pull_auth_check(a, "Bearer pull-token-0123456788", label, why, sizeof why),
                     401);
    assert_int_equal(pull_auth_check(a, NULL, label, why, sizeof why), 401);
    assert_int_equal(pull_auth_check(a, "bearer pull-token-0123456789", label, why, sizeof why),
                     401);
    chmod(path, 0644); /* readable by others: refused, the old tokens stay */
    assert_int_equal(pull_auth_reload(a, &cfg, stderr), -1);
    assert_int_equal(pull_auth_check(a, "Bearer pull-token-0123456789", label, why, sizeof why),
                     0);
    struct bcfg_pull none = {0};
    assert_int_equal(pull_auth_reload(a, &none, stderr), 0);
    assert_int_equal(pull_auth_check(a, "Bearer pull-token-0123456789", label, why, sizeof why),
                     403);
    pull_auth_free(a);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_csv_out),      cmocka_unit_test(test_rollup_query),
        cmocka_unit_test(test_notice_query), cmocka_unit_test(test_row_json),
        cmocka_unit_test(test_row_csv),      cmocka_unit_test(test_pull_config),
        cmocka_unit_test(test_pull_auth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
