/* The bureau's CA (enrol_ca.h). */
#include "enrol_ca.h"

#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certs.h"
#include "file_set.h"
#include "pem.h"
#include "secret_file.h"
#include "x509_build.h"

#define CA_FILE_MAX (64 * 1024) /* a certificate or a key; bigger is the wrong file */
#define DAY_SECONDS 86400
#define BACKDATE 3600 /* valid from an hour before: clocks differ a little */

struct enrol_ca {
    X509 *cert;
    EVP_PKEY *key;
};

X509 *enrol_ca_cert(const struct enrol_ca *ca)
{
    return ca->cert;
}

EVP_PKEY *enrol_ca_key(const struct enrol_ca *ca)
{
    return ca->key;
}

void enrol_ca_free(struct enrol_ca *ca)
{
    if (!ca)
        return;
    X509_free(ca->cert);
    EVP_PKEY_free(ca->key);
    free(ca);
}

/* ---- making one ---------------------------------------------------------------- */

static int check_args(const char *name, int days, FILE *errs)
{
    int bad = 0;
    size_t n = strlen(name);
    bool printable = n > 0 && n <= ENROL_CA_NAME_MAX;
    for (size_t i = 0; i < n; i++)
        printable &= (unsigned char)name[i] >= 0x20 && name[i] != 0x7f;
    if (!printable) {
        fprintf(errs, "CA name \"%.*s\": 1 to %d bytes without control characters\n",
                ENROL_CA_NAME_MAX, name, ENROL_CA_NAME_MAX);
        bad = -1;
    }
    if (days < 1 || days > ENROL_CA_DAYS_MAX) {
        fprintf(errs, "CA validity %d days: 1 to %d\n", days, ENROL_CA_DAYS_MAX);
        bad = -1;
    }
    return bad;
}

static int make_dir(const char *dir, FILE *errs)
{
    struct stat st;
    if (mkdir(dir, 0700) == 0)
        return 0;
    if (errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    fprintf(errs, "%s: cannot make the CA's folder: %s\n", dir,
            errno == EEXIST ? "not a folder" : strerror(errno));
    return -1;
}

static X509 *self_signed(EVP_PKEY *key, const char *name, int days, int64_t now,
                         const char *what, FILE *errs)
{
    X509 *x = xb_new_cert(key, name, NULL, now - BACKDATE, now + (int64_t)days * DAY_SECONDS,
                          what, errs);
    if (x && xb_add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:0", what,
                        errs) == 0 &&
        xb_add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign", what, errs) == 0 &&
        xb_add_ext(x, NULL, NID_subject_key_identifier, "hash", what, errs) == 0 &&
        xb_add_ext(x, NULL, NID_authority_key_identifier, "keyid:always", what, errs) == 0 &&
        xb_sign(x, key, what, errs) == 0)
        return x;
    X509_free(x);
    return NULL;
}

/* Both files or neither: a key without its certificate (or the reverse) is no CA. */
static int write_ca(const char *dir, X509 *x, EVP_PKEY *key, FILE *errs)
{
    char kpath[PATH_MAX], cpath[PATH_MAX];
    char *kpem = pem_of_key(key), *cpem = pem_of_cert(x);
    struct file_set *s = file_set_new();
    struct file_spec secret = {0600, (uid_t)-1, (gid_t)-1, true},
                     public = {0644, (uid_t)-1, (gid_t)-1, true};
    int rc = -1;
    if (snprintf(kpath, sizeof kpath, "%s/" ENROL_CA_KEY, dir) >= (int)sizeof kpath ||
        snprintf(cpath, sizeof cpath, "%s/" ENROL_CA_CERT, dir) >= (int)sizeof cpath)
        fprintf(errs, "%s: the folder's name is too long\n", dir);
    else if (!kpem || !cpem || !s)
        fprintf(errs, "%s: out of memory\n", dir);
    else if (file_set_add(s, kpath, kpem, strlen(kpem), &secret, errs) == 0 &&
             file_set_add(s, cpath, cpem, strlen(cpem), &public, errs) == 0 &&
             file_set_commit(s, errs) == 0)
        rc = file_set_finish(s, errs);
    file_set_free(s);
    if (kpem)
        OPENSSL_cleanse(kpem, strlen(kpem));
    free(kpem);
    free(cpem);
    return rc;
}

