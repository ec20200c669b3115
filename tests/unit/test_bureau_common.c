/* The bureau's shared parts (bureau/common/): the configuration file (defaults, every
 * kind of mistake with its FILE:LINE, all in one run), the school code a client
 * certificate carries (certid_pick_code), and the list of schools as CSV. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bconfig.h"
#include "certid.h"
#include "log.h"
#include "school_list.h"

#define GOOD                                                                          \
    "[collector]\nlisten = 0.0.0.0:8443\ntls_cert = collector.pem\n"                 \
    "tls_key = /etc/b/collector.key\nclient_ca = schools-ca.pem\n"                   \
    "[database]\ndsn = host=/run/postgresql dbname=bureau\n"

static struct bconfig *parse(const char *text, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    assert_non_null(f);
    struct bconfig *c = bconfig_parse("b.conf", text, strlen(text), "/etc/b", f);
    fclose(f);
    return c;
}

static void expect(const char *errs, const char *needle)
{
    if (!strstr(errs, needle))
        fail_msg("expected \"%s\" among:\n%s", needle, errs);
}

static void test_config_good(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse(GOOD "[collector]\n", &errs); /* a duplicate section */
    assert_null(c);
    expect(errs, "b.conf:8: duplicate section [collector] (first on line 1)");
    free(errs);
    c = parse(GOOD, &errs);
    assert_non_null(c);
    assert_string_equal(errs, "");
    assert_string_equal(c->collector.address, "0.0.0.0");
    assert_int_equal(c->collector.port, 8443);
    assert_string_equal(c->collector.tls_cert, "/etc/b/collector.pem");
    assert_string_equal(c->collector.tls_key, "/etc/b/collector.key");
    assert_int_equal(c->collector.threads, 4);
    assert_int_equal(c->collector.max_body, 256 * 1024);
    assert_int_equal(c->collector.rate_per_minute, 120);
    assert_int_equal(c->collector.rate_burst, 60);
    assert_int_equal(c->collector.log_level, LOG_LVL_INFO);
    assert_int_equal(c->database.connect_timeout_ms, 5000);
    assert_string_equal(c->database.dsn, "host=/run/postgresql dbname=bureau");
    assert_true(c->collector.instance[0] != '\0');
    bconfig_free(c);
    free(errs);
}

/* The example every key is documented in loads as it is shipped. */
static void test_config_example(void **state)
{
    (void)state;
    size_t n;
    char *errs = NULL;
    FILE *f = open_memstream(&errs, &n);
    struct bconfig *c = bconfig_load(GS_SOURCE_DIR "/config/bureau.conf", f);
    fclose(f);
    if (!c)
        fail_msg("config/bureau.conf: %s", errs);
    assert_int_equal(c->collector.port, 8443);
    assert_int_equal(c->collector.max_body, 256 * 1024);
    assert_non_null(strstr(c->collector.tls_cert, "/config/collector.pem"));
    bconfig_free(c);
    free(errs);
}

static void test_config_values(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse("[collector]\nlisten = [::1]:9443\ntls_cert = a\ntls_key = b\n"
                              "client_ca = c\ninstance = bureau-a.1\nthreads = 16\n"
                              "max_body = 1M\nlog_level = debug\nconnection_timeout = 2min\n"
                              "rate_per_minute = 0\nrate_burst = 1\n[database]\ndsn_file = dsn\nstatement_timeout = 500ms\n",
                              &errs);
    assert_non_null(c);
    assert_string_equal(c->collector.address, "::1");
    assert_int_equal(c->collector.port, 9443);
    assert_string_equal(c->collector.instance, "bureau-a.1");
    assert_int_equal(c->collector.threads, 16);
    assert_int_equal(c->collector.max_body, 1 << 20);
    assert_int_equal(c->collector.log_level, LOG_LVL_DEBUG);
    assert_int_equal(c->collector.connection_timeout_ms, 120000);
    assert_int_equal(c->collector.rate_per_minute, 0);
    assert_int_equal(c->collector.rate_burst, 1);
    assert_string_equal(c->database.dsn_file, "/etc/b/dsn");
    assert_int_equal(c->database.statement_timeout_ms, 500);
    bconfig_free(c);
    free(errs);
}

