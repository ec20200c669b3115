/* The read API's bearer tokens (pull_auth.h). */
#include "pull_auth.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "intake.h"
#include "secret_file.h"
#include "token.h"

#define FILE_MAX (256 * 1024)
#define TOKENS_MAX 1000

struct pull_auth {
    int n;
    bool enabled;          /* a token file was named */
    char digest[][65];     /* SHA-256 of each token, lower-case hex */
};

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

/* The lines of text that are tokens, each hashed into a->digest (a may be NULL:
 * count only). The number of problems. */
static int read_tokens(const char *path, char *text, struct pull_auth *a, int *count,
                       FILE *errs)
{
    int bad = 0, line = 0;
    *count = 0;
    for (char *s = text, *next; s && *s; s = next) {
        next = strchr(s, '\n');
        if (next)
            *next++ = '\0';
        line++;
        size_t len = token_trim(s, strlen(s));
        while (len > 0 && (*s == ' ' || *s == '\t'))
            s++, len--;
        if (len == 0 || *s == '#')
            continue;
        if (!token_valid(s, len)) {
            fprintf(errs, "%s:%d: not a token (%d to %d printable ASCII characters without "
                          "blanks)\n", path, line, TOKEN_MIN, TOKEN_MAX);
            bad++;
        } else if (a) {
            token_sha256_hex(s, len, a->digest[*count]);
        }
        (*count)++;
    }
    return bad;
}

static struct pull_auth *parse(const char *path, char *text, size_t len, FILE *errs)
{
    char *copy = malloc(len + 1);
    struct pull_auth *a = NULL;
    int n = 0;
    if (!copy) {
        fprintf(errs, "%s: out of memory\n", path);
        goto fail;
    }
    memcpy(copy, text, len + 1);
    /* First count (and report), then hash into a table of the right size. */
    if (read_tokens(path, copy, NULL, &n, errs) > 0)
        goto fail;
    if (n > TOKENS_MAX) {
        fprintf(errs, "%s: %d tokens; at most %d\n", path, n, TOKENS_MAX);
        goto fail;
    }
    if (!(a = calloc(1, sizeof *a + (size_t)n * sizeof a->digest[0]))) {
        fprintf(errs, "%s: out of memory\n", path);
        goto fail;
    }
    read_tokens(path, text, a, &a->n, errs);
    a->enabled = true;
fail:
    if (copy)
        explicit_bzero(copy, len);
    free(copy);
    return a;
}

struct pull_auth *pull_auth_load(const char *path, FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    char *text = NULL;
    size_t len = 0;
    if (!path || !path[0])
        return calloc(1, sizeof(struct pull_auth));
    if (secret_file_read(path, "pull token file", FILE_MAX, &heap, &text, &len, errs) < 0)
        return NULL;
    struct pull_auth *a = parse(path, text, len, errs);
    explicit_bzero(text, len);
    free(text);
    if (a && a->n == 0)
        fprintf(errs, "%s: no token in the file (the read API would refuse everybody)\n",
                path);
    return a;
}

void pull_auth_free(struct pull_auth *a)
{
    free(a);
}

int pull_auth_count(const struct pull_auth *a)
{
    return a ? a->n : 0;
}

int pull_auth_check(const struct pull_auth *a, const char *authorization,
                    char reader[PULL_READER_LEN], char *why, size_t n)
{
    const char *token;
    char digest[65];
    size_t len;
    bool found = false;
    if (!a || !a->enabled) {
        snprintf(why, n, "the read API is off at this collector (no [pull] token_file)");
        return 403;
    }
    if (intake_bearer(authorization, &token, &len) < 0) {
        snprintf(why, n, "no bearer token (Authorization: Bearer TOKEN, a pull token)");
        return 401;
    }
    token_sha256_hex(token, len, digest);
    for (int i = 0; i < a->n; i++) /* no early exit: the time says nothing of which */
        found |= token_digest_equal(digest, a->digest[i]);
    if (!found) {
        snprintf(why, n, "the bearer token is not a pull token of this bureau");
        return 401;
    }
    snprintf(reader, PULL_READER_LEN, "%.8s", digest);
    return 0;
}
