/* Bearer tokens (token.h). */
#include "token.h"

#include <openssl/crypto.h>
#include <string.h>

#include "pem.h"

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
    pem_sha256_hex(token, len, out); /* on failure 64 'x': matches no stored digest */
}

bool token_digest_equal(const char *a, const char *b)
{
    return strlen(a) == 64 && strlen(b) == 64 && CRYPTO_memcmp(a, b, 64) == 0;
}
