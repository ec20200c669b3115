/* Editing one section of a configuration's text (config/config_edit.c): keys
 * replaced in place, missing keys added inside the section, a missing section
 * added at the end, every other byte kept (comments, other sections, CRLF, a last
 * line without its line end, a byte order mark), what cannot be written refused;
 * and the result read back by the real parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_edit.h"
#include "config_load.h"

static const struct config_setting SET[] = {
    {"url", "https://bureau.example.cn/v1"},
    {"ca_file", "/etc/gatescreen/bureau-ca.pem"},
    {"token_file", "/etc/gatescreen/token"},
};

static char errs[1024];

/* The edited text; NULL (and errs) when refused. */
static char *edit(const char *text, const struct config_setting *set, int n)
{
    FILE *e = fmemopen(errs, sizeof errs, "w");
    char *out = NULL;
    size_t len = 0;
    errs[0] = '\0';
    int rc = config_edit_section("g.conf", text, strlen(text), "upstream", set, n, &out, &len,
                                 e);
    fclose(e);
    if (rc == 0) {
        assert_non_null(out);
        assert_int_equal(len, strlen(out));
    } else {
        assert_null(out);
    }
    return out;
}

static void test_replaced_in_place(void **state)
{
    (void)state;
    char *out = edit("# top\n[school]\ncode = X\n\n[upstream]\n# the bureau\n"
                     "url = https://old.example/\n  ca_file: /old/ca.pem ; inline\n"
                     "token_file = /old/token\nday_end = 18:00\n\n# web next\n[web]\n"
                     "enabled = no\n", SET, 3);
    assert_string_equal(out, "# top\n[school]\ncode = X\n\n[upstream]\n# the bureau\n"
                             "url = https://bureau.example.cn/v1\n"
                             "ca_file = /etc/gatescreen/bureau-ca.pem\n"
                             "token_file = /etc/gatescreen/token\nday_end = 18:00\n\n"
                             "# web next\n[web]\nenabled = no\n");
    free(out);
}

/* Missing keys go after the section's last key, before the comments of the next. */
static void test_added_inside(void **state)
{
    (void)state;
    char *out = edit("[upstream]\nurl = https://old.example/\n# url = commented out\n"
                     "identify = names\n\n# the nurse page\n[web]\nenabled = no\n", SET, 3);
    assert_string_equal(out, "[upstream]\nurl = https://bureau.example.cn/v1\n"
                             "# url = commented out\nidentify = names\n"
                             "ca_file = /etc/gatescreen/bureau-ca.pem\n"
                             "token_file = /etc/gatescreen/token\n\n# the nurse page\n[web]\n"
                             "enabled = no\n");
    free(out);
    out = edit("[ upstream ]  # spaces\n[web]\n", SET, 1);
    assert_string_equal(out, "[ upstream ]  # spaces\nurl = https://bureau.example.cn/v1\n"
                             "[web]\n");
    free(out);
}

static void test_section_added(void **state)
{
    (void)state;
    char *out = edit("[school]\ncode = X\n", SET, 2);
    assert_string_equal(out, "[school]\ncode = X\n\n[upstream]\n"
                             "url = https://bureau.example.cn/v1\n"
                             "ca_file = /etc/gatescreen/bureau-ca.pem\n");
    free(out);
    out = edit("[school]\ncode = X", SET, 1); /* no line end at the end */
    assert_string_equal(out, "[school]\ncode = X\n\n[upstream]\n"
                             "url = https://bureau.example.cn/v1\n");
    free(out);
    out = edit("", SET, 1);
    assert_string_equal(out, "[upstream]\nurl = https://bureau.example.cn/v1\n");
    free(out);
    /* [upstreams] or [bus upstream] is not [upstream]. */
    out = edit("[bus upstream]\nurl = x\n", SET, 1);
    assert_string_equal(out, "[bus upstream]\nurl = x\n\n[upstream]\n"
                             "url = https://bureau.example.cn/v1\n");
    free(out);
}

