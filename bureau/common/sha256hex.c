/* SHA-256 as hex (sha256hex.h), with libcrypto. */
#include "sha256hex.h"

#include <openssl/evp.h>
#include <string.h>

int sha256_hex(const void *data, size_t len, char out[SHA256_HEX_LEN])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int n = 0;
    if (!EVP_Digest(data, len, md, &n, EVP_sha256(), NULL) || n != sizeof md) {
        memset(out, 'x', SHA256_HEX_LEN - 1);
        out[SHA256_HEX_LEN - 1] = '\0';
        return -1;
    }
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[SHA256_HEX_LEN - 1] = '\0';
    return 0;
}
