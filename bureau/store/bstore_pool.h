/* A bounded set of database connections for the collector's request threads: at most
 * `size` connections, each used by one thread at a time, opened when first needed and
 * made again after the server restarted (bstore_ensure). With one connection per
 * request thread (the collector's choice), a thread never waits for one. */
#ifndef GS_BSTORE_POOL_H
#define GS_BSTORE_POOL_H

#include <stdint.h>

#include "bstore.h"

struct bstore_pool;

/* A pool of `size` connections made with `o` (copied; never `migrate`). `first`, if
 * not NULL, is taken over as one of them. NULL when out of memory. */
struct bstore_pool *bstore_pool_new(const struct bstore_opts *o, int size, struct bstore *first);
/* A usable connection, waiting at most wait_ms for one to be free; NULL when none is
 * free in time or none can be made (the server is down): the caller answers "try
 * again". Give it back with bstore_pool_put. */
struct bstore *bstore_pool_get(struct bstore_pool *p, int64_t wait_ms);
void bstore_pool_put(struct bstore_pool *p, struct bstore *s);
/* Closes every connection; none may be out. */
void bstore_pool_free(struct bstore_pool *p);

#endif
