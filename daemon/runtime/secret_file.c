#include "secret_file.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The checks on an open file (the mode only for a secret); its size into *size. */
static int check_fd(int fd, const char *path, const char *what, bool secret, off_t *size,
                    FILE *errs)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        fprintf(errs, "%s: cannot read the %s: %s\n", path, what, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(errs, "%s: not a regular file; the %s must be a file\n", path, what);
        return -1;
    }
    if (secret && (st.st_mode & (S_IRWXG | S_IRWXO))) {
        fprintf(errs, "%s: mode %04o lets group or others read it; chmod 600 it\n", path,
                (unsigned)(st.st_mode & 07777));
        return -1;
    }
    *size = st.st_size;
    return 0;
}

static int open_checked(const char *path, const char *what, bool secret, off_t *size,
                        FILE *errs)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(errs, "%s: cannot open the %s: %s\n", path, what, strerror(errno));
        return -1;
    }
    if (check_fd(fd, path, what, secret, size, errs) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

int secret_file_check(const char *path, const char *what, FILE *errs)
{
    off_t size;
    int fd = open_checked(path, what, true, &size, errs);
    if (fd < 0)
        return -1;
    close(fd);
    return 0;
}

/* Reads exactly len bytes (the size fstat gave); a file that changes meanwhile is
 * an error rather than half a key. */
static int read_all(int fd, const char *path, const char *what, char *buf, size_t len,
                    FILE *errs)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(errs, "%s: cannot read the %s: %s\n", path, what,
                    n < 0 ? strerror(errno) : "the file shrank while it was read");
            return -1;
        }
        got += (size_t)n;
    }
    buf[len] = '\0';
    return 0;
}

static int read_whole(const char *path, const char *what, bool secret, size_t max,
                      const struct secret_alloc *a, char **out, size_t *len, FILE *errs)
{
    off_t size;
    *out = NULL;
    int fd = open_checked(path, what, secret, &size, errs);
    if (fd < 0)
        return -1;
    if ((uintmax_t)size > max) {
        fprintf(errs, "%s: the %s is %lld bytes, more than %zu\n", path, what,
                (long long)size, max);
        goto fail;
    }
    if (!(*out = a->alloc((size_t)size + 1))) {
        fprintf(errs, "%s: out of memory\n", path);
        goto fail;
    }
    if (read_all(fd, path, what, *out, (size_t)size, errs) < 0)
        goto fail;
    *len = (size_t)size;
    close(fd);
    return 0;
fail:
    close(fd);
    if (*out)
        a->release(*out);
    *out = NULL;
    return -1;
}

int secret_file_read(const char *path, const char *what, size_t max,
                     const struct secret_alloc *a, char **out, size_t *len, FILE *errs)
{
    return read_whole(path, what, true, max, a, out, len, errs);
}

int public_file_read(const char *path, const char *what, size_t max,
                     const struct secret_alloc *a, char **out, size_t *len, FILE *errs)
{
    return read_whole(path, what, false, max, a, out, len, errs);
}

int secret_file_read_line(const char *path, const char *what, size_t max, char **out,
                          FILE *errs)
{
    static const struct secret_alloc heap = {malloc, free};
    size_t n;
    if (read_whole(path, what, true, max, &heap, out, &n, errs) < 0)
        return -1;
    (*out)[strcspn(*out, "\r\n")] = '\0';
    return 0;
}

/* A file that is not there yet is left to start to report: a configuration may be
 * checked before its keys are installed (packaging, a test machine). */
static int check_present(const char *path, const char *what, FILE *errs)
{
    if (access(path, F_OK) != 0 && errno == ENOENT)
        return 0;
    return secret_file_check(path, what, errs);
}

/* [upstream]'s files are checked by the uploader's own start check
 * (uploader_check_files), which --check-config runs too. */
int secret_file_check_config(const struct config *cfg, FILE *errs)
{
    int rc = 0;
    if (cfg->web.enabled && *cfg->web.tls_key)
        rc = check_present(cfg->web.tls_key, "TLS key", errs);
    /* The terminals' listener refuses to start without them: say so now. */
    for (int i = 0; i < cfg->nterminals; i++)
        if (*cfg->terminal[i].password_file &&
            secret_file_check(cfg->terminal[i].password_file, "terminal password file", errs) < 0)
            rc = -1;
    return rc;
}
