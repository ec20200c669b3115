/* The uploader's files (uploader.h, upload_private.h): the [upstream] token, CA,
 * client certificate and key, and the pseudonym key, checked before the daemon
 * starts, at every reload and before `gatescreen upload`. All the problems are
 * reported at once, so one edit fixes them all; the token is read here and only
 * here, and wiped when freed. */
#include "uploader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certs.h"
#include "clock.h"
#include "log.h"
#include "secret_file.h"
#include "upload_private.h"
#include "upstream.h"

#define TOKEN_MAX 4096         /* a bearer token is far shorter; a big file is the wrong one */

void creds_free(struct creds *c)
{
    if (c->token) {
        explicit_bzero(c->token, strlen(c->token)); /* not left lying in freed memory */
        free(c->token);
    }
    pseudonym_free(c->ps);
    *c = (struct creds){0};
}

/* The token without its line end: one line of printable ASCII (it goes into a
 * header: a stray CR or LF there would inject headers). */
static int token_text(const char *path, char *buf, size_t len, FILE *errs)
{
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
        buf[--len] = '\0';
    if (len == 0) {
        fprintf(errs, "%s: the token file is empty\n", path);
        return -1;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)buf[i] <= 0x20 || (unsigned char)buf[i] >= 0x7f) {
            fprintf(errs, "%s: the token must be one line of printable ASCII without "
                          "spaces\n", path);
            return -1;
        }
    return 0;
}

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

static int read_token(const char *path, char **token, FILE *errs)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    size_t len;
    if (secret_file_read(path, "token file", TOKEN_MAX, &heap, token, &len, errs) < 0)
        return -1;
    if (token_text(path, *token, len, errs) < 0) {
        free(*token);
        *token = NULL;
        return -1;
    }
    return 0;
}

static int check_readable(const char *path, const char *what, FILE *errs)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(errs, "%s: cannot read the %s: %s\n", path, what, strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

/* Every file check, all problems reported; *c holds the token and key on success. */
int creds_load(const struct cfg_upstream *u, struct creds *c, FILE *errs)
{
    int bad = 0;
    *c = (struct creds){0};
    if (!u->enabled)
        return 0;
    if (*u->token_file)
        bad |= read_token(u->token_file, &c->token, errs);
    bad |= check_readable(u->ca_file, "CA file", errs);
    if (*u->client_cert)
        bad |= check_readable(u->client_cert, "client certificate", errs);
    char msg[CFG_TEXT_MAX + 64];
    /* Expired is not a reason to stop the gate: warn now, refuse each send. */
    if (*u->client_cert && cert_check_dates(u->client_cert, clock_wall_ms(), msg,
                                            sizeof msg) == 1)
        log_warn("upstream: client certificate %s: nothing will be sent until it is renewed",
                 msg);
    if (*u->client_key)
        bad |= secret_file_check(u->client_key, "client key", errs); /* like the token */
    if (*u->secret_file && !(c->ps = pseudonym_open(u->secret_file, errs)))
        bad = -1;
    if (bad)
        creds_free(c);
    return bad ? -1 : 0;
}

int uploader_check_files(const struct config *cfg, FILE *errs)
{
    struct creds c;
    int rc = creds_load(&cfg->upstream, &c, errs);
    creds_free(&c);
    return rc;
}
