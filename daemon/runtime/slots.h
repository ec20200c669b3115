/* A few slots for costly work, with a front of the queue: the password checks
 * (argon2id, 64 MiB each) of the nurse's page (daemon/web/web_auth.c) and the
 * bureau's page (bureau/page/bpage_auth.c). A taker marked `first` (a login from an
 * address with no failed login on record, an administrator setting a password)
 * goes before the others that wait, so a real user is not queued behind the
 * password checks of guesses from elsewhere (docs/web-api-auth.md). Moved here from
 * web_auth.c to be shared. */
#ifndef GS_SLOTS_H
#define GS_SLOTS_H

#include <stdbool.h>
#include <stdint.h>

struct slots;

/* n slots; NULL when out of memory. */
struct slots *slots_new(int n);
void slots_free(struct slots *s);
/* One slot, waiting at most wait_ms (monotonic); false when none came in time. */
bool slots_take(struct slots *s, bool first, int64_t wait_ms);
void slots_give(struct slots *s);

#endif
