/* The bureau's enrolment library (bureau/enrol): the CA it makes, the certificate it
 * issues a school (CN, SAN, extended key usage, validity, serial), checked with
 * libcrypto and cross-checked with the openssl command (fingerprint, serial,
 * `openssl verify -purpose sslclient`), the token and its hash, and what it
 * refuses. The bundle's own tests are test_bundle.c. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <ctype.h>
#include <stdbool.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bundle.h"
#include "enrol_fixture.h"

static struct efx fx;

static int setup(void **state)
{
    (void)state;
    efx_init(&fx, 0, 3650);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    efx_free(&fx);
    return 0;
}

static X509 *read_cert(const char *path)
{
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    X509 *x = PEM_read_X509(in, NULL, NULL, NULL);
    fclose(in);
    assert_non_null(x);
    return x;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return st.st_mode & 07777;
}

static bool critical(X509 *x, int nid)
{
    int i = X509_get_ext_by_NID(x, nid, -1);
    return i >= 0 && X509_EXTENSION_get_critical(X509_get_ext(x, i)) == 1;
}

/* The school's certificate out of its bundle, as a PEM file for openssl. */
static X509 *school_cert_of(const struct enrol_credential *c, const char *name)
{
    char *text;
    efx_bundle(&fx, c, name, &text);
    struct bundle *b = bundle_parse(name, text, strlen(text), fx.now, efx_errs_open(&fx));
    assert_non_null(b);
    FILE *out = fopen(efx_path(&fx, "cert.pem"), "w");
    assert_non_null(out);
    fputs(bundle_get(b, BUNDLE_CERT), out);
    fclose(out);
    bundle_free(b);
    free(text);
    return read_cert(efx_path(&fx, "cert.pem"));
}

