/* The client certificate (peer.h), through GnuTLS, libmicrohttpd's TLS library. */
#include "peer.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>

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
    return certid_from_der(chain[0].data, chain[0].size, id, why, why_size);
}
