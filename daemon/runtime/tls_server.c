/* Shared TLS setup of the HTTPS servers (tls_server.h). */
#include "tls_server.h"

#include <stdlib.h>

#include "secret_file.h"

#define PEM_MAX (1 << 20)

/* From NORMAL (GnuTLS's vetted defaults: groups, signature algorithms), then every
 * key exchange, cipher and MAC removed and only the wanted ones put back. TLS 1.3
 * suites are all AEAD with (EC)DHE already; the KX list matters for 1.2 only. */
const char tls_server_priorities[] =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
    ":-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA"
    ":-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM:+CHACHA20-POLY1305"
    ":-MAC-ALL:+AEAD";

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

char *tls_server_read_pem(const char *what, const char *path, bool secret, size_t *len,
                          FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *buf = NULL;
    int rc = secret ? secret_file_read(path, what, PEM_MAX, &heap, &buf, len, errs)
                    : public_file_read(path, what, PEM_MAX, &heap, &buf, len, errs);
    if (rc == 0 && *len == 0) {
        fprintf(errs, "%s: the %s is empty\n", path, what);
        free(buf);
        return NULL;
    }
    return rc == 0 ? buf : NULL;
}