static void test_line_ends_kept(void **state)
{
    (void)state;
    char *out = edit("\xEF\xBB\xBF[upstream]\r\nurl = old\r\nday_end = 18:00", SET, 2);
    assert_string_equal(out, "\xEF\xBB\xBF[upstream]\r\nurl = https://bureau.example.cn/v1\r\n"
                             "day_end = 18:00\nca_file = /etc/gatescreen/bureau-ca.pem\n");
    free(out);
    out = edit("[upstream]\r\nurl = old\r\n", SET, 2);
    assert_string_equal(out, "[upstream]\r\nurl = https://bureau.example.cn/v1\r\n"
                             "ca_file = /etc/gatescreen/bureau-ca.pem\r\n");
    free(out);
}

static void test_refused(void **state)
{
    (void)state;
    assert_null(edit("[upstream]\nurl = a\n[web]\n[upstream]\n", SET, 1));
    assert_string_equal(errs, "g.conf:4: [upstream] again (first on line 1)\n");
    assert_null(edit("[upstream]\nurl = a\n\nurl = b\n", SET, 1));
    assert_string_equal(errs, "g.conf:4: [upstream] url again (first on line 2)\n");
    static const struct config_setting bad[] = {
        {"url", "https://x/\n[web]"}, {"ca_file", " /x"}, {"token_file", "/a ;b"}};
    assert_null(edit("", bad, 3));
    assert_non_null(strstr(errs, "g.conf: url = https://x/\n[web] cannot be written in the "
                                  "file: it holds a line end"));
    assert_non_null(strstr(errs, "ca_file =  /x cannot be written in the file: it starts or "
                                  "ends with a blank"));
    assert_non_null(strstr(errs, "\" ;\" would start a comment"));
}

static void test_key_line(void **state)
{
    (void)state;
    static const char text[] = "[school]\ncode = X\n[upstream]\n# code = no\ncode: y\n";
    assert_int_equal(config_key_line(text, strlen(text), "school", "code"), 2);
    assert_int_equal(config_key_line(text, strlen(text), "upstream", "code"), 5);
    assert_int_equal(config_key_line(text, strlen(text), "web", "code"), 0);
    assert_int_equal(config_key_line(text, strlen(text), "school", "name"), 0);
}

/* The real parser reads back what was set, and everything else as before. */
static void test_parser_agrees(void **state)
{
    (void)state;
    static const char base[] =
        "# A school\n[school]\ncode = X001\nname = 测试学校\n\n[ledger]\ndatabase = l.db\n\n"
        "[windows]\nmorning = 07:00-08:00\n\n[upstream]\n; old bureau\n"
        "url = https://old.example/v1\nca_file = old-ca.pem\nsecret_file = p.key\n"
        "identify = names\n\n[bus sim]\ntcp = 127.0.0.1:1502\n\n[lane a]\ngate = 东门\n"
        "indicator = console\n\n[device d]\nbus = sim\nunit = 1\nlane = a\n";
    char *out = edit(base, SET, 3);
    FILE *e = fmemopen(errs, sizeof errs, "w");
    struct config *a = config_parse("a", base, strlen(base), "/etc/gatescreen", e);
    struct config *b = config_parse("b", out, strlen(out), "/etc/gatescreen", e);
    fclose(e);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(b->upstream.url, "https://bureau.example.cn/v1");
    assert_string_equal(b->upstream.ca_file, "/etc/gatescreen/bureau-ca.pem");
    assert_string_equal(b->upstream.token_file, "/etc/gatescreen/token");
    assert_string_equal(b->upstream.secret_file, "/etc/gatescreen/p.key");
    assert_true(b->upstream.identify_names);
    assert_memory_equal(&a->school, &b->school, sizeof a->school);
    assert_memory_equal(&a->windows, &b->windows, sizeof a->windows);
    assert_int_equal(a->nlanes, b->nlanes);
    config_free(a);
    config_free(b);
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replaced_in_place),
        cmocka_unit_test(test_added_inside),
        cmocka_unit_test(test_section_added),
        cmocka_unit_test(test_line_ends_kept),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_key_line),
        cmocka_unit_test(test_parser_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
