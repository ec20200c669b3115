/* The documents' schema checker (daemon/documents/docschema.c): what it refuses to
 * load, where it says a document fails (JSON pointers), and the built-in schemas
 * loading. Agreement with python3-jsonschema on thousands of documents is
 * tests/integration/test_docschema_diff.py. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doc_schemas.h"
#include "docschema.h"

static struct docschema *load(const char *text, char *errs, size_t n)
{
    FILE *f = fmemopen(errs, n, "w");
    struct docschema *s = docschema_new("t.json", text, strlen(text), f);
    fclose(f);
    return s;
}

static int verdict(const struct docschema *s, const char *doc, struct docschema_problem *p)
{
    json_t *d = json_loads(doc, JSON_DECODE_ANY, NULL);
    assert_non_null(d);
    int rc = docschema_check(s, d, p);
    json_decref(d);
    return rc;
}

static void test_unknown_keyword_refused(void **state)
{
    (void)state;
    char errs[256] = "";
    assert_null(load("{\"type\": \"object\", \"properties\": {\"a\": {\"format\": \"date\"}}}",
                     errs, sizeof errs));
    assert_non_null(strstr(errs, "\"format\" is not supported"));
    assert_null(load("{\"pattern\": \"a[\"}", errs, sizeof errs));
    assert_non_null(strstr(errs, "not a POSIX extended expression"));
    assert_null(load("{\"type\": ", errs, sizeof errs));
    assert_non_null(strstr(errs, "t.json:1:"));
}

static const char SCHEMA[] =
    "{\"$defs\": {\"n\": {\"type\": \"integer\", \"minimum\": 0}},"
    " \"type\": \"object\", \"required\": [\"a\"], \"additionalProperties\": false,"
    " \"properties\": {\"a\": {\"type\": \"array\", \"items\": {\"$ref\": \"#/$defs/n\"}},"
    "  \"b/c~d\": {\"oneOf\": [{\"type\": \"null\"}, {\"type\": \"string\", \"minLength\": 2}]}}}";

static void test_pointer_names_the_first_problem(void **state)
{
    (void)state;
    char errs[256] = "";
    struct docschema *s = load(SCHEMA, errs, sizeof errs);
    assert_non_null(s);
    struct docschema_problem p;
    assert_int_equal(verdict(s, "{\"a\": [0, 2.0, 7]}", &p), 0);
    assert_int_equal(verdict(s, "{\"a\": [0, 1, -1]}", &p), -1);
    assert_string_equal(p.pointer, "/a/2");
    assert_non_null(strstr(p.message, "minimum"));
    assert_int_equal(verdict(s, "{\"a\": [], \"b/c~d\": \"测\"}", &p), -1);
    assert_string_equal(p.pointer, "/b~1c~0d");
    assert_int_equal(verdict(s, "{\"a\": [], \"b/c~d\": \"测试\"}", &p), 0);
    assert_int_equal(verdict(s, "{\"b/c~d\": null}", &p), -1);
    assert_string_equal(p.pointer, "");
    assert_non_null(strstr(p.message, "\"a\""));
    assert_int_equal(verdict(s, "{\"a\": [], \"z\": 1}", &p), -1);
    assert_string_equal(p.pointer, "/z");
    assert_int_equal(verdict(s, "{\"a\": [1.5]}", &p), -1);
    assert_string_equal(p.pointer, "/a/0");
    assert_int_equal(verdict(s, "[]", &p), -1);
    docschema_free(s);
}

/* A oneOf that nothing matches names the problem of the alternative that can be
 * meant (by type, or by a member fixed with const), not only "matches none". */
static const char ONEOF[] =
    "{\"oneOf\": [{\"$ref\": \"#/$defs/x\"}, {\"$ref\": \"#/$defs/y\"}],"
    " \"$defs\": {\"x\": {\"type\": \"object\", \"required\": [\"kind\", \"n\"],"
    "   \"properties\": {\"kind\": {\"const\": \"x\"}, \"n\": {\"type\": \"integer\"}}},"
    "  \"y\": {\"type\": \"object\", \"required\": [\"kind\", \"w\"],"
    "   \"properties\": {\"kind\": {\"const\": \"y\"},"
    "    \"w\": {\"oneOf\": [{\"type\": \"null\"}, {\"type\": \"array\", \"minItems\": 2}]}}}}}";

static void test_oneof_names_the_meant_alternative(void **state)
{
    (void)state;
    char errs[256] = "";
    struct docschema *s = load(ONEOF, errs, sizeof errs);
    assert_non_null(s);
    struct docschema_problem p;
    assert_int_equal(verdict(s, "{\"kind\": \"y\", \"w\": [1, 2]}", &p), 0);
    assert_int_equal(verdict(s, "{\"kind\": \"x\", \"n\": \"1\"}", &p), -1);
    assert_string_equal(p.pointer, "/n");
    assert_non_null(strstr(p.message, "integer"));
    assert_int_equal(verdict(s, "{\"kind\": \"y\"}", &p), -1);
    assert_string_equal(p.pointer, "");
    assert_non_null(strstr(p.message, "\"w\""));
    assert_int_equal(verdict(s, "{\"kind\": \"y\", \"w\": [1]}", &p), -1);
    assert_string_equal(p.pointer, "/w");
    assert_non_null(strstr(p.message, "too few"));
    /* nothing says which one is meant: the general message */
    assert_int_equal(verdict(s, "{\"kind\": \"z\"}", &p), -1);
    assert_string_equal(p.pointer, "");
    assert_non_null(strstr(p.message, "none of its alternatives"));
    assert_int_equal(verdict(s, "{\"kind\": \"y\", \"w\": 3}", &p), -1);
    assert_string_equal(p.pointer, "/w");
    assert_non_null(strstr(p.message, "none of its alternatives"));
    docschema_free(s);
}

static void test_builtin_schemas_load(void **state)
{
    (void)state;
    for (int k = 0; k < DOC_KINDS; k++) {
        struct docschema *s = doc_schema_load((enum doc_kind)k, stderr);
        assert_non_null(s);
        assert_int_equal(doc_kind_parse(doc_kind_name((enum doc_kind)k)), k);
        docschema_free(s);
    }
    assert_int_equal(doc_kind_parse("bogus"), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unknown_keyword_refused),
        cmocka_unit_test(test_pointer_names_the_first_problem),
        cmocka_unit_test(test_oneof_names_the_meant_alternative),
        cmocka_unit_test(test_builtin_schemas_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
