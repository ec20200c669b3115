/* The running configuration as immutable snapshots. A reload (SIGHUP) builds a
 * whole new struct config and publishes it here; a reader on another thread takes
 * a reference to the snapshot in force, reads it as long as it likes without a
 * lock, and gives it back. Nothing ever writes into a published snapshot, so no
 * reader sees half of an old configuration and half of a new one; a snapshot is
 * freed when it is no longer in force and its last reference is given back.
 * docs/design.md, "Configuration". All functions are thread-safe. */
#ifndef GS_CONFSTORE_H
#define GS_CONFSTORE_H

#include "config.h"

struct config_store;

/* A store whose first snapshot is `first` (taken over; freed with `destroy`).
 * NULL when out of memory (then `first` is destroyed too). */
struct config_store *cfgstore_new(struct config *first, void (*destroy)(struct config *));
/* The snapshot in force, with a reference the caller gives back with
 * cfgstore_release. Never NULL. */
const struct config *cfgstore_acquire(struct config_store *s);
void cfgstore_release(struct config_store *s, const struct config *cfg);
/* Makes `next` (taken over) the snapshot in force. The one it replaces lives on
 * until its last reference is released. -1 (and `next` destroyed) when out of
 * memory; the old snapshot stays in force then. */
int cfgstore_publish(struct config_store *s, struct config *next);
/* Frees the store and every snapshot; all references must have been released. */
void cfgstore_free(struct config_store *s);

#endif
