/* Certificate dates (see certs.h), read with OpenSSL's libcrypto. */
#include "certs.h"

#include <errno.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void format_asn1_time(const ASN1_TIME *t, char *out, size_t n)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm) || strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, n, "an unreadable date");
}

static X509 *read_pem(const char *path, char *msg, size_t n)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(msg, n, "%s: %s", path, strerror(errno));
        return NULL;
    }
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    if (!x)
        snprintf(msg, n, "%s: not a PEM certificate", path);
    return x;
}

int cert_check_dates(const char *path, int64_t now_ms, char *msg, size_t n)
{
    X509 *x = read_pem(path, msg, n);
    if (!x)
        return -1;
    time_t now = (time_t)(now_ms / 1000);
    char when[48];
    int rc = 0;
    if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0) {
        format_asn1_time(X509_get0_notAfter(x), when, sizeof when);
        snprintf(msg, n, "%s expired on %s", path, when);
        rc = 1;
    } else if (X509_cmp_time(X509_get0_notBefore(x), &now) > 0) {
        format_asn1_time(X509_get0_notBefore(x), when, sizeof when);
        snprintf(msg, n, "%s is not valid before %s", path, when);
        rc = 1;
    }
    X509_free(x);
    return rc;
}
