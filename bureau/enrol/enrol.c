/* A school's enrolment (enrol.h). */
#include "enrol.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "secret_file.h"
#include "x509_build.h"

#define DAY_SECONDS 86400
#define BACKDATE 3600 /* valid from an hour before: a school's clock may be a little off */

struct enrol_credential {
    struct enrol_record rec;
    char *cert_pem, *key_pem;
    char token[ENROL_TOKEN_LEN + 1];
};

const struct enrol_record *enrol_record(const struct enrol_credential *c)
{
    return &c->rec;
}

const char *enrol_token(const struct enrol_credential *c)
{
    return c->token;
}

const char *enrol_cert_pem(const struct enrol_credential *c)
{
    return c->cert_pem;
}

const char *enrol_key_pem(const struct enrol_credential *c)
{
    return c->key_pem;
}

void enrol_credential_free(struct enrol_credential *c)
{
    if (!c)
        return;
    if (c->key_pem)
        OPENSSL_cleanse(c->key_pem, strlen(c->key_pem));
    free(c->key_pem);
    free(c->cert_pem);
    OPENSSL_cleanse(c->token, sizeof c->token);
    free(c);
}

void enrol_der_sha256(const unsigned char *der, size_t len, char hex[PEM_SHA256_HEX])
{
    pem_sha256_hex(der, len, hex);
}

void enrol_token_sha256(const char *token, char hex[PEM_SHA256_HEX])
{
    pem_sha256_hex(token, strlen(token), hex);
}

/* 32 random bytes as base64url without padding: printable, no blanks, no '+' or '/'
 * that a shell or a URL would trip on. */
static int new_token(char out[ENROL_TOKEN_LEN + 1])
{
    unsigned char r[ENROL_TOKEN_BYTES], b64[ENROL_TOKEN_LEN + 2];
    if (RAND_bytes(r, sizeof r) != 1)
        return -1;
    EVP_EncodeBlock(b64, r, sizeof r); /* 44 characters, the last one '=' */
    for (int i = 0; i < ENROL_TOKEN_LEN; i++)
        out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : (char)b64[i];
    out[ENROL_TOKEN_LEN] = '\0';
    OPENSSL_cleanse(r, sizeof r);
    OPENSSL_cleanse(b64, sizeof b64);
    return 0;
}

static int check_args(const struct enrol_ca *ca, const char *code, int days, int64_t now,
                      FILE *errs)
{
    int64_t ca_end = 0;
    if (!school_code_ok(code)) {
        fprintf(errs, "school code \"%.40s\": 1 to %d letters, digits, '_' or '-'\n", code,
                SCHOOL_CODE_MAX);
        return -1;
    }
    if (days < 1 || days > ENROL_DAYS_MAX) {
        fprintf(errs, "%s: validity %d days: 1 to %d\n", code, days, ENROL_DAYS_MAX);
        return -1;
    }
    if (xb_not_after(enrol_ca_cert(ca), &ca_end) < 0 ||
        now + (int64_t)days * DAY_SECONDS > ca_end) {
        fprintf(errs, "%s: %d days would outlive the CA, which ends in %lld days; issue it "
                      "for fewer days or make a new CA\n", code, days,
                (long long)((ca_end - now) / DAY_SECONDS));
        return -1;
    }
    return 0;
}

/* The convention of school_cert.h, and the usual leaf extensions. */
static int add_exts(X509 *x, X509 *issuer, const char *code, FILE *errs)
{
    char san[sizeof SCHOOL_URI_PREFIX + SCHOOL_CODE_MAX + 8];
    snprintf(san, sizeof san, "URI:" SCHOOL_URI_PREFIX "%s", code);
    return xb_add_ext(x, issuer, NID_basic_constraints, "critical,CA:FALSE", code, errs) |
           xb_add_ext(x, issuer, NID_key_usage, "critical,digitalSignature", code, errs) |
           xb_add_ext(x, issuer, NID_ext_key_usage, "clientAuth", code, errs) |
           xb_add_ext(x, issuer, NID_subject_alt_name, san, code, errs) |
           xb_add_ext(x, issuer, NID_subject_key_identifier, "hash", code, errs) |
           xb_add_ext(x, issuer, NID_authority_key_identifier, "keyid:always", code, errs);
}

