/* Replacing files as one change (the enrolment's keys, certificates and config, the
 * bureau's CA and bundles). Each new content goes to a temporary file beside its
 * target, in the same folder so that rename() is atomic, and is synced with its mode
 * and owner set before anything is renamed: a crash or a full disk leaves every
 * target either as it was or whole and new, never half written.
 *
 *   file_set_add ...     temporaries written; nothing visible has changed
 *   file_set_commit      all renamed into place (undone at once if one fails)
 *   file_set_finish      keep: every file replaced is kept as TARGET.bak
 *   file_set_rollback    or undo: every target back as it was (a check that runs
 *                        on the installed files failed)
 *   file_set_free        removes whatever temporary is left
 */
#ifndef GS_FILE_SET_H
#define GS_FILE_SET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define FILE_SET_MAX 8 /* files in one change */

struct file_set;

/* What a new file is given. uid/gid (uid_t)-1 / (gid_t)-1 leave them to the process;
 * no_clobber: the commit fails (and is undone) if the target exists by then. */
struct file_spec {
    mode_t mode;
    uid_t uid;
    gid_t gid;
    bool no_clobber;
};

struct file_set *file_set_new(void);
/* Writes `data` to a temporary beside `path` with spec's mode and owner, synced.
 * Problems as "PATH: ..." on errs. */
int file_set_add(struct file_set *s, const char *path, const void *data, size_t len,
                 const struct file_spec *spec, FILE *errs);
/* Renames every temporary onto its target, in the order added, the replaced files
 * kept aside. On failure the targets done so far are put back and -1 returned. */
int file_set_commit(struct file_set *s, FILE *errs);
/* After a commit: the replaced files become TARGET.bak; the folders are synced. */
int file_set_finish(struct file_set *s, FILE *errs);
/* After a commit: every target back as it was (new ones removed). */
int file_set_rollback(struct file_set *s, FILE *errs);
/* Removes the temporaries left; a commit not yet finished or rolled back is finished. */
void file_set_free(struct file_set *s);

/* One file written atomically (add, commit, finish); a replaced file is kept as
 * PATH.bak unless spec->no_clobber refuses to replace it. */
int file_write_atomic(const char *path, const void *data, size_t len,
                      const struct file_spec *spec, FILE *errs);

#endif
