/* A school's client certificate (school_cert.h). */
#include "school_cert.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <time.h>

bool school_code_ok(const char *code)
{
    size_t n = strlen(code);
    if (n == 0 || n > SCHOOL_CODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = code[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int school_cert_uri(const char *code, char *buf, size_t n)
{
    if (!school_code_ok(code))
        return -1;
    int w = snprintf(buf, n, SCHOOL_URI_PREFIX "%s", code);
    return w < 0 || (size_t)w >= n ? -1 : 0;
}

/* The subject's one CN as text; -1 when there is none, several, or it is not a code.
 * A subject with more than the CN is refused too: the convention is CN only, so a
 * certificate from another kind of issuance cannot pass for a school's. */
static int cn_of(X509 *x, char code[SCHOOL_CODE_MAX + 1], const char *where, FILE *errs)
{
    const X509_NAME *name = X509_get_subject_name(x);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    if (i < 0 || X509_NAME_entry_count(name) != 1) {
        fprintf(errs, "%s: the certificate's subject must be CN=<school code> and nothing "
                      "else\n", where);
        return -1;
    }
    unsigned char *utf8 = NULL;
    int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    bool ok = n > 0 && (size_t)n <= SCHOOL_CODE_MAX && memchr(utf8, '\0', (size_t)n) == NULL;
    if (ok) {
        memcpy(code, utf8, (size_t)n);
        code[n] = '\0';
        ok = school_code_ok(code);
    }
    OPENSSL_free(utf8);
    if (!ok)
        fprintf(errs, "%s: the certificate's CN is not a school code (1 to %d letters, "
                      "digits, '_' or '-')\n", where, SCHOOL_CODE_MAX);
    return ok ? 0 : -1;
}

/* How many SAN URIs name a school, and whether one of them is `uri`. */
static int school_uris(X509 *x, const char *uri, bool *found)
{
    GENERAL_NAMES *names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
    int count = 0;
    *found = false;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
        if (g->type != GEN_URI)
            continue;
        const char *s = (const char *)ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
        int len = ASN1_STRING_length(g->d.uniformResourceIdentifier);
        size_t pn = strlen(SCHOOL_URI_PREFIX);
        if ((size_t)len < pn || memcmp(s, SCHOOL_URI_PREFIX, pn) != 0)
            continue;
        count++;
        *found |= (size_t)len == strlen(uri) && memcmp(s, uri, (size_t)len) == 0;
    }
    GENERAL_NAMES_free(names);
    ERR_clear_error();
    return count;
}

int school_cert_code(X509 *x, char code[SCHOOL_CODE_MAX + 1], const char *where, FILE *errs)
{
    char uri[sizeof SCHOOL_URI_PREFIX + SCHOOL_CODE_MAX];
    bool found;
    if (cn_of(x, code, where, errs) < 0)
        return -1;
    school_cert_uri(code, uri, sizeof uri);
    if (school_uris(x, uri, &found) != 1 || !found) {
        fprintf(errs, "%s: the certificate (CN=%s) must have one subjectAltName URI %s\n",
                where, code, uri);
        return -1;
    }
    return 0;
}

static void format_time(const ASN1_TIME *t, char *out, size_t n)
{
    struct tm tm;
    if (!ASN1_TIME_to_tm(t, &tm) || strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm) == 0)
        snprintf(out, n, "an unreadable date");
}

static int check_dates(X509 *x, int64_t now, const char *where, FILE *errs)
{
    time_t t = (time_t)now;
    char when[48];
    if (X509_cmp_time(X509_get0_notAfter(x), &t) < 0) {
        format_time(X509_get0_notAfter(x), when, sizeof when);
        fprintf(errs, "%s: the certificate expired on %s\n", where, when);
        return -1;
    }
    if (X509_cmp_time(X509_get0_notBefore(x), &t) > 0) {
        format_time(X509_get0_notBefore(x), when, sizeof when);
        fprintf(errs, "%s: the certificate is not valid before %s (is this machine's clock "
                      "right?)\n", where, when);
        return -1;
    }
    return 0;
}

int school_cert_check(X509 *x, const char *code, int64_t now, const char *where, FILE *errs)
{
    char named[SCHOOL_CODE_MAX + 1];
    int bad = 0;
    if (school_cert_code(x, named, where, errs) < 0)
        bad = -1;
    else if (strcmp(named, code) != 0) {
        fprintf(errs, "%s: the certificate is school %s's, not %s's\n", where, named, code);
        bad = -1;
    }
    /* X509_get_extension_flags also caches the extensions, parsing them once. */
    if (!(X509_get_extension_flags(x) & EXFLAG_XKUSAGE) ||
        !(X509_get_extended_key_usage(x) & XKU_SSL_CLIENT)) {
        fprintf(errs, "%s: the certificate's extendedKeyUsage does not allow clientAuth\n",
                where);
        bad = -1;
    }
    bad |= check_dates(x, now, where, errs);
    return bad ? -1 : 0;
}
