/* The read API's bearer tokens (bureau/collector/pull_auth.c): the token file (a
 * secret file, one token a line, comments; every bad line as FILE:LINE), and the
 * check of an Authorization header (401 none or unknown, 403 no token file, the
 * reader's name from the token's SHA-256). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pull_auth.h"
#include "token.h"

#define TOKEN_A "province-0123456789abcdef-A"
#define TOKEN_B "dashboard-0123456789abcdef-B"

static char dir[] = "/tmp/gs-pull-XXXXXX";

static const char *write_file(const char *name, const char *text, mode_t mode)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static struct pull_auth *load(const char *path, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    assert_non_null(f);
    struct pull_auth *a = pull_auth_load(path, f);
    fclose(f);
    return a;
}

static void expect(const char *errs, const char *needle)
{
    if (!strstr(errs, needle))
        fail_msg("expected \"%s\" among:\n%s", needle, errs);
}

static void test_file(void **state)
{
    (void)state;
    char *errs = NULL;
    const char *p = write_file("good", "# the province\n" TOKEN_A "\r\n\n  " TOKEN_B "  \n",
                               0600);
    struct pull_auth *a = load(p, &errs);
    assert_non_null(a);
    assert_int_equal(pull_auth_count(a), 2);
    assert_string_equal(errs, "");
    pull_auth_free(a);
    free(errs);
    p = write_file("bad", TOKEN_A "\nshort\nwith blank in it 0123456789\n", 0600);
    assert_null(load(p, &errs));
    expect(errs, "/bad:2: not a token (16 to 512 printable ASCII characters");
    expect(errs, "/bad:3: not a token");
    free(errs);
    p = write_file("open", TOKEN_A "\n", 0640);
    assert_null(load(p, &errs));
    expect(errs, "open");
    free(errs);
    p = write_file("empty", "# nobody yet\n", 0600);
    a = load(p, &errs);
    assert_non_null(a); /* allowed, and said */
    assert_int_equal(pull_auth_count(a), 0);
    expect(errs, "no token in the file");
    pull_auth_free(a);
    free(errs);
}

static void test_check(void **state)
{
    (void)state;
    char *errs = NULL, reader[PULL_READER_LEN], why[200], digest[65];
    struct pull_auth *a = load(write_file("t", TOKEN_A "\n" TOKEN_B "\n", 0600), &errs);
    assert_non_null(a);
    assert_int_equal(pull_auth_check(a, "Bearer " TOKEN_B, reader, why, sizeof why), 0);
    token_sha256_hex(TOKEN_B, strlen(TOKEN_B), digest);
    assert_memory_equal(reader, digest, 8);
    assert_int_equal(pull_auth_check(a, "bearer  " TOKEN_A " ", reader, why, sizeof why), 0);
    assert_int_equal(pull_auth_check(a, NULL, reader, why, sizeof why), 401);
    expect(why, "no bearer token");
    assert_int_equal(pull_auth_check(a, "Basic dXNlcjpwYXNz", reader, why, sizeof why), 401);
    assert_int_equal(pull_auth_check(a, "Bearer ", reader, why, sizeof why), 401);
    assert_int_equal(pull_auth_check(a, "Bearer " TOKEN_A "x", reader, why, sizeof why), 401);
    expect(why, "not a pull token");
    pull_auth_free(a);
    free(errs);
    a = load("", &errs); /* no [pull] token_file: the read API is off */
    assert_non_null(a);
    assert_int_equal(pull_auth_check(a, "Bearer " TOKEN_A, reader, why, sizeof why), 403);
    expect(why, "the read API is off");
    pull_auth_free(a);
    free(errs);
}

static int setup(void **state)
{
    (void)state;
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    static const char *const names[] = {"good", "bad", "open", "empty", "t"};
    char path[256];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_file), cmocka_unit_test(test_check)};
    return cmocka_run_group_tests(tests, setup, teardown);
}
