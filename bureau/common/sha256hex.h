/* SHA-256 as lower-case hex: a certificate's fingerprint, a token's digest, a body's
 * digest (the three the bureau compares) are all written the same way. */
#ifndef GS_SHA256HEX_H
#define GS_SHA256HEX_H

#include <stddef.h>

#define SHA256_HEX_LEN 65 /* with the NUL */

/* 0, or -1 (libcrypto failed) with out set to 64 'x', which matches no digest. */
int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN]);

#endif
