/* A request body growing as it arrives (the bureau's collector and page): one
 * place for the doubling and the NUL after the bytes. */
#ifndef GS_GROWBUF_H
#define GS_GROWBUF_H

#include <stddef.h>

/* Appends n bytes to *buf (len used, cap allocated; all 0/NULL at first), keeping a
 * NUL after them. 0, or -1 when out of memory (*buf unchanged). */
int growbuf_append(char **buf, size_t *len, size_t *cap, const char *data, size_t n);

#endif
