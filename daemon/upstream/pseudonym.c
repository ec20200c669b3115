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

#include "upstream.h"

#define KEY_MIN 32   /* the hash's own size: a shorter key weakens it */
#define KEY_MAX 4096 /* far more than any key; a bigger file is the wrong file */

struct pseudonym {
    unsigned char *key; /* sodium_malloc'd: guarded, wiped on free */
    size_t len;
};

/* Refuses a file that group or others may read: anyone who can read the key can
 * undo every pseudonym the school ever sent. */
static int check_file(const char *path, const struct stat *st, FILE *errs)
{
    if (!S_ISREG(st->st_mode)) {
        fprintf(errs, "%s: not a regular file; the pseudonym key must be a file\n", path);
        return -1;
    }
    if (st->st_mode & 077) {
        fprintf(errs, "%s: mode %04o lets %s read the pseudonym key; chmod 600 it\n", path,
                (unsigned)(st->st_mode & 07777),
                (st->st_mode & 070) && (st->st_mode & 07) ? "group and others"
                : (st->st_mode & 070)                     ? "the group"
                                                          : "others");
        return -1;
    }
    if (st->st_size < KEY_MIN || st->st_size > KEY_MAX) {
        fprintf(errs, "%s: the pseudonym key is %lld bytes; it must be %d to %d "
                      "(make one with: head -c 32 /dev/urandom > %s)\n",
                path, (long long)st->st_size, KEY_MIN, KEY_MAX, path);
        return -1;
    }
    return 0;
}

/* Reads exactly len bytes (the size fstat gave); a file that changes meanwhile is
 * an error rather than half a key. */
static int read_key(int fd, const char *path, unsigned char *key, size_t len, FILE *errs)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, key + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(errs, "%s: cannot read the pseudonym key: %s\n", path,
                    n < 0 ? strerror(errno) : "the file shrank while it was read");
            return -1;
        }
        got += (size_t)n;
    }
    return 0;
}

struct pseudonym *pseudonym_open(const char *secret_file, FILE *errs)
{
    struct pseudonym *p = NULL;
    struct stat st;
    int fd = -1;
    if (sodium_init() < 0) {
        fprintf(errs, "%s: libsodium cannot start (no random source?)\n", secret_file);
        return NULL;
    }
    if ((fd = open(secret_file, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
        fprintf(errs, "%s: cannot open the pseudonym key: %s\n", secret_file, strerror(errno));
        goto fail;
    }
    if (check_file(secret_file, &st, errs) < 0)
        goto fail;
    if (!(p = calloc(1, sizeof *p)) || !(p->key = sodium_malloc((size_t)st.st_size))) {
        fprintf(errs, "%s: out of memory\n", secret_file);
        goto fail;
    }
    p->len = (size_t)st.st_size;
    if (read_key(fd, secret_file, p->key, p->len, errs) < 0)
        goto fail;
    close(fd);
    return p;
fail:
    if (fd >= 0)
        close(fd);
    pseudonym_free(p);
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
