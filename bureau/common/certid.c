/* A school certificate's identity (certid.h), read with libcrypto. */
#include "certid.h"

#include <errno.h>
#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

#include "pem.h"

#define MAX_URIS 8

/* The code of the URIs that carry one, "" when none does; -1 when they disagree or
 * one is not a code. */
static int code_of_uris(const char *const *uris, int nuris, char code[CERTID_CODE_MAX],
                        char *why, size_t why_size)
{
    size_t plen = strlen(SCHOOL_URI_PREFIX);
    code[0] = '\0';
    for (int i = 0; i < nuris; i++) {
        if (strncmp(uris[i], SCHOOL_URI_PREFIX, plen) != 0)
            continue;
        const char *c = uris[i] + plen;
        if (!school_code_ok(c)) {
            snprintf(why, why_size, "the subjectAltName URI %.80s does not end in a school "
                                    "code (1 to 31 of A-Z a-z 0-9 _ -)", uris[i]);
            return -1;
        }
        if (code[0] && strcmp(code, c) != 0) {
            snprintf(why, why_size, "the certificate names two schools (%s and %s)", code, c);
            return -1;
        }
        snprintf(code, CERTID_CODE_MAX, "%s", c);
    }
    return 0;
}

int certid_pick_code(const char *cn, const char *const *uris, int nuris,
                     char code[CERTID_CODE_MAX], char *why, size_t why_size)
{
    if (code_of_uris(uris, nuris, code, why, why_size) < 0)
        return -1;
    if (code[0])
        return 0;
    if (cn && school_code_ok(cn)) {
        snprintf(code, CERTID_CODE_MAX, "%s", cn);
        return 0;
    }
    snprintf(why, why_size, "the certificate names no school: no subjectAltName URI "
                            SCHOOL_URI_PREFIX "CODE, and its subject CN %s%.64s%s is not a "
                            "school code", cn ? "\"" : "", cn ? cn : "(none)", cn ? "\"" : "");
    return -1;
}

/* ---- libcrypto ------------------------------------------------------------------ */

/* The subject's one commonName as UTF-8 into buf; "" when there is none, -1 when
 * there are several (which one would count?). */
static int common_name(X509 *x, char *buf, size_t n)
{
    const X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    buf[0] = '\0';
    if (i < 0)
        return 0;
    if (X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
        return -1;
    unsigned char *utf8 = NULL;
    int len = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    if (len < 0)
        return -1;
    snprintf(buf, n, "%.*s", (int)strnlen((char *)utf8, (size_t)len), (char *)utf8);
    OPENSSL_free(utf8);
    return 0;
}

/* Up to MAX_URIS subjectAltName URIs, copied into store (each NUL-terminated). */
static int san_uris(X509 *x, char store[MAX_URIS][128], const char *uris[MAX_URIS])
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int n = 0;
    for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && n < MAX_URIS; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_URI)
            continue;
        const ASN1_IA5STRING *s = g->d.uniformResourceIdentifier;
        int len = ASN1_STRING_length(s);
        snprintf(store[n], sizeof store[n], "%.*s",
                 (int)strnlen((const char *)ASN1_STRING_get0_data(s), (size_t)len),
                 (const char *)ASN1_STRING_get0_data(s));
        uris[n] = store[n];
        n++;
    }
    GENERAL_NAMES_free(names);
    return n;
}

static int serial_and_expiry(X509 *x, struct certid *id)
{
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
    char *h = bn ? BN_bn2hex(bn) : NULL;
    struct tm tm;
    int rc = -1;
    if (h && strlen(h) < sizeof id->serial &&
        ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1) {
        for (size_t i = 0; h[i]; i++)
            id->serial[i] = (char)(h[i] >= 'A' && h[i] <= 'F' ? h[i] + 32 : h[i]);
        id->serial[strlen(h)] = '\0';
        id->not_after_ms = (int64_t)timegm(&tm) * 1000;
        rc = 0;
    }
    OPENSSL_free(h);
    BN_free(bn);
    return rc;
}

static int identify(X509 *x, const unsigned char *der, size_t len, struct certid *id,
                    char *why, size_t why_size)
{
    char cn[256], store[MAX_URIS][128];
    const char *uris[MAX_URIS];
    memset(id, 0, sizeof *id);
    if (pem_sha256_hex(der, len, id->sha256) < 0 || serial_and_expiry(x, id) < 0) {
        snprintf(why, why_size, "the certificate cannot be read (serial, dates)");
        return -1;
    }
    if (common_name(x, cn, sizeof cn) < 0) {
        snprintf(why, why_size, "the certificate's subject has several or unreadable CNs");
        return -1;
    }
    int nuris = san_uris(x, store, uris);
    return certid_pick_code(cn[0] ? cn : NULL, uris, nuris, id->code, why, why_size);
}

int certid_from_pem_file(const char *path, struct certid *id, FILE *errs)
{
    FILE *f = fopen(path, "r");
    X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    unsigned char *der = NULL;
    int len = x ? i2d_X509(x, &der) : -1;
    char why[300];
    int rc = -1;
    if (!f)
        fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
    else if (len <= 0)
        fprintf(errs, "%s: not a PEM certificate\n", path);
    else if ((rc = identify(x, der, (size_t)len, id, why, sizeof why)) < 0)
        fprintf(errs, "%s: %s\n", path, why);
    OPENSSL_free(der);
    X509_free(x);
    if (f)
        fclose(f);
    return rc;
}