static void test_config_errors(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse("stray = 1\n"                      /* 1 */
                              "[collector]\n"                    /* 2 */
                              "listen = 8443\n"                  /* 3 */
                              "threads = 0\n"                    /* 4 */
                              "max_body = 12x\n"                 /* 5 */
                              "max_body = 1k\n"                  /* 6 */
                              "log_level = loud\n"               /* 7 */
                              "instance = a b\n"                 /* 8 */
                              "colour = blue\n"                  /* 9 */
                              "just words\n"                     /* 10 */
                              "[tables]\n"                       /* 11 */
                              "[database]\n"                     /* 12 */
                              "dsn = x\n"                        /* 13 */
                              "dsn_file = y\n"                   /* 14 */
                              "connect_timeout = 1ms\n",         /* 15 */
                              &errs);
    assert_null(c);
    expect(errs, "b.conf:1: key \"stray\" before any [section]");
    expect(errs, "b.conf:3: [collector] listen: \"8443\" is not ADDRESS:PORT");
    expect(errs, "b.conf:4: [collector] threads: \"0\" is not a whole number from 1 to 256");
    expect(errs, "b.conf:5: [collector] max_body: \"12x\" is not a size");
    expect(errs, "b.conf:6: [collector] max_body: duplicate key (first on line 5)");
    expect(errs, "b.conf:7: [collector] log_level: \"loud\" is not one of");
    expect(errs, "b.conf:8: [collector] instance: \"a b\" is not a name");
    expect(errs, "b.conf:9: [collector]: unknown key \"colour\"");
    expect(errs, "b.conf:10: syntax error (expected [section] or key = value)");
    expect(errs, "b.conf:11: unknown section [tables]");
    expect(errs, "b.conf:2: [collector]: missing required key \"tls_cert\"");
    expect(errs, "b.conf:2: [collector]: missing required key \"client_ca\"");
    expect(errs, "b.conf:13: [database]: give exactly one of dsn");
    expect(errs, "b.conf:15: [database] connect_timeout: \"1ms\" is not a duration from 1s");
    free(errs);
    c = parse("[collector]\nlisten = 1.2.3.4:1\ntls_cert = a\ntls_key = b\nclient_ca = c\n",
              &errs);
    assert_null(c);
    expect(errs, "b.conf:1: missing section [database]");
    free(errs);
    c = parse("[collector]\nlisten = 1.2.3.4:1\ntls_cert = a\ntls_key = b\nclient_ca = c\n"
              "rate_per_minute = -1\nrate_burst = 0\n[database]\ndsn = x\n", &errs);
    assert_null(c);
    expect(errs, "b.conf:6: [collector] rate_per_minute: \"-1\" is not a whole number from 0 "
                 "to 1000000");
    expect(errs, "b.conf:7: [collector] rate_burst: \"0\" is not a whole number from 1 to "
                 "1000000");
    free(errs);
}

/* [page] (the bureau's page): optional; when there, listen and the TLS files. */
static void test_config_page(void **state)
{
    (void)state;
    char *errs = NULL;
    struct bconfig *c = parse(GOOD, &errs);
    assert_non_null(c);
    assert_false(c->page.enabled);
    bconfig_free(c);
    free(errs);
    c = parse(GOOD "[page]\nlisten = [::]:9443\ntls_cert = page.pem\ntls_key = page.key\n"
                   "threads = 2\nsession_idle = 10min\n", &errs);
    assert_non_null(c);
    assert_true(c->page.enabled);
    assert_string_equal(c->page.address, "::");
    assert_int_equal(c->page.port, 9443);
    assert_string_equal(c->page.tls_cert, "/etc/b/page.pem");
    assert_int_equal(c->page.threads, 2);
    assert_int_equal(c->page.session_idle_ms, 600000);
    assert_int_equal(c->page.session_max_ms, 12 * 3600 * 1000);
    assert_string_equal(c->collector.address, "0.0.0.0"); /* its own listen, untouched */
    bconfig_free(c);
    free(errs);
    c = parse(GOOD "[page]\n"                /* 8 */
                   "listen = 9443\n"         /* 9 */
                   "threads = 0\n"           /* 10 */
                   "session_idle = 1s\n",    /* 11 */
              &errs);
    assert_null(c);
    expect(errs, "b.conf:9: [page] listen: \"9443\" is not ADDRESS:PORT");
    expect(errs, "b.conf:10: [page] threads: \"0\" is not a whole number from 1 to 64");
    expect(errs, "b.conf:11: [page] session_idle: \"1s\" is not a duration from 1min");
    expect(errs, "b.conf:8: [page]: missing required key \"tls_cert\"");
    expect(errs, "b.conf:8: [page]: missing required key \"tls_key\"");
    free(errs);
}

