/* Key, token and secret files: the one policy for who may read them. A file that
 * grants any group or other permission bit is refused, whatever the file (the web's
 * TLS key, the upstream client key and token, the pseudonym key): each lets whoever
 * reads it act for the school or undo its pseudonyms. */
#ifndef GS_SECRET_FILE_H
#define GS_SECRET_FILE_H

#include <stddef.h>
#include <stdio.h>

#include "config.h"

/* Opens and checks path (a regular file, mode without group/other bits); problems
 * as "PATH: ..." lines on errs, `what` naming the file ("token file"). */
int secret_file_check(const char *path, const char *what, FILE *errs);
/* Where the bytes go: malloc/free, or sodium_malloc/sodium_free for a key. */
struct secret_alloc {
    void *(*alloc)(size_t);
    void (*release)(void *);
};
/* secret_file_check, then the whole file into a buffer from a->alloc,
 * NUL-terminated; *len excludes the NUL. A file larger than `max` bytes is refused
 * (the wrong file). The caller releases *out. */
int secret_file_read(const char *path, const char *what, size_t max,
                     const struct secret_alloc *a, char **out, size_t *len, FILE *errs);
/* secret_file_read into malloc'd memory, cut at its first line end: a password
 * file as an editor leaves it (a terminal's login). */
int secret_file_read_line(const char *path, const char *what, size_t max, char **out,
                          FILE *errs);
/* The same without the mode check, for a public file (a certificate). */
int public_file_read(const char *path, const char *what, size_t max,
                     const struct secret_alloc *a, char **out, size_t *len, FILE *errs);
/* Checks [web] tls_key if it exists and every [terminal] password_file, so
 * --check-config says what start would refuse ([upstream]'s files: uploader_check_files, the uploader's start check). */
int secret_file_check_config(const struct config *cfg, FILE *errs);

#endif
