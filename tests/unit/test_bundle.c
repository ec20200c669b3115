/* The enrolment bundle (daemon/runtime/bundle.c): written by bureau/enrol and read
 * back whole; and every kind of broken bundle refused with a message that names the
 * part: bad JSON (line and column), unknown or repeated keys, the wrong format, a
 * certificate of another school, a key that is not the certificate's, an expired
 * certificate, an encrypted key, a bad URL or token. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle.h"
#include "enrol_fixture.h"

#define DAY 86400

static struct efx fx;
static struct enrol_credential *good, *other, *old;
static char *good_text, *other_text, *old_text, *ca_text;

static char *slurp(const char *path)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    char *t = calloc(1, 64 * 1024);
    size_t n = fread(t, 1, 64 * 1024 - 1, in);
    t[n] = '\0';
    fclose(in);
    return t;
}

static int setup(void **state)
{
    (void)state;
    efx_init(&fx, 500 * DAY, 3650); /* old enough to have issued an expired certificate */
    good = efx_issue(&fx, "X001", 365, 0);
    other = efx_issue(&fx, "X002", 365, 0);
    old = efx_issue(&fx, "X001", 30, 400 * DAY);
    efx_bundle(&fx, good, "good.bundle", &good_text);
    efx_bundle(&fx, other, "other.bundle", &other_text);
    assert_int_equal(enrol_write_bundle(old, FX_URL, efx_path(&fx, "ca/ca.pem"),
                                        efx_path(&fx, "old.bundle"), fx.now - 400 * DAY,
                                        efx_errs_open(&fx)), 0);
    old_text = slurp(efx_path(&fx, "old.bundle"));
    ca_text = slurp(efx_path(&fx, "ca/ca.pem"));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    enrol_credential_free(good);
    enrol_credential_free(other);
    enrol_credential_free(old);
    free(good_text);
    free(other_text);
    free(old_text);
    free(ca_text);
    efx_free(&fx);
    return 0;
}

