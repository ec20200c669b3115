/* PEM text in memory (pem.h). */
#include "pem.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* OpenSSL's reason for the last failure, for the end of a message. */
static const char *ssl_reason(void)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    return r ? r : "not PEM";
}

static BIO *text_bio(const char *text)
{
    return BIO_new_mem_buf(text, -1);
}

/* Reads certificates one after another; *first keeps the first. The loop ends at
 * the text's end (no further BEGIN line) or at a block that does not parse. */
static int read_certs(const char *text, X509 **first, const char *where, FILE *errs)
{
    BIO *b = text_bio(text);
    int n = 0;
    X509 *x;
    if (!b) {
        fprintf(errs, "%s: out of memory\n", where);
        return -1;
    }
    ERR_clear_error();
    while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
        if (n++ == 0 && first)
            *first = x;
        else
            X509_free(x);
    }
    unsigned long e = ERR_peek_last_error();
    bool at_end = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
    BIO_free(b);
    if (n > 0 && at_end) {
        ERR_clear_error();
        return n;
    }
    fprintf(errs, "%s: %s (%s)\n", where,
            n == 0 && at_end ? "no PEM certificate (-----BEGIN CERTIFICATE-----)"
                             : "a certificate that does not parse",
            ssl_reason());
    ERR_clear_error();
    if (first && n > 0) {
        X509_free(*first);
        *first = NULL;
    }
    return -1;
}

X509 *pem_cert(const char *text, const char *where, FILE *errs)
{
    X509 *x = NULL;
    int n = read_certs(text, &x, where, errs);
    if (n > 1) {
        fprintf(errs, "%s: %d certificates where one is expected\n", where, n);
        X509_free(x);
        return NULL;
    }
    return x;
}

int pem_cert_count(const char *text, const char *where, FILE *errs)
{
    return read_certs(text, NULL, where, errs);
}

/* The password callback: a key that needs one is refused, never prompted for. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf, (void)size, (void)rwflag, (void)u;
    return -1;
}

EVP_PKEY *pem_key(const char *text, const char *where, FILE *errs)
{
    BIO *b = text_bio(text);
    if (!b) {
        fprintf(errs, "%s: out of memory\n", where);
        return NULL;
    }
    ERR_clear_error();
    EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, no_password, NULL);
    EVP_PKEY *more = k ? PEM_read_bio_PrivateKey(b, NULL, no_password, NULL) : NULL;
    BIO_free(b);
    if (!k)
        fprintf(errs, "%s: %s (%s)\n", where,
                strstr(text, "ENCRYPTED") ? "an encrypted private key; it must be unencrypted"
                                          : "no private key that parses",
                ssl_reason());
    else if (more) {
        fprintf(errs, "%s: more than one private key\n", where);
        EVP_PKEY_free(k);
        EVP_PKEY_free(more);
        k = NULL;
    }
    ERR_clear_error();
    return k;
}

int pem_key_matches(X509 *x, EVP_PKEY *key)
{
    return X509_check_private_key(x, key) == 1 ? 1 : (ERR_clear_error(), 0);
}

/* What a memory BIO holds, as a malloc'd string; the BIO is freed (and its copy
 * of the text cleared first, for a key). */
static char *bio_text(BIO *b, int ok)
{
    char *data = NULL, *out = NULL;
    long n = b ? BIO_get_mem_data(b, &data) : 0;
    if (ok && n > 0 && (out = malloc((size_t)n + 1))) {
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    if (n > 0)
        OPENSSL_cleanse(data, (size_t)n);
    BIO_free(b);
    return out;
}

char *pem_of_cert(X509 *x)
{
    BIO *b = BIO_new(BIO_s_mem());
    return bio_text(b, b && PEM_write_bio_X509(b, x) == 1);
}

char *pem_of_key(EVP_PKEY *key)
{
    BIO *b = BIO_new(BIO_s_mem());
    return bio_text(b, b && PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL) == 1);
}

static void to_hex(const unsigned char *d, size_t n, char *hex)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[2 * n] = '\0';
}

int pem_sha256_hex(const void *data, size_t len, char hex[PEM_SHA256_HEX])
{
    unsigned char md[32];
    unsigned int n = sizeof md;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != sizeof md) {
        memset(hex, 'x', PEM_SHA256_HEX - 1); /* a digest no stored one can equal */
        hex[PEM_SHA256_HEX - 1] = '\0';
        return -1;
    }
    to_hex(md, sizeof md, hex);
    return 0;
}

int pem_cert_sha256(X509 *x, char hex[PEM_SHA256_HEX])
{
    unsigned char *der = NULL;
    int n = i2d_X509(x, &der);
    if (n <= 0)
        return -1;
    pem_sha256_hex(der, (size_t)n, hex);
    OPENSSL_free(der);
    return 0;
}