static X509 *school_cert(const struct enrol_ca *ca, EVP_PKEY *key, const char *code,
                         int days, int64_t now, FILE *errs)
{
    X509 *issuer = enrol_ca_cert(ca);
    X509 *x = xb_new_cert(key, code, issuer, now - BACKDATE,
                          now + (int64_t)days * DAY_SECONDS, code, errs);
    if (x && add_exts(x, issuer, code, errs) == 0 &&
        xb_sign(x, enrol_ca_key(ca), code, errs) == 0 &&
        school_cert_check(x, code, now, code, errs) == 0) /* what the school will check */
        return x;
    X509_free(x);
    return NULL;
}

static int fill_record(struct enrol_record *r, X509 *x, const char *code, const char *token,
                       int64_t now, FILE *errs)
{
    memcpy(r->code, code, strlen(code) + 1);
    r->not_before = now - BACKDATE;
    if (xb_serial_hex(x, r->cert_serial) < 0 || pem_cert_sha256(x, r->cert_sha256) < 0 ||
        xb_not_after(x, &r->not_after) < 0) {
        fprintf(errs, "%s: cannot read the new certificate back\n", code);
        return -1;
    }
    enrol_token_sha256(token, r->token_sha256);
    return 0;
}

struct enrol_credential *enrol_issue(const struct enrol_ca *ca, const char *code, int days,
                                     int64_t now, FILE *errs)
{
    if (check_args(ca, code, days, now, errs) < 0)
        return NULL;
    struct enrol_credential *c = calloc(1, sizeof *c);
    EVP_PKEY *key = c ? xb_new_key(code, errs) : NULL;
    X509 *x = key ? school_cert(ca, key, code, days, now, errs) : NULL;
    if (!x)
        goto fail;
    if (new_token(c->token) < 0) {
        fprintf(errs, "%s: no random bytes for the token\n", code);
        goto fail;
    }
    if (fill_record(&c->rec, x, code, c->token, now, errs) < 0)
        goto fail;
    if (!(c->cert_pem = pem_of_cert(x)) || !(c->key_pem = pem_of_key(key))) {
        fprintf(errs, "%s: out of memory\n", code);
        goto fail;
    }
    X509_free(x);
    EVP_PKEY_free(key);
    return c;
fail:
    if (!c)
        fprintf(errs, "%s: out of memory\n", code);
    X509_free(x);
    EVP_PKEY_free(key);
    enrol_credential_free(c);
    return NULL;
}

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

static int fill_bundle(struct bundle *b, const struct enrol_credential *c, const char *url,
                       const char *server_ca)
{
    return bundle_set(b, BUNDLE_SCHOOL, c->rec.code) | bundle_set(b, BUNDLE_URL, url) |
           bundle_set(b, BUNDLE_SERVER_CA, server_ca) | bundle_set(b, BUNDLE_CERT, c->cert_pem) |
           bundle_set(b, BUNDLE_KEY, c->key_pem) | bundle_set(b, BUNDLE_TOKEN, c->token);
}

int enrol_write_bundle(const struct enrol_credential *c, const char *url,
                       const char *server_ca_file, const char *out_path, int64_t now,
                       FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *ca_text = NULL;
    size_t n = 0;
    if (public_file_read(server_ca_file, "server CA file", BUNDLE_MAX_BYTES, &heap, &ca_text,
                         &n, errs) < 0)
        return -1;
    struct bundle *b = bundle_new();
    int rc = -1;
    if (pem_cert_count(ca_text, server_ca_file, errs) < 0)
        ; /* said */
    else if (!b || fill_bundle(b, c, url, ca_text) < 0)
        fprintf(errs, "%s: out of memory\n", out_path);
    else
        rc = bundle_write(b, out_path, now, errs);
    bundle_free(b);
    free(ca_text);
    return rc;
}