static void test_ca(void **state)
{
    (void)state;
    X509 *x = read_cert(efx_path(&fx, "ca/ca.pem"));
    assert_int_equal(mode_of(efx_path(&fx, "ca/ca.key")), 0600);
    assert_int_equal(mode_of(efx_path(&fx, "ca/ca.pem")), 0644);
    assert_int_equal(X509_check_ca(x), 1);
    assert_int_equal(X509_check_issued(x, x), X509_V_OK); /* self-signed */
    assert_int_equal(X509_verify(x, X509_get0_pubkey(x)), 1);
    assert_true(critical(x, NID_basic_constraints));
    assert_true(critical(x, NID_key_usage));
    assert_int_equal(X509_get_key_usage(x), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
    assert_int_equal(X509_get_pathlen(x), 0);
    assert_int_equal(EVP_PKEY_get_id(X509_get0_pubkey(x)), EVP_PKEY_EC);
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
    X509_free(x);
    /* An existing CA is never replaced: every school's certificate depends on it. */
    FILE *e = efx_errs_open(&fx);
    assert_int_equal(enrol_ca_create(efx_path(&fx, "ca"), "another", 10, fx.now, e), -1);
    assert_non_null(strstr(efx_errs(&fx), "ca.key: exists already; it is not replaced"));
    assert_int_equal(enrol_ca_create(efx_path(&fx, "ca2"), "", 10, fx.now, efx_errs_open(&fx)),
                     -1);
    assert_non_null(strstr(efx_errs(&fx), "CA name \"\": 1 to 64 bytes"));
}

static void test_ca_load_refused(void **state)
{
    (void)state;
    assert_int_equal(chmod(efx_path(&fx, "ca/ca.key"), 0640), 0);
    assert_null(enrol_ca_load_dir(efx_path(&fx, "ca"), fx.now, efx_errs_open(&fx)));
    assert_non_null(strstr(efx_errs(&fx), "ca.key: mode 0640 lets group or others read it"));
    assert_int_equal(chmod(efx_path(&fx, "ca/ca.key"), 0600), 0);
    /* Another CA's key with this certificate. */
    assert_int_equal(enrol_ca_create(efx_path(&fx, "ca2"), "other", 10, fx.now,
                                     efx_errs_open(&fx)), 0);
    assert_null(enrol_ca_load(efx_path(&fx, "ca/ca.pem"), efx_path(&fx, "ca2/ca.key"), fx.now,
                              efx_errs_open(&fx)));
    assert_non_null(strstr(efx_errs(&fx), "ca2/ca.key: not the key of the CA certificate"));
    /* A CA that has expired issues nothing. */
    assert_null(enrol_ca_load_dir(efx_path(&fx, "ca2"), fx.now + 11 * 86400, efx_errs_open(&fx)));
    assert_non_null(strstr(efx_errs(&fx), "ca2/ca.pem expired on"));
}

/* Every field of the convention (runtime/school_cert.h), read with libcrypto. */
static void test_certificate_fields(void **state)
{
    (void)state;
    struct enrol_credential *c = efx_issue(&fx, "X-001_a", 30, 0);
    X509 *x = school_cert_of(c, "x.bundle"), *ca = read_cert(efx_path(&fx, "ca/ca.pem"));
    const X509_NAME *subj = X509_get_subject_name(x);
    char cn[64];
    assert_int_equal(X509_NAME_entry_count(subj), 1);
    assert_int_equal(X509_NAME_get_text_by_NID((X509_NAME *)subj, NID_commonName, cn, sizeof cn),
                     7);
    assert_string_equal(cn, "X-001_a");
    GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    assert_int_equal(sk_GENERAL_NAME_num(san), 1);
    GENERAL_NAME *g = sk_GENERAL_NAME_value(san, 0);
    assert_int_equal(g->type, GEN_URI);
    assert_string_equal(ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
                        "urn:gatescreen:school:X-001_a");
    GENERAL_NAMES_free(san);
    assert_int_equal(X509_get_extended_key_usage(x), XKU_SSL_CLIENT);
    assert_true(critical(x, NID_basic_constraints));
    assert_true(critical(x, NID_key_usage));
    assert_false(critical(x, NID_subject_alt_name));
    assert_int_equal(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
    assert_int_equal(X509_check_ca(x), 0);
    assert_int_equal(X509_check_issued(ca, x), X509_V_OK);
    assert_int_equal(X509_verify(x, X509_get0_pubkey(ca)), 1);
    assert_int_equal(EVP_PKEY_get_bits(X509_get0_pubkey(x)), 256);
    /* Validity: from an hour before now, for 30 days from now. */
    int day, sec;
    const struct enrol_record *r = enrol_record(c);
    assert_int_equal(r->not_before, fx.now - 3600);
    assert_int_equal(r->not_after, fx.now + 30 * 86400);
    ASN1_TIME *t = ASN1_TIME_new();
    ASN1_TIME_set(t, (time_t)fx.now);
    assert_int_equal(ASN1_TIME_diff(&day, &sec, t, X509_get0_notAfter(x)), 1);
    assert_int_equal(day * 86400 + sec, 30 * 86400);
    assert_int_equal(ASN1_TIME_diff(&day, &sec, t, X509_get0_notBefore(x)), 1);
    assert_int_equal(day * 86400 + sec, -3600);
    ASN1_TIME_free(t);
    /* A positive serial of at most 128 bits. */
    const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
    BIGNUM *bn = ASN1_INTEGER_to_BN(serial, NULL);
    assert_false(BN_is_negative(bn));
    assert_false(BN_is_zero(bn));
    assert_true(BN_num_bits(bn) <= 128);
    assert_true(BN_num_bits(bn) > 64); /* by chance, 1 in 2^64 */
    BN_free(bn);
    X509_free(ca);
    X509_free(x);
    enrol_credential_free(c);
}

/* The record agrees with the openssl command: fingerprint, serial, a client
 * certificate that verifies against the CA. */
static void test_openssl_agrees(void **state)
{
    (void)state;
    struct enrol_credential *c = efx_issue(&fx, "T0042", 365, 0);
    X509 *x = school_cert_of(c, "t.bundle");
    const struct enrol_record *r = enrol_record(c);
    char want[128], cmd[512];
    snprintf(cmd, sizeof cmd, "openssl x509 -noout -fingerprint -sha256 -in %s",
             efx_path(&fx, "cert.pem"));
    const char *fp = efx_shell(cmd); /* sha256 Fingerprint=AB:CD:... */
    const char *hex = strchr(fp, '=');
    assert_non_null(hex);
    size_t n = 0;
    for (hex++; *hex && n < sizeof want - 1; hex++)
        if (*hex != ':')
            want[n++] = (char)tolower((unsigned char)*hex);
    want[n] = '\0';
    assert_string_equal(r->cert_sha256, want);
    snprintf(cmd, sizeof cmd, "openssl x509 -noout -serial -in %s", efx_path(&fx, "cert.pem"));
    const char *serial = efx_shell(cmd); /* serial=0AB1... (upper case, even length) */
    assert_true(strncmp(serial, "serial=", 7) == 0);
    for (n = 0; serial[7 + n]; n++)
        want[n] = (char)tolower((unsigned char)serial[7 + n]);
    want[n] = '\0';
    assert_string_equal(want, r->cert_serial);
    snprintf(cmd, sizeof cmd, "openssl verify -CAfile %s -purpose sslclient %s 2>&1",
             efx_path(&fx, "ca/ca.pem"), efx_path(&fx, "cert.pem"));
    snprintf(want, sizeof want, "%s: OK", efx_path(&fx, "cert.pem"));
    assert_string_equal(efx_shell(cmd), want);
    /* The fingerprint as the collector computes it from the DER it is shown. */
    unsigned char *der = NULL;
    int len = i2d_X509(x, &der);
    char hex2[PEM_SHA256_HEX];
    enrol_der_sha256(der, (size_t)len, hex2);
    assert_string_equal(hex2, r->cert_sha256);
    OPENSSL_free(der);
    X509_free(x);
    enrol_credential_free(c);
}

static void test_token(void **state)
{
    (void)state;
    struct enrol_credential *a = efx_issue(&fx, "A1", 30, 0), *b = efx_issue(&fx, "A1", 30, 0);
    const char *t = enrol_token(a);
    assert_int_equal(strlen(t), ENROL_TOKEN_LEN);
    for (const char *s = t; *s; s++)
        assert_true(isalnum((unsigned char)*s) || *s == '-' || *s == '_');
    assert_string_not_equal(t, enrol_token(b));
    assert_string_not_equal(enrol_record(a)->cert_serial, enrol_record(b)->cert_serial);
    assert_string_not_equal(enrol_record(a)->cert_sha256, enrol_record(b)->cert_sha256);
    /* token_sha256 is the SHA-256 of the token's text, as openssl dgst computes it. */
    FILE *out = fopen(efx_path(&fx, "token"), "w");
    fputs(t, out);
    fclose(out);
    char cmd[256], want[80];
    snprintf(cmd, sizeof cmd, "openssl dgst -sha256 -r %s", efx_path(&fx, "token"));
    snprintf(want, sizeof want, "%.64s", efx_shell(cmd));
    assert_string_equal(enrol_record(a)->token_sha256, want);
    enrol_credential_free(a);
    enrol_credential_free(b);
}

static void refused(const char *code, int days, const char *said)
{
    assert_null(enrol_issue(fx.ca, code, days, fx.now, efx_errs_open(&fx)));
    const char *text = efx_errs(&fx);
    if (!strstr(text, said))
        fail_msg("issue %s for %d days: expected \"%s\", got \"%s\"", code, days, said, text);
}

static void test_issue_refused(void **state)
{
    (void)state;
    refused("", 30, "school code \"\": 1 to 31 letters");
    refused("X 1", 30, "school code \"X 1\"");
    refused("X,URI:evil", 30, "school code");
    refused("学校", 30, "school code");
    refused("A234567890123456789012345678901x", 30, "1 to 31");
    refused("X1", 0, "X1: validity 0 days: 1 to 3650");
    refused("X1", 3651, "validity 3651 days");
    /* Not beyond the CA's end: a CA of 10 days issues 10 days at most. */
    struct efx young;
    efx_init(&young, 0, 10);
    assert_null(enrol_issue(young.ca, "X1", 11, young.now, efx_errs_open(&young)));
    assert_non_null(strstr(efx_errs(&young), "X1: 11 days would outlive the CA, which ends in"));
    efx_free(&young);
}

static void test_server_ca_file(void **state)
{
    (void)state;
    struct enrol_credential *c = efx_issue(&fx, "S1", 30, 0);
    FILE *out = fopen(efx_path(&fx, "junk.pem"), "w");
    fputs("not a certificate\n", out);
    fclose(out);
    assert_int_equal(enrol_write_bundle(c, FX_URL, efx_path(&fx, "junk.pem"),
                                        efx_path(&fx, "s.bundle"), fx.now, efx_errs_open(&fx)),
                     -1);
    assert_non_null(strstr(efx_errs(&fx), "junk.pem: no PEM certificate"));
    assert_int_equal(enrol_write_bundle(c, "http://bureau.example.cn/", efx_path(&fx, "ca/ca.pem"),
                                        efx_path(&fx, "s.bundle"), fx.now, efx_errs_open(&fx)),
                     -1);
    assert_non_null(strstr(efx_errs(&fx), "s.bundle: \"url\": not an https:// URL"));
    struct stat st;
    assert_int_equal(stat(efx_path(&fx, "s.bundle"), &st), -1); /* nothing written */
    enrol_credential_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_load_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_certificate_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_openssl_agrees, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token, setup, teardown),
        cmocka_unit_test_setup_teardown(test_issue_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_ca_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
