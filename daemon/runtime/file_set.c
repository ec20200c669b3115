/* Files replaced as one change (file_set.h). The replaced file is kept aside by a
 * hard link (TMP.old) before the new one is renamed over it, so undoing is a rename
 * back, and the old file keeps its inode, owner and mode when it becomes the .bak. */
#include "file_set.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum entry_state { E_WRITTEN, E_PLACED, E_DONE };

struct entry {
    char target[PATH_MAX], tmp[PATH_MAX], old[PATH_MAX];
    bool had_old;          /* the target existed: kept aside at old */
    bool no_clobber;
    enum entry_state state;
};

struct file_set {
    struct entry e[FILE_SET_MAX];
    int n;
    bool committed;
};

struct file_set *file_set_new(void)
{
    return calloc(1, sizeof(struct file_set));
}

/* dir/.base.XXXXXX for path "dir/base" (or ".base.XXXXXX" in the current folder). */
static int temp_name(const char *path, char out[PATH_MAX], FILE *errs)
{
    const char *slash = strrchr(path, '/');
    int dn = slash ? (int)(slash - path + 1) : 0;
    const char *base = slash ? slash + 1 : path;
    /* Room for ".old" too: the name the replaced file is kept under (keep_old). */
    if (*base == '\0' ||
        snprintf(out, PATH_MAX, "%.*s.%s.XXXXXX", dn, path, base) >= PATH_MAX - 4) {
        fprintf(errs, "%s: not a file name this program can write\n", path);
        return -1;
    }
    return 0;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -1;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Content, owner, mode (after chown, which may clear set-id bits), then to disk. */
static int fill(int fd, const void *data, size_t len, const struct file_spec *spec)
{
    if (write_all(fd, data, len) < 0)
        return -1;
    if ((spec->uid != (uid_t)-1 || spec->gid != (gid_t)-1) &&
        fchown(fd, spec->uid, spec->gid) < 0)
        return -1;
    if (fchmod(fd, spec->mode) < 0)
        return -1;
    return fsync(fd);
}

int file_set_add(struct file_set *s, const char *path, const void *data, size_t len,
                 const struct file_spec *spec, FILE *errs)
{
    if (s->n >= FILE_SET_MAX || s->committed) {
        fprintf(errs, "%s: too many files in one change\n", path);
        return -1;
    }
    struct entry *e = &s->e[s->n];
    *e = (struct entry){.no_clobber = spec->no_clobber};
    if (strlen(path) >= sizeof e->target || temp_name(path, e->tmp, errs) < 0)
        return -1;
    memcpy(e->target, path, strlen(path) + 1);
    int fd = mkostemp(e->tmp, O_CLOEXEC); /* 0600 until fill sets the mode */
    if (fd < 0) {
        fprintf(errs, "%s: cannot write in its folder: %s\n", path, strerror(errno));
        return -1;
    }
    if (fill(fd, data, len, spec) < 0) {
        fprintf(errs, "%s: cannot write it: %s\n", path, strerror(errno));
        close(fd);
        unlink(e->tmp);
        return -1;
    }
    close(fd);
    size_t tn = strlen(e->tmp); /* temp_name left room */
    memcpy(e->old, e->tmp, tn);
    memcpy(e->old + tn, ".old", 5);
    s->n++;
    return 0;
}

/* Keeps the current target aside (a second name for its inode), if there is one. */
static int keep_old(struct entry *e, FILE *errs)
{
    if (link(e->target, e->old) == 0) {
        e->had_old = true;
        return 0;
    }
    if (errno == ENOENT)
        return 0;
    fprintf(errs, "%s: cannot keep the file it replaces: %s\n", e->target, strerror(errno));
    return -1;
}

/* No-clobber: link() refuses an existing name, where rename() would replace it. */
static int place(struct entry *e, FILE *errs)
{
    int rc = e->no_clobber ? link(e->tmp, e->target) : rename(e->tmp, e->target);
    if (rc < 0) {
        fprintf(errs, "%s: %s\n", e->target,
                errno == EEXIST ? "exists already; it is not replaced" : strerror(errno));
        return -1;
    }
    if (e->no_clobber)
        unlink(e->tmp);
    e->state = E_PLACED;
    return 0;
}

/* Puts one placed entry back as it was. */
static int undo(struct entry *e, FILE *errs)
{
    int rc = e->had_old ? rename(e->old, e->target) : unlink(e->target);
    if (rc < 0) {
        fprintf(errs, "%s: cannot put the previous file back: %s\n", e->target,
                strerror(errno));
        return -1;
    }
    e->had_old = false;
    e->state = E_DONE;
    return 0;
}

static int undo_all(struct file_set *s, FILE *errs)
{
    int bad = 0;
    for (int i = s->n - 1; i >= 0; i--)
        if (s->e[i].state == E_PLACED)
            bad |= undo(&s->e[i], errs);
    return bad ? -1 : 0;
}

int file_set_commit(struct file_set *s, FILE *errs)
{
    for (int i = 0; i < s->n; i++) {
        struct entry *e = &s->e[i];
        if (!e->no_clobber && keep_old(e, errs) < 0)
            goto fail;
        if (place(e, errs) < 0) {
            if (e->had_old)
                unlink(e->old);
            e->had_old = false;
            goto fail;
        }
    }
    s->committed = true;
    return 0;
fail:
    undo_all(s, errs);
    return -1;
}

int file_set_rollback(struct file_set *s, FILE *errs)
{
    int rc = undo_all(s, errs);
    s->committed = false;
    return rc;
}

/* A rename is durable once its folder is synced. */
static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + (slash == path) : 1,
             slash ? path : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

int file_set_finish(struct file_set *s, FILE *errs)
{
    int bad = 0;
    for (int i = 0; i < s->n; i++) {
        struct entry *e = &s->e[i];
        char bak[PATH_MAX + 8];
        snprintf(bak, sizeof bak, "%s.bak", e->target);
        /* If this fails the previous file stays under its temporary name: kept. */
        if (e->state == E_PLACED && e->had_old && rename(e->old, bak) < 0) {
            fprintf(errs, "%s: cannot keep the previous file as %s (it is %s): %s\n",
                    e->target, bak, e->old, strerror(errno));
            bad = -1;
        }
        if (e->state == E_PLACED) {
            e->state = E_DONE;
            e->had_old = false;
            sync_dir_of(e->target);
        }
    }
    s->committed = false;
    return bad;
}

void file_set_free(struct file_set *s)
{
    if (!s)
        return;
    if (s->committed)
        file_set_finish(s, stderr);
    for (int i = 0; i < s->n; i++)
        if (s->e[i].state == E_WRITTEN)
            unlink(s->e[i].tmp);
    free(s);
}

int file_write_atomic(const char *path, const void *data, size_t len,
                      const struct file_spec *spec, FILE *errs)
{
    struct file_set *s = file_set_new();
    if (!s) {
        fprintf(errs, "%s: out of memory\n", path);
        return -1;
    }
    int rc = -1;
    if (file_set_add(s, path, data, len, spec, errs) == 0 && file_set_commit(s, errs) == 0)
        rc = file_set_finish(s, errs);
    file_set_free(s);
    return rc;
}
