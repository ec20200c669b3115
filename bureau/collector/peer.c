/* The client certificate (peer.h), through GnuTLS, libmicrohttpd's TLS library.
 *
 * libmicrohttpd only asks for the client's certificate (GNUTLS_CERT_REQUEST); GnuTLS
 * checks in the handshake that the client holds the certificate's key, not who issued
 * it: the chain is verified here, once per connection.
 *
 * Verifying the chain and reading the certificate cost more than all the
 * rest of a keep-alive request: 38% of the collector's CPU in tests/bench/
 * bench_ingest.py. A connection shows the same certificate for every request on it,
 * so its first request's verdict is kept for the next ones: by the TLS session and
 * the certificate's SHA-256, for a minute at most and never past the certificate's
 * end. A request on a kept-alive connection then costs one SHA-256 of the
 * certificate's few hundred bytes. A new connection is always verified (its session is
 * another), and so is a certificate that failed (not kept: refused again each time).
 * What can change within the minute is checked on every request anyway, in the
 * database: the credential, its revocation, its school (collector_upload.c). */
#include "peer.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"

#define CACHE_SLOTS 4096 /* a power of two, over the collector's 2048 connections */
#define CACHE_TTL_MS 60000
#define DIGEST_LEN 32

struct verified {
    const void *session; /* the connection's TLS session it was verified on */
    const void *trust;   /* and the TLS credentials (the trust list) it was verified by */
    unsigned char digest[DIGEST_LEN];
    struct certid id;
    int64_t until_mono_ms;
};

/* One table for the process, by session: a session's address may be reused by a
 * later connection, but only the same certificate (SHA-256) under the same trust list
 * is then taken for verified, and it was. */
static struct verified cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct verified *slot_of(const void *session)
{
    uint64_t h = (uint64_t)(uintptr_t)session * 0x9e3779b97f4a7c15ULL;
    return &cache[(h >> 32) & (CACHE_SLOTS - 1)];
}

static bool cache_get(const void *session, const void *trust, const unsigned char *digest,
                      struct certid *id)
{
    struct verified *v = slot_of(session);
    pthread_mutex_lock(&cache_lock);
    bool hit = v->session == session && v->trust == trust &&
               memcmp(v->digest, digest, DIGEST_LEN) == 0 && clock_mono_ms() < v->until_mono_ms;
    if (hit)
        *id = v->id;
    pthread_mutex_unlock(&cache_lock);
    return hit;
}

static void cache_put(const void *session, const void *trust, const unsigned char *digest,
                      const struct certid *id)
{
    int64_t left = id->not_after_ms - clock_wall_ms();
    if (left <= 0)
        return;
    struct verified *v = slot_of(session);
    pthread_mutex_lock(&cache_lock);
    v->session = session;
    v->trust = trust;
    memcpy(v->digest, digest, DIGEST_LEN);
    v->id = *id;
    v->until_mono_ms = clock_mono_ms() + (left < CACHE_TTL_MS ? left : CACHE_TTL_MS);
    pthread_mutex_unlock(&cache_lock);
}

/* Why verification failed, in GnuTLS's words ("The certificate issuer is unknown.",
 * "The certificate chain uses expired certificate."). */
static void status_text(unsigned status, char *why, size_t n)
{
    gnutls_datum_t out = {NULL, 0};
    if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
        snprintf(why, n, "the client certificate is not accepted: %s", (const char *)out.data);
        gnutls_free(out.data);
    } else {
        snprintf(why, n, "the client certificate is not accepted (status 0x%x)", status);
    }
}

/* ---- the certificate's identity, read with GnuTLS --------------------------------- */

/* Reading the certificate again with libcrypto (as certid.c does for the CLI) was 7.5%
 * of the collector's CPU per fresh upload (tests/bench/README.md). GnuTLS has the DER
 * at hand and reads the same fields; the school code is still certid_pick_code's, the
 * one rule, and the fingerprint the SHA-256 of the same DER (credentials.cert_sha256,
 * as the CLI registered it). test_bureau_collector uploads with certificates of both
 * forms (the code in a SAN URI, in the CN alone). */

/* Lower-case hex of n bytes into out (2n + 1 bytes). */
static int hex_of(const unsigned char *b, size_t n, char *out)
{
    gnutls_datum_t d = {(unsigned char *)b, (unsigned)n};
    size_t size = 2 * n + 1;
    return gnutls_hex_encode(&d, out, &size) == 0 ? 0 : -1;
}

/* The serial as certid.c writes it (BN_bn2hex, lower case): no leading zero
 * bytes. */
