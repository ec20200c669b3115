/* The collector's checks of an upload (bureau/collector/intake.c): every header
 * refusal with its status, the document against its schema (the pointer of the first
 * problem), against the sending school (the key's prefix, school.code), its own key,
 * the dates the patterns let through, and the refusal's JSON. The documents are
 * tests/data/bureau/{summary,notice}.json, valid as they are. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"

static char *read_data(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/bureau/%s", GS_TEST_DATA, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = calloc(1, 1 << 16);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    return buf;
}

/* The text with the first `from` replaced by `to`. */
static char *edit(const char *text, const char *from, const char *to)
{
    const char *at = strstr(text, from);
    assert_non_null(at);
    size_t n = strlen(text) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    assert_non_null(out);
    snprintf(out, n, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
    return out;
}

static const struct intake_headers GOOD_HEADERS = {
    .content_type = "application/json; charset=utf-8",
    .authorization = "Bearer tok-0123456789abcdef",
    .idem_key = "T001/2026-12-06/3",
    .kind = "summary"};

static void test_headers(void **state)
{
    (void)state;
    struct intake_verdict v = {0};
    enum doc_kind kind;
    const char *token;
    size_t len;
    struct intake_headers h = GOOD_HEADERS;
    assert_int_equal(intake_headers(&h, &kind, &token, &len, &v), 0);
    assert_int_equal(kind, DOC_SUMMARY);
    assert_int_equal(len, strlen("tok-0123456789abcdef"));
    assert_memory_equal(token, "tok-0123456789abcdef", len);
    h.content_type = "text/plain";
    assert_int_equal(intake_headers(&h, &kind, &token, &len, &v), -1);
    assert_int_equal(v.status, 415);
    h = GOOD_HEADERS;
    h.kind = "report";
    assert_int_equal(intake_headers(&h, &kind, &token, &len, &v), -1);
    assert_int_equal(v.status, 400);
    assert_non_null(strstr(v.error, "X-Gatescreen-Kind"));
    h = GOOD_HEADERS;
    h.idem_key = NULL;
    assert_int_equal(intake_headers(&h, &kind, &token, &len, &v), -1);
    assert_int_equal(v.status, 400);
    h.idem_key = "T001/with space";
    assert_int_equal(intake_headers(&h, &kind, &token, &len, &v), -1);
    assert_int_equal(v.status, 400);
    h = GOOD_HEADERS;
    h.authorization = "Basic dXNlcjpwdw==";
    assert_int_equal(intake_headers(&h, &kind, &token, &len, &v), -1);
    assert_int_equal(v.status, 401);
    h.authorization = NULL;
    assert_int_equal(intake_headers(&h, &kind, &token, &len, &v), -1);
    assert_int_equal(v.status, 401);
    assert_false(v.has_pointer);
}

struct fixture {
    struct intake *in;
    char *summary, *notice, *summary_v2;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->in = intake_new(stderr);
    f->summary = read_data("summary.json");
    f->notice = read_data("notice.json");
    f->summary_v2 = read_data("summary-v2.json");
    *state = f;
    return f->in ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    intake_free(f->in);
    free(f->summary);
    free(f->notice);
    free(f->summary_v2);
    free(f);
    return 0;
}

/* The verdict on `body` sent by school T001 under key; the document is freed. */
static int judge(struct fixture *f, enum doc_kind kind, const char *key, const char *body,
                 struct intake_verdict *v)
{
    struct intake_doc d;
    memset(v, 0, sizeof *v);
    int rc = intake_document(f->in, "T001", kind, key, body, strlen(body), &d, v);
    intake_doc_free(&d);
    return rc;
}

static void test_valid_documents(void **state)
{
    struct fixture *f = *state;
    struct intake_verdict v;
    struct intake_doc d;
    assert_int_equal(intake_document(f->in, "T001", DOC_SUMMARY, "T001/2026-12-06/3",
                                     f->summary, strlen(f->summary), &d, &v), 0);
    assert_string_equal(d.school_code, "T001");
    assert_string_equal(d.day, "2026-12-06");
    assert_int_equal(d.revision, 3);
    assert_string_equal(d.generated_at, "2026-12-06T09:30:00.123Z");
    assert_int_equal(strlen(d.sha256), 64);
    intake_doc_free(&d);
    assert_int_equal(intake_document(f->in, "T001", DOC_NOTICE, "T001/referral/17", f->notice,
                                     strlen(f->notice), &d, &v), 0);
    assert_string_equal(d.notice_id, "T001/referral/17");
    assert_string_equal(d.notice_type, "referral_opened");
    assert_string_equal(d.opened_at, "2026-12-06T08:00:00.000Z");
    intake_doc_free(&d);
}

static void expect(const struct intake_verdict *v, int status, const char *pointer,
                   const char *words)
{
    assert_int_equal(v->status, status);
    if (pointer) {
        assert_true(v->has_pointer);
        assert_string_equal(v->pointer, pointer);
    } else {
        assert_false(v->has_pointer);
    }
    if (!strstr(v->error, words))
        fail_msg("expected \"%s\" in \"%s\"", words, v->error);
}

static void test_schema_refusals(void **state)
{
    struct fixture *f = *state;
    struct intake_verdict v;
    const char *key = "T001/2026-12-06/3";
    assert_int_equal(judge(f, DOC_SUMMARY, key, "{\"schema\": ", &v), -1);
    expect(&v, 400, "", "not JSON");
    char *b = edit(f->summary, "\"total\":9", "\"total\":-9");
    assert_int_equal(judge(f, DOC_SUMMARY, key, b, &v), -1);
    expect(&v, 400, "/population/total", "below the minimum");
    free(b);
    b = edit(f->summary, "\"on_leave\":0,", "");
    assert_int_equal(judge(f, DOC_SUMMARY, key, b, &v), -1);
    expect(&v, 400, "", "\"on_leave\"");
    free(b);
    b = edit(f->summary, "\"noon\":null", "\"noon\":{\"done\":1}");
    assert_int_equal(judge(f, DOC_SUMMARY, key, b, &v), -1);
    expect(&v, 400, "/checks/noon", "\"expected\"");
    free(b);
    b = edit(f->notice, "\"recheck_instrument\":\"ear\"", "\"recheck_instrument\":\"eye\"");
    assert_int_equal(judge(f, DOC_NOTICE, "T001/referral/17", b, &v), -1);
    expect(&v, 400, "/recheck_instrument", "not one of the values allowed");
    free(b);
    /* a notice sent as a summary: its schema says so */
    assert_int_equal(judge(f, DOC_SUMMARY, "T001/referral/17", f->notice, &v), -1);
    expect(&v, 400, "", "summary");
}

/* Both versions of the summary (doc_schemas.h): each against its own schema; a
 * version the collector does not know is named in the refusal. */
static void test_summary_versions(void **state)
{
    struct fixture *f = *state;
    struct intake_verdict v;
    struct intake_doc d;
    const char *key = "T001/2026-12-06/3";
    assert_int_equal(intake_document(f->in, "T001", DOC_SUMMARY, key, f->summary,
                                     strlen(f->summary), &d, &v), 0);
    assert_int_equal(d.version, doc_version_parse("summary-v1"));
    intake_doc_free(&d);
    assert_int_equal(intake_document(f->in, "T001", DOC_SUMMARY, key, f->summary_v2,
                                     strlen(f->summary_v2), &d, &v), 0);
    assert_int_equal(d.version, DOC_SUMMARY);
    intake_doc_free(&d);
    char *b = edit(f->summary_v2, "gatescreen.summary/2", "gatescreen.summary/3");
    assert_int_equal(judge(f, DOC_SUMMARY, key, b, &v), -1);
    expect(&v, 400, "/schema", "gatescreen.summary/3 is not a version this collector accepts "
                               "(gatescreen.summary/2, gatescreen.summary/1)");
    free(b);
    /* version 2's fields under version 1's name: version 1's schema refuses them */
    b = edit(f->summary_v2, "gatescreen.summary/2", "gatescreen.summary/1");
    assert_int_equal(judge(f, DOC_SUMMARY, key, b, &v), -1);
    expect(&v, 400, "/closed", "is not a member this document may have");
    free(b);
    /* and version 1 without version 2's under version 2's name */
    b = edit(f->summary, "gatescreen.summary/1", "gatescreen.summary/2");
    assert_int_equal(judge(f, DOC_SUMMARY, key, b, &v), -1);
    expect(&v, 400, "", "closed");
    free(b);
    b = edit(f->summary_v2, "\"closed\":null", "\"closed\":{\"kind\":\"closure\",\"reason\":\"\"}");
    assert_int_equal(judge(f, DOC_SUMMARY, key, b, &v), -1);
    expect(&v, 400, "/closed/reason", "");
    free(b);
}

static void test_school_and_key_refusals(void **state)
{
    struct fixture *f = *state;
    struct intake_verdict v;
    assert_int_equal(judge(f, DOC_SUMMARY, "T002/2026-12-06/3", f->summary, &v), -1);
    expect(&v, 403, NULL, "does not start with T001/");
    assert_int_equal(judge(f, DOC_SUMMARY, "T0011/2026-12-06/3", f->summary, &v), -1);
    expect(&v, 403, NULL, "does not start with T001/");
    char *b = edit(f->summary, "\"code\":\"T001\"", "\"code\":\"T002\"");
    assert_int_equal(judge(f, DOC_SUMMARY, "T001/2026-12-06/3", b, &v), -1);
    expect(&v, 403, "/school/code", "school T002's");
    free(b);
    assert_int_equal(judge(f, DOC_SUMMARY, "T001/2026-12-06/4", f->summary, &v), -1);
    expect(&v, 400, NULL, "not this summary's own key T001/2026-12-06/3");
    assert_int_equal(judge(f, DOC_NOTICE, "T001/referral/18", f->notice, &v), -1);
    expect(&v, 400, NULL, "its notice_id");
}

static void test_what_patterns_let_through(void **state)
{
    struct fixture *f = *state;
    struct intake_verdict v;
    char *b = edit(f->summary, "\"date\":\"2026-12-06\"", "\"date\":\"2026-02-30\"");
    assert_int_equal(judge(f, DOC_SUMMARY, "T001/2026-02-30/3", b, &v), -1);
    expect(&v, 400, "/date", "not a date");
    free(b);
    b = edit(f->summary, "T09:30:00.123Z", "T24:30:00.123Z");
    assert_int_equal(judge(f, DOC_SUMMARY, "T001/2026-12-06/3", b, &v), -1);
    expect(&v, 400, "/generated_at", "not a real instant");
    free(b);
    b = edit(f->summary, "\"revision\":3", "\"revision\":0");
    assert_int_equal(judge(f, DOC_SUMMARY, "T001/2026-12-06/0", b, &v), -1);
    expect(&v, 400, "/revision", "1 or more");
    free(b);
    b = edit(f->notice, "\"opened_at\":\"2026-12-06T08:00:00.000Z\"",
             "\"opened_at\":\"2026-13-06T08:00:00.000Z\"");
    assert_int_equal(judge(f, DOC_NOTICE, "T001/referral/17", b, &v), -1);
    expect(&v, 400, "/opened_at", "not a real instant");
    free(b);
}

static void test_verdict_json(void **state)
{
    (void)state;
    struct intake_verdict v = {0};
    intake_refuse(&v, 401, "no \"token\" \xff");
    char *j = intake_verdict_json(&v);
    assert_string_equal(j, "{\"error\":\"no \\\"token\\\" ?\",\"pointer\":null}");
    free(j);
    v.has_pointer = true;
    snprintf(v.pointer, sizeof v.pointer, "/a~1b");
    j = intake_verdict_json(&v);
    assert_non_null(strstr(j, "\"pointer\":\"/a~1b\""));
    free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_valid_documents),
        cmocka_unit_test(test_schema_refusals),
        cmocka_unit_test(test_summary_versions),
        cmocka_unit_test(test_school_and_key_refusals),
        cmocka_unit_test(test_what_patterns_let_through),
        cmocka_unit_test(test_verdict_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