static void test_round_trip(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(efx_path(&fx, "good.bundle"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    struct bundle *b = bundle_read(efx_path(&fx, "good.bundle"), fx.now, efx_errs_open(&fx));
    assert_non_null(b);
    assert_string_equal(efx_errs(&fx), "");
    assert_string_equal(bundle_get(b, BUNDLE_SCHOOL), "X001");
    assert_string_equal(bundle_get(b, BUNDLE_URL), FX_URL);
    assert_string_equal(bundle_get(b, BUNDLE_TOKEN), enrol_token(good));
    assert_string_equal(bundle_get(b, BUNDLE_SERVER_CA), ca_text);
    assert_non_null(strstr(bundle_get(b, BUNDLE_CERT), "-----BEGIN CERTIFICATE-----"));
    assert_non_null(strstr(bundle_get(b, BUNDLE_KEY), "-----BEGIN PRIVATE KEY-----"));
    /* Written again from what was read: the same bundle. */
    assert_int_equal(bundle_write(b, efx_path(&fx, "again.bundle"), fx.now, efx_errs_open(&fx)),
                     0);
    char *again = slurp(efx_path(&fx, "again.bundle"));
    assert_string_equal(again, good_text);
    free(again);
    /* Never over an existing file. */
    assert_int_equal(bundle_write(b, efx_path(&fx, "good.bundle"), fx.now, efx_errs_open(&fx)),
                     -1);
    assert_non_null(strstr(efx_errs(&fx), "good.bundle: exists already; it is not replaced"));
    bundle_free(b);
}

/* Parses text as "b.bundle"; it must be refused with every one of the messages. */
static void refused_text(const char *text, int64_t now, const char *said, const char *said2)
{
    struct bundle *b = bundle_parse("b.bundle", text, strlen(text), now, efx_errs_open(&fx));
    const char *errs = efx_errs(&fx);
    if (b)
        fail_msg("accepted; expected \"%s\"", said);
    if (!strstr(errs, said) || (said2 && !strstr(errs, said2)))
        fail_msg("expected \"%s\"%s%s, got \"%s\"", said, said2 ? " and " : "",
                 said2 ? said2 : "", errs);
}

/* The good bundle with one member set (value NULL: removed). */
static void refused_with(const char *key, json_t *value, const char *said, const char *said2)
{
    json_t *o = json_loads(good_text, 0, NULL);
    assert_non_null(o);
    if (value)
        json_object_set_new(o, key, value);
    else
        json_object_del(o, key);
    char *text = json_dumps(o, JSON_INDENT(2));
    refused_text(text, fx.now, said, said2);
    free(text);
    json_decref(o);
}

/* A member of another bundle. */
static json_t *member_of(const char *text, const char *key)
{
    json_t *o = json_loads(text, 0, NULL);
    json_t *v = json_incref(json_object_get(o, key));
    json_decref(o);
    return v;
}

static void test_bad_json(void **state)
{
    (void)state;
    char *half = strndup(good_text, strlen(good_text) / 2);
    refused_text(half, fx.now, "b.bundle:", ": not a bundle:");
    free(half);
    refused_text("", fx.now, "b.bundle:1:0: not a bundle", NULL);
    refused_text("[\"X001\"]", fx.now, "b.bundle: not a bundle (a JSON object is expected)",
                 NULL);
    refused_text("{\"format\": \"gatescreen.enrolment/1\", \"school\": \"X001\",\n"
                 " \"school\": \"X001\"}", fx.now, "b.bundle:2:", "duplicate object key");
    refused_text("{\"format\": \"gatescreen.enrolment/1\", \"token\": \"a\\u0000b\"}", fx.now,
                 "b.bundle:1:", "NUL");
}

static void test_bad_members(void **state)
{
    (void)state;
    refused_with("format", NULL, "b.bundle: \"format\" is missing", NULL);
    refused_with("format", json_string("gatescreen.enrolment/2"),
                 "format \"gatescreen.enrolment/2\" is not gatescreen.enrolment/1", NULL);
    refused_with("extra", json_string("x"), "b.bundle: unknown key \"extra\"", NULL);
    refused_with("school", json_integer(1), "b.bundle: \"school\" must be a string", NULL);
    refused_with("about", json_true(), "\"about\" must be a string", NULL);
    refused_with("token", NULL, "b.bundle: \"token\" is missing or empty", NULL);
    refused_with("key", json_string(""), "b.bundle: \"key\" is missing or empty", NULL);
    refused_with("school", json_string("X 1"), "b.bundle: \"school\": not a school code", NULL);
    refused_with("url", json_string("http://bureau.example.cn/v1"),
                 "b.bundle: \"url\": not an https:// URL", NULL);
    refused_with("url", json_string("https://bureau.example.cn/a b"), "\"url\": not an https",
                 NULL);
    refused_with("token", json_string("short"), "\"token\": not 16 to 512 characters", NULL);
    refused_with("token", json_string("0123456789abcdef 0123"), "\"token\": not 16 to 512",
                 NULL);
}

static void test_wrong_credentials(void **state)
{
    (void)state;
    refused_with("school", json_string("X002"),
                 "b.bundle: \"certificate\": the certificate is school X001's, not X002's", NULL);
    refused_with("key", member_of(other_text, "key"),
                 "b.bundle: \"key\": not the key of the certificate in \"certificate\"", NULL);
    refused_with("certificate", member_of(other_text, "certificate"),
                 "the certificate is school X002's, not X001's", "not the key of the certificate");
    refused_with("certificate", json_string(ca_text),
                 "\"certificate\": the certificate's CN is not a school code",
                 "extendedKeyUsage does not allow clientAuth");
    refused_with("certificate",
                 json_string("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
                 "b.bundle: \"certificate\": a certificate that does not parse", NULL);
    char two[8192];
    snprintf(two, sizeof two, "%s%s", ca_text, ca_text);
    refused_with("certificate", json_string(two), "\"certificate\": 2 certificates where one",
                 NULL);
    refused_with("server_ca", json_string("hello"),
                 "b.bundle: \"server_ca\": no PEM certificate", NULL);
    refused_with("key", json_string(ca_text), "b.bundle: \"key\": no private key that parses",
                 NULL);
}

static char *encrypted_key(void)
{
    json_t *k = member_of(good_text, "key");
    BIO *in = BIO_new_mem_buf(json_string_value(k), -1), *out = BIO_new(BIO_s_mem());
    EVP_PKEY *key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL);
    assert_non_null(key);
    assert_int_equal(PEM_write_bio_PKCS8PrivateKey(out, key, EVP_aes_256_cbc(), "pw", 2, NULL,
                                                   NULL), 1);
    char *data;
    long n = BIO_get_mem_data(out, &data);
    char *text = strndup(data, (size_t)n);
    EVP_PKEY_free(key);
    BIO_free(in);
    BIO_free(out);
    json_decref(k);
    return text;
}

static void test_dates_and_key_forms(void **state)
{
    (void)state;
    refused_text(old_text, fx.now, "b.bundle: \"certificate\": the certificate expired on",
                 NULL);
    refused_text(good_text, fx.now - 2 * DAY,
                 "\"certificate\": the certificate is not valid before",
                 "is this machine's clock right?");
    char *enc = encrypted_key();
    refused_with("key", json_string(enc),
                 "b.bundle: \"key\": an encrypted private key; it must be unencrypted", NULL);
    free(enc);
}

static void test_files(void **state)
{
    (void)state;
    assert_null(bundle_read(efx_path(&fx, "none.bundle"), fx.now, efx_errs_open(&fx)));
    assert_non_null(strstr(efx_errs(&fx), "none.bundle: cannot open the enrolment bundle: No "
                                           "such file"));
    FILE *big = fopen(efx_path(&fx, "big.bundle"), "w");
    for (int i = 0; i < 300; i++)
        fprintf(big, "%01023d\n", i);
    fclose(big);
    assert_null(bundle_read(efx_path(&fx, "big.bundle"), fx.now, efx_errs_open(&fx)));
    assert_non_null(strstr(efx_errs(&fx), "big.bundle: the enrolment bundle is 307200 bytes, "
                                           "more than 262144"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_bad_json),
        cmocka_unit_test(test_bad_members),
        cmocka_unit_test(test_wrong_credentials),
        cmocka_unit_test(test_dates_and_key_forms),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
