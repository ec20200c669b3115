/* Keyed pseudonyms of people for urgent notices (PIPL art. 28): lower-case hex
 * HMAC-SHA-256 of the person's external id under a school secret. The same person
 * gets the same pseudonym in every notice, so the bureau can follow a case, but
 * without the key nobody can go from a pseudonym back to a student number (a plain
 * hash of a short id could be reversed by trying every number).
 *
 * The key is the secret file's bytes exactly as they are, a trailing newline
 * included: `head -c 32 /dev/urandom > FILE` and `openssl rand -hex 32 > FILE`
 * (65 bytes with its newline) both make a good key. Nothing is trimmed, so the
 * pseudonyms never depend on how a tool or an editor treats line ends; but editing
 * the file changes every pseudonym. 32 to 4096 bytes. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secret_file.h"
#include "upstream.h"

#define KEY_MIN 32   /* the hash's own size: a shorter key weakens it */
#define KEY_MAX 4096 /* far more than any key; a bigger file is the wrong file */

struct pseudonym {
    unsigned char *key; /* sodium_malloc'd: guarded, wiped on free */
    size_t len;
};

static void *key_alloc(size_t n)
{
    return sodium_malloc(n);
}

static void key_free(void *key)
{
    sodium_free(key);
}

/* Anyone who can read the key can undo every pseudonym the school ever sent:
 * secret_file_read refuses a file group or others may read. */
struct pseudonym *pseudonym_open(const char *secret_file, FILE *errs)
{
    static const struct secret_alloc guarded = {key_alloc, key_free};
    struct pseudonym *p = NULL;
    char *key = NULL;
    size_t len = 0;
    if (sodium_init() < 0) {
        fprintf(errs, "%s: libsodium cannot start (no random source?)\n", secret_file);
        return NULL;
    }
    if (secret_file_read(secret_file, "pseudonym key", KEY_MAX, &guarded, &key, &len, errs) < 0)
        return NULL;
    if (len < KEY_MIN) {
        fprintf(errs, "%s: the pseudonym key is %zu bytes; it must be %d to %d "
                      "(make one with: head -c 32 /dev/urandom > %s)\n",
                secret_file, len, KEY_MIN, KEY_MAX, secret_file);
        goto fail;
    }
    if (!(p = calloc(1, sizeof *p))) {
        fprintf(errs, "%s: out of memory\n", secret_file);
        goto fail;
    }
    p->key = (unsigned char *)key;
    p->len = len;
    return p;
fail:
    sodium_free(key);
    return NULL;
}

void pseudonym_free(struct pseudonym *p)
{
    if (!p)
        return;
    sodium_free(p->key); /* wipes it; NULL is fine */
    free(p);
}

void pseudonym_of(const struct pseudonym *p, const char *external_id, char out[65])
{
    crypto_auth_hmacsha256_state st;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    /* The streaming form takes a key of any length (the one-shot wants 32 bytes). */
    crypto_auth_hmacsha256_init(&st, p->key, p->len);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)external_id, strlen(external_id));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_bin2hex(out, 65, mac, sizeof mac);
    sodium_memzero(&st, sizeof st);
}
