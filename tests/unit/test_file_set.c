/* Files replaced as one change (daemon/runtime/file_set.c): new files, replaced
 * files kept as .bak, no-clobber, a commit that fails half way undone, a rollback
 * after a commit, modes and owners, and no temporary left behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file_set.h"

static char dir[64];
static char errs[1024];

static const struct file_spec SECRET = {0600, (uid_t)-1, (gid_t)-1, false};
static const struct file_spec PUBLIC = {0644, (uid_t)-1, (gid_t)-1, false};
static const struct file_spec FRESH = {0644, (uid_t)-1, (gid_t)-1, true};

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/gs-fileset-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *in_dir(const char *name)
{
    static char paths[4][256];
    static int next;
    char *p = paths[next++ % 4];
    snprintf(p, 256, "%s/%s", dir, name);
    return p;
}

static void put(const char *name, const char *text, mode_t mode)
{
    FILE *f = fopen(in_dir(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    chmod(in_dir(name), mode);
}

/* The file's text, or "" when it is not there. */
static const char *text_of(const char *name)
{
    static char buf[256];
    FILE *f = fopen(in_dir(name), "r");
    buf[0] = '\0';
    if (f) {
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
    return buf;
}

static mode_t mode_of(const char *name)
{
    struct stat st;
    assert_int_equal(stat(in_dir(name), &st), 0);
    return st.st_mode & 07777;
}

/* The names in the folder, sorted, space-separated (temporaries start with '.'). */
static const char *listing(void)
{
    static char out[512];
    struct dirent **names;
    int n = scandir(dir, &names, NULL, alphasort);
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        size_t used = strlen(out);
        if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, ".."))
            snprintf(out + used, sizeof out - used, "%s ", names[i]->d_name);
        free(names[i]);
    }
    free(names);
    return out;
}

static FILE *errf(void)
{
    errs[0] = '\0';
    return fmemopen(errs, sizeof errs, "w");
}

static void test_new_and_replaced(void **state)
{
    (void)state;
    put("a", "old a", 0640);
    FILE *e = errf();
    struct file_set *s = file_set_new();
    assert_int_equal(file_set_add(s, in_dir("a"), "new a", 5, &SECRET, e), 0);
    assert_int_equal(file_set_add(s, in_dir("b"), "new b", 5, &PUBLIC, e), 0);
    assert_string_equal(text_of("a"), "old a"); /* nothing visible before the commit */
    assert_string_equal(text_of("b"), "");
    assert_int_equal(file_set_commit(s, e), 0);
    assert_int_equal(file_set_finish(s, e), 0);
    file_set_free(s);
    fclose(e);
    assert_string_equal(text_of("a"), "new a");
    assert_string_equal(text_of("a.bak"), "old a");
    assert_string_equal(text_of("b"), "new b");
    assert_int_equal(mode_of("a"), 0600);
    assert_int_equal(mode_of("a.bak"), 0640); /* the old file itself, as it was */
    assert_int_equal(mode_of("b"), 0644);
    assert_string_equal(listing(), "a a.bak b ");
}

/* A commit that fails on its second file puts the first back. */
static void test_commit_undone(void **state)
{
    (void)state;
    put("a", "old a", 0600);
    FILE *e = errf();
    struct file_set *s = file_set_new();
    assert_int_equal(file_set_add(s, in_dir("a"), "new a", 5, &SECRET, e), 0);
    assert_int_equal(file_set_add(s, in_dir("c"), "new c", 5, &FRESH, e), 0);
    put("c", "someone else's c", 0600); /* appears between add and commit */
    assert_int_equal(file_set_commit(s, e), -1);
    file_set_free(s);
    fclose(e);
    assert_non_null(strstr(errs, "/c: exists already; it is not replaced"));
    assert_string_equal(text_of("a"), "old a");
    assert_string_equal(text_of("c"), "someone else's c");
    assert_string_equal(listing(), "a c ");
}

/* A check after the commit failed: everything back, new files gone. */
static void test_rollback(void **state)
{
    (void)state;
    put("a", "old a", 0600);
    FILE *e = errf();
    struct file_set *s = file_set_new();
    assert_int_equal(file_set_add(s, in_dir("a"), "new a", 5, &SECRET, e), 0);
    assert_int_equal(file_set_add(s, in_dir("n"), "new n", 5, &SECRET, e), 0);
    assert_int_equal(file_set_commit(s, e), 0);
    assert_string_equal(text_of("a"), "new a");
    assert_int_equal(file_set_rollback(s, e), 0);
    file_set_free(s);
    fclose(e);
    assert_string_equal(text_of("a"), "old a");
    assert_string_equal(listing(), "a ");
}

/* Added but never committed: nothing changes, no temporary stays. */
static void test_abandoned(void **state)
{
    (void)state;
    FILE *e = errf();
    struct file_set *s = file_set_new();
    assert_int_equal(file_set_add(s, in_dir("x"), "x", 1, &SECRET, e), 0);
    assert_string_not_equal(listing(), "");
    file_set_free(s);
    fclose(e);
    assert_string_equal(listing(), "");
}

static void test_unwritable(void **state)
{
    (void)state;
    FILE *e = errf();
    struct file_set *s = file_set_new();
    assert_int_equal(file_set_add(s, in_dir("nofolder/x"), "x", 1, &SECRET, e), -1);
    file_set_free(s);
    fclose(e);
    assert_non_null(strstr(errs, "/nofolder/x: cannot write in its folder: No such file"));
}

static void test_atomic_and_owner(void **state)
{
    (void)state;
    FILE *e = errf();
    struct file_spec nobody = {0600, 65534, 65534, true};
    if (geteuid() != 0) /* only root gives files away */
        nobody.uid = (uid_t)-1, nobody.gid = (gid_t)-1;
    assert_int_equal(file_write_atomic(in_dir("k"), "key", 3, &nobody, e), 0);
    assert_int_equal(file_write_atomic(in_dir("k"), "key2", 4, &nobody, e), -1);
    fclose(e);
    struct stat st;
    assert_int_equal(stat(in_dir("k"), &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    if (geteuid() == 0)
        assert_int_equal(st.st_uid, 65534);
    assert_string_equal(text_of("k"), "key");
    assert_string_equal(listing(), "k ");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_and_replaced, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_undone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abandoned, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic_and_owner, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