static int serial_of(gnutls_x509_crt_t crt, struct certid *id)
{
    unsigned char buf[40];
    size_t n = sizeof buf, i = 0;
    if (gnutls_x509_crt_get_serial(crt, buf, &n) < 0 || n == 0)
        return -1;
    while (i + 1 < n && buf[i] == 0)
        i++;
    if (2 * (n - i) >= sizeof id->serial)
        return -1;
    if (n - i == 1 && buf[i] == 0) {
        snprintf(id->serial, sizeof id->serial, "0");
        return 0;
    }
    return hex_of(buf + i, n - i, id->serial);
}

/* The subject's one CN ("" when none; -1 when several or unreadable). */
static int common_name_of(gnutls_x509_crt_t crt, char *cn, size_t n)
{
    size_t len = n;
    cn[0] = '\0';
    int rc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len);
    if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
        return 0;
    if (rc < 0 || strlen(cn) != len)
        return -1;
    char more[8];
    size_t more_len = sizeof more;
    rc = gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 1, 0, more, &more_len);
    return rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE ? 0 : -1;
}

#define MAX_URIS 8

static int identity_of(const gnutls_datum_t *der, const unsigned char *digest,
                       struct certid *id, char *why, size_t why_size)
{
    gnutls_x509_crt_t crt = NULL;
    char cn[256], store[MAX_URIS][128];
    const char *uris[MAX_URIS];
    int nuris = 0, rc = -1;
    unsigned char own[DIGEST_LEN];
    memset(id, 0, sizeof *id);
    if (!digest && gnutls_hash_fast(GNUTLS_DIG_SHA256, der->data, der->size, own) == 0)
        digest = own;
    if (!digest || gnutls_x509_crt_init(&crt) < 0 ||
        gnutls_x509_crt_import(crt, der, GNUTLS_X509_FMT_DER) < 0) {
        snprintf(why, why_size, "not a DER X.509 certificate");
        goto out;
    }
    time_t until = gnutls_x509_crt_get_expiration_time(crt);
    if (hex_of(digest, DIGEST_LEN, id->sha256) < 0 || serial_of(crt, id) < 0 ||
        until == (time_t)-1) {
        snprintf(why, why_size, "the certificate cannot be read (serial, dates)");
        goto out;
    }
    id->not_after_ms = (int64_t)until * 1000;
    if (common_name_of(crt, cn, sizeof cn) < 0) {
        snprintf(why, why_size, "the certificate's subject has several or unreadable CNs");
        goto out;
    }
    for (unsigned seq = 0; nuris < MAX_URIS; seq++) {
        size_t len = sizeof store[nuris];
        int type = gnutls_x509_crt_get_subject_alt_name(crt, seq, store[nuris], &len, NULL);
        if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
            break;
        if (type == GNUTLS_E_SHORT_MEMORY_BUFFER) { /* no school's: refused, not skipped */
            snprintf(why, why_size, "the certificate has a subjectAltName over %zu bytes",
                     sizeof store[nuris] - 1);
            goto out;
        }
        if (type == GNUTLS_SAN_URI && strlen(store[nuris]) == len) {
            uris[nuris] = store[nuris];
            nuris++;
        }
    }
    rc = certid_pick_code(cn[0] ? cn : NULL, uris, nuris, id->code, why, why_size);
out:
    gnutls_x509_crt_deinit(crt);
    return rc;
}

int peer_identify(struct MHD_Connection *conn, struct certid *id, char *why, size_t why_size)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    gnutls_session_t session = info ? (gnutls_session_t)info->tls_session : NULL;
    unsigned n = 0, status = 0;
    const gnutls_datum_t *chain = session ? gnutls_certificate_get_peers(session, &n) : NULL;
    if (!chain || n == 0) {
        snprintf(why, why_size, "no client certificate: a school sends the certificate from "
                                "its enrolment");
        return -1;
    }
    void *trust = NULL;
    unsigned char digest[DIGEST_LEN];
    bool cacheable = gnutls_credentials_get(session, GNUTLS_CRD_CERTIFICATE, &trust) == 0 &&
                     trust &&
                     gnutls_hash_fast(GNUTLS_DIG_SHA256, chain[0].data, chain[0].size,
                                      digest) == 0;
    if (cacheable && cache_get(session, trust, digest, id))
        return 0;
    /* A school's certificate must be made for TLS clients (extendedKeyUsage). */
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                     .data = (void *)GNUTLS_KP_TLS_WWW_CLIENT};
    int rc = gnutls_certificate_verify_peers(session, &purpose, 1, &status);
    if (rc < 0) {
        snprintf(why, why_size, "the client certificate cannot be verified: %s",
                 gnutls_strerror(rc));
        return -1;
    }
    if (status != 0) {
        status_text(status, why, why_size);
        return -1;
    }
    if (identity_of(&chain[0], cacheable ? digest : NULL, id, why, why_size) < 0)
        return -1;
    if (cacheable)
        cache_put(session, trust, digest, id);
    return 0;
}
