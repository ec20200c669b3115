/* The pull API's tokens (pull_auth.h). */
#include "pull_auth.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "secret_file.h"
#include "token.h"

#define TOKENS_MAX (2 * BCFG_PULL_MAX)

struct digests {
    int n;
    char hex[TOKENS_MAX][65];
};

struct pull_auth {
    pthread_mutex_t lock;
    struct digests d;
};

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

/* A token file's token, hashed; the token itself is wiped. */
static int file_digest(const char *path, char out[65], FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *text = NULL;
    size_t len = 0;
    if (secret_file_read(path, "pull token file", TOKEN_MAX + 8, &heap, &text, &len, errs) < 0)
        return -1;
    len = token_trim(text, len);
    int rc = token_valid(text, len) ? 0 : -1;
    if (rc == 0)
        token_sha256_hex(text, len, out);
    else
        fprintf(errs, "%s: a pull token must be one line of %d to %d printable ASCII "
                      "characters without spaces\n", path, TOKEN_MIN, TOKEN_MAX);
    explicit_bzero(text, len);
    free(text);
    return rc;
}

static int load(struct digests *d, const struct bcfg_pull *cfg, FILE *errs)
{
    int rc = 0;
    memset(d, 0, sizeof *d);
    for (int i = 0; i < cfg->n_token_files; i++)
        if (file_digest(cfg->token_files[i], d->hex[d->n], errs) == 0)
            d->n++;
        else
            rc = -1;
    for (int i = 0; i < cfg->n_token_sha256; i++)
        memcpy(d->hex[d->n++], cfg->token_sha256[i], 65);
    return rc;
}

struct pull_auth *pull_auth_new(const struct bcfg_pull *cfg, FILE *errs)
{
    struct pull_auth *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(errs, "out of memory\n");
        return NULL;
    }
    if (load(&a->d, cfg, errs) < 0) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    return a;
}

int pull_auth_reload(struct pull_auth *a, const struct bcfg_pull *cfg, FILE *errs)
{
    struct digests d;
    if (load(&d, cfg, errs) < 0)
        return -1;
    pthread_mutex_lock(&a->lock);
    a->d = d;
    pthread_mutex_unlock(&a->lock);
    explicit_bzero(&d, sizeof d);
    return 0;
}

void pull_auth_free(struct pull_auth *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    explicit_bzero(a, sizeof *a);
    free(a);
}

/* The index of the digest equal to hex, or -1: every digest is compared, whatever
 * matched before. */
static int find(const struct digests *d, const char *hex)
{
    int found = -1;
    for (int i = 0; i < d->n; i++) {
        bool eq = token_digest_equal(hex, d->hex[i]);
        found = eq ? i : found;
    }
    return found;
}

int pull_auth_check(struct pull_auth *a, const char *authorization,
                    char label[PULL_LABEL_LEN], char *why, size_t why_size)
{
    static const char bearer[] = "Bearer ";
    char hex[65];
    label[0] = '\0';
    pthread_mutex_lock(&a->lock);
    int n = a->d.n;
    pthread_mutex_unlock(&a->lock);
    if (n == 0) {
        snprintf(why, why_size, "the pull API is off on this collector (no [pull] tokens in "
                                "its configuration)");
        return 403;
    }
    if (!authorization || strncmp(authorization, bearer, sizeof bearer - 1) != 0) {
        snprintf(why, why_size, "a pull needs Authorization: Bearer TOKEN");
        return 401;
    }
    const char *token = authorization + sizeof bearer - 1;
    size_t len = strlen(token);
    token_sha256_hex(token, len, hex);
    pthread_mutex_lock(&a->lock);
    int i = token_valid(token, len) ? find(&a->d, hex) : -1;
    pthread_mutex_unlock(&a->lock);
    if (i < 0) {
        snprintf(why, why_size, "the bearer token is not one of this collector's pull tokens");
        return 401;
    }
    snprintf(label, PULL_LABEL_LEN, "%.12s", hex);
    return 0;
}