int enrol_ca_create(const char *dir, const char *name, int days, int64_t now, FILE *errs)
{
    if (check_args(name, days, errs) < 0 || make_dir(dir, errs) < 0)
        return -1;
    EVP_PKEY *key = xb_new_key(dir, errs);
    X509 *x = key ? self_signed(key, name, days, now, dir, errs) : NULL;
    int rc = x ? write_ca(dir, x, key, errs) : -1;
    X509_free(x);
    EVP_PKEY_free(key);
    return rc;
}

/* ---- loading one --------------------------------------------------------------- */

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

static void wipe_free(char *s, size_t n)
{
    if (s)
        OPENSSL_cleanse(s, n);
    free(s);
}

static X509 *load_cert(const char *path, FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *text = NULL;
    size_t n = 0;
    if (public_file_read(path, "CA certificate", CA_FILE_MAX, &heap, &text, &n, errs) < 0)
        return NULL;
    X509 *x = pem_cert(text, path, errs);
    free(text);
    return x;
}

static EVP_PKEY *load_key(const char *path, FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *text = NULL;
    size_t n = 0;
    if (secret_file_read(path, "CA key", CA_FILE_MAX, &heap, &text, &n, errs) < 0)
        return NULL;
    EVP_PKEY *k = pem_key(text, path, errs);
    wipe_free(text, n);
    return k;
}

/* A CA that may sign (keyCertSign) and is valid now. */
static int check_ca(X509 *x, const char *path, int64_t now, FILE *errs)
{
    char msg[PATH_MAX + 80];
    int bad = 0;
    if (X509_check_ca(x) < 1 || !(X509_get_key_usage(x) & KU_KEY_CERT_SIGN)) {
        fprintf(errs, "%s: not a CA certificate (CA:TRUE and keyCertSign)\n", path);
        bad = -1;
    }
    int dates = cert_check_dates(path, now * 1000, msg, sizeof msg);
    if (dates != 0) {
        fprintf(errs, "%s\n", msg);
        bad = -1;
    }
    return bad;
}

struct enrol_ca *enrol_ca_load(const char *cert_path, const char *key_path, int64_t now,
                               FILE *errs)
{
    struct enrol_ca *ca = calloc(1, sizeof *ca);
    if (!ca) {
        fprintf(errs, "%s: out of memory\n", cert_path);
        return NULL;
    }
    ca->cert = load_cert(cert_path, errs);
    ca->key = load_key(key_path, errs);
    if (!ca->cert || !ca->key || check_ca(ca->cert, cert_path, now, errs) < 0)
        goto fail;
    if (!pem_key_matches(ca->cert, ca->key)) {
        fprintf(errs, "%s: not the key of the CA certificate %s\n", key_path, cert_path);
        goto fail;
    }
    return ca;
fail:
    enrol_ca_free(ca);
    return NULL;
}

struct enrol_ca *enrol_ca_load_dir(const char *dir, int64_t now, FILE *errs)
{
    char kpath[PATH_MAX], cpath[PATH_MAX];
    if (snprintf(kpath, sizeof kpath, "%s/" ENROL_CA_KEY, dir) >= (int)sizeof kpath ||
        snprintf(cpath, sizeof cpath, "%s/" ENROL_CA_CERT, dir) >= (int)sizeof cpath) {
        fprintf(errs, "%s: the folder's name is too long\n", dir);
        return NULL;
    }
    return enrol_ca_load(cpath, kpath, now, errs);
}
