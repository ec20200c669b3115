/* Building certificates (x509_build.h). */
#include "x509_build.h"

#include <ctype.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

void xb_fail(FILE *errs, const char *what, const char *message)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    fprintf(errs, "%s: %s%s%s%s\n", what, message, r ? " (" : "", r ? r : "", r ? ")" : "");
    ERR_clear_error();
}

EVP_PKEY *xb_new_key(const char *what, FILE *errs)
{
    EVP_PKEY *k = EVP_EC_gen("P-256");
    if (!k)
        xb_fail(errs, what, "cannot make an EC P-256 key");
    return k;
}

/* 128 random bits, never zero (a serial must be positive). */
static int random_serial(X509 *x)
{
    unsigned char r[16];
    BIGNUM *bn = NULL;
    int ok = 0;
    do {
        if (RAND_bytes(r, sizeof r) != 1)
            goto out;
        BN_free(bn);
        bn = BN_bin2bn(r, sizeof r, NULL);
    } while (bn && BN_is_zero(bn));
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
out:
    BN_free(bn);
    return ok ? 0 : -1;
}

static int set_names(X509 *x, const char *cn, X509 *issuer)
{
    X509_NAME *name = X509_NAME_new();
    int ok = name &&
             X509_NAME_add_entry_by_NID(name, NID_commonName, MBSTRING_UTF8,
                                        (const unsigned char *)cn, -1, -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 &&
             X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name) == 1;
    X509_NAME_free(name);
    return ok ? 0 : -1;
}

static int set_validity(X509 *x, int64_t not_before, int64_t not_after)
{
    return ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before) &&
                   ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after)
               ? 0 : -1;
}

X509 *xb_new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, int64_t not_before,
                  int64_t not_after, const char *what, FILE *errs)
{
    X509 *x = X509_new();
    if (!x || X509_set_version(x, X509_VERSION_3) != 1 || random_serial(x) < 0 ||
        set_names(x, cn, issuer) < 0 || X509_set_pubkey(x, key) != 1 ||
        set_validity(x, not_before, not_after) < 0) {
        xb_fail(errs, what, "cannot make the certificate");
        X509_free(x);
        return NULL;
    }
    return x;
}

int xb_add_ext(X509 *x, X509 *issuer, int nid, const char *value, const char *what,
               FILE *errs)
{
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    int ok = ext && X509_add_ext(x, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    if (!ok) {
        char msg[160];
        snprintf(msg, sizeof msg, "cannot add the extension %s = %s", OBJ_nid2sn(nid), value);
        xb_fail(errs, what, msg);
    }
    return ok ? 0 : -1;
}

int xb_sign(X509 *x, EVP_PKEY *issuer_key, const char *what, FILE *errs)
{
    if (X509_sign(x, issuer_key, EVP_sha256()) <= 0) {
        xb_fail(errs, what, "cannot sign the certificate");
        return -1;
    }
    return 0;
}

int xb_serial_hex(X509 *x, char out[XB_SERIAL_HEX])
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *hex = bn ? BN_bn2hex(bn) : NULL;
    int rc = -1;
    if (hex && strlen(hex) < XB_SERIAL_HEX) {
        for (size_t i = 0; hex[i]; i++)
            out[i] = (char)tolower((unsigned char)hex[i]);
        out[strlen(hex)] = '\0';
        rc = 0;
    }
    OPENSSL_free(hex);
    BN_free(bn);
    return rc;
}

int xb_not_after(X509 *x, int64_t *out)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm))
        return -1;
    *out = (int64_t)timegm(&tm);
    return 0;
}