static void test_pick_code(void **state)
{
    (void)state;
    char code[CERTID_CODE_MAX], why[300];
    const char *one[] = {"https://example.org/", "urn:gatescreen:school:XC0412"};
    const char *two[] = {"urn:gatescreen:school:A1", "urn:gatescreen:school:B2"};
    const char *same[] = {"urn:gatescreen:school:A1", "urn:gatescreen:school:A1"};
    const char *bad[] = {"urn:gatescreen:school:no spaces"};
    assert_int_equal(certid_pick_code("gatescreen school XC0412", one, 2, code, why, sizeof why),
                     0);
    assert_string_equal(code, "XC0412"); /* the URI wins over a CN that is no code */
    assert_int_equal(certid_pick_code("T001", NULL, 0, code, why, sizeof why), 0);
    assert_string_equal(code, "T001");
    assert_int_equal(certid_pick_code("OTHER", same, 2, code, why, sizeof why), 0);
    assert_string_equal(code, "A1");
    assert_int_equal(certid_pick_code(NULL, two, 2, code, why, sizeof why), -1);
    expect(why, "names two schools (A1 and B2)");
    assert_int_equal(certid_pick_code("T001", bad, 1, code, why, sizeof why), -1);
    expect(why, "does not end in a school code");
    assert_int_equal(certid_pick_code("gatescreen T school", NULL, 0, code, why, sizeof why), -1);
    expect(why, "names no school");
    assert_int_equal(certid_pick_code(NULL, NULL, 0, code, why, sizeof why), -1);
    assert_false(school_code_ok(""));
    assert_false(school_code_ok("0123456789012345678901234567890123"));
    assert_true(school_code_ok("0123456789012345678901234567890"));
}

static int parse_list(const char *text, struct school_list **l, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    assert_non_null(f);
    int rc = school_list_parse("s.csv", text, strlen(text), l, f);
    fclose(f);
    return rc;
}

static void test_school_list(void **state)
{
    (void)state;
    struct school_list *l = NULL;
    char *errs = NULL;
    assert_int_equal(parse_list("\xEF\xBB\xBF学校代码,学校名称,区县,类型,在校人数,联系人\r\n"
                                "XC0001,许昌市第一小学,魏都区,小学,1200,王老师\r\n"
                                "\r\n"
                                "XC0002,\"许昌市实验幼儿园, 东院\",建安区,kindergarten,,\r\n",
                                &l, &errs), 0);
    assert_int_equal(l->n, 2);
    assert_string_equal(l->rows[0].code, "XC0001");
    assert_int_equal(l->rows[0].enrolment, 1200);
    assert_string_equal(l->rows[0].contact_name, "王老师");
    assert_int_equal(l->rows[1].line, 4);
    assert_string_equal(l->rows[1].name, "许昌市实验幼儿园, 东院");
    assert_string_equal(l->rows[1].kind, "幼儿园");
    assert_int_equal(l->rows[1].enrolment, 0);
    school_list_free(l);
    free(errs);
}

static void test_school_list_errors(void **state)
{
    (void)state;
    struct school_list *l = (void *)1;
    char *errs = NULL;
    int n = parse_list("code,name,county,kind,enrolment\n"
                       "A1,一小,魏都区,小学,10\n"
                       "A 2,二小,魏都区,小学,10\n"
                       "A3,,魏都区,大学,-1\n"
                       "A1,四小,魏都区,初中,1\n"
                       "A5,五小,魏都区\n"
                       "A6,\"六小\"x,魏都区,小学,1\n",
                       &l, &errs);
    assert_null(l);
    assert_int_equal(n, 7);
    expect(errs, "s.csv:3: code \"A 2\" is not 1 to 31 of");
    expect(errs, "s.csv:4: name is empty");
    expect(errs, "s.csv:4: kind \"大学\" is not one of");
    expect(errs, "s.csv:4: enrolment \"-1\" is not a whole number");
    expect(errs, "s.csv:5: code A1 is also on line 2");
    expect(errs, "s.csv:6: expected 5 fields, found 3");
    expect(errs, "s.csv:7: field 2: text after the closing quote");
    free(errs);
    assert_int_equal(parse_list("code,name,colour\n", &l, &errs), 3);
    expect(errs, "s.csv:1: unknown column \"colour\"");
    expect(errs, "s.csv:1: missing required column \"county\"");
    free(errs);
    assert_int_equal(parse_list("", &l, &errs), 1);
    expect(errs, "s.csv:1: no header");
    free(errs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_good),   cmocka_unit_test(test_config_example),
        cmocka_unit_test(test_config_values),
        cmocka_unit_test(test_config_errors), cmocka_unit_test(test_config_page),
        cmocka_unit_test(test_pick_code),
        cmocka_unit_test(test_school_list),   cmocka_unit_test(test_school_list_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
