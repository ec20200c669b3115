/* The client certificate (peer.h), through GnuTLS, libmicrohttpd's TLS library.
 *
 * Verifying the chain and reading the certificate (libcrypto) cost more than all the
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
    if (certid_from_der(chain[0].data, chain[0].size, id, why, why_size) < 0)
        return -1;
    if (cacheable)
        cache_put(session, trust, digest, id);
    return 0;
}
