/* Bearer tokens (token.h). */
#include "token.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

bool token_valid(const char *token, size_t len)
{
    if (len < TOKEN_MIN || len > TOKEN_MAX)
        return false;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
            return false;
    return true;
}

size_t token_trim(char *text, size_t len)
{
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        text[--len] = '\0';
    return len;
}

void token_sha256_hex(const char *token, size_t len, char out[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int n = 0;
    if (!EVP_Digest(token, len, md, &n, EVP_sha256(), NULL) || n != sizeof md) {
        memset(out, 'x', 64); /* matches no stored digest: the token is refused */
        out[64] = '\0';
        return;
    }
    for (size_t i = 0; i < sizeof md; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

bool token_digest_equal(const char *a, const char *b)
{
    return strlen(a) == 64 && strlen(b) == 64 && CRYPTO_memcmp(a, b, 64) == 0;
}
