/* The enrolment tests' fixture (enrol_fixture.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "enrol_fixture.h"

void efx_init(struct efx *f, int64_t ca_age, int ca_days)
{
    memset(f, 0, sizeof *f);
    f->now = clock_wall_ms() / 1000;
    snprintf(f->dir, sizeof f->dir, "/tmp/gs-enrol-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    FILE *e = efx_errs_open(f);
    assert_int_equal(enrol_ca_create(efx_path(f, "ca"), "test bureau CA", ca_days,
                                     f->now - ca_age, e), 0);
    f->ca = enrol_ca_load_dir(efx_path(f, "ca"), f->now - ca_age, e);
    const char *said = efx_errs(f);
    if (!f->ca)
        fail_msg("the CA: %s", said);
}

void efx_free(struct efx *f)
{
    char cmd[128];
    enrol_ca_free(f->ca);
    if (f->e)
        fclose(f->e);
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    assert_int_equal(system(cmd), 0);
}

const char *efx_path(struct efx *f, const char *name)
{
    static char paths[6][256];
    static int next;
    char *p = paths[next++ % 6];
    snprintf(p, 256, "%s/%s", f->dir, name);
    return p;
}

FILE *efx_errs_open(struct efx *f)
{
    if (f->e)
        fclose(f->e);
    memset(f->errs, 0, sizeof f->errs);
    f->e = fmemopen(f->errs, sizeof f->errs - 1, "w");
    assert_non_null(f->e);
    return f->e;
}

const char *efx_errs(struct efx *f)
{
    if (f->e) {
        fclose(f->e);
        f->e = NULL;
    }
    return f->errs;
}

struct enrol_credential *efx_issue(struct efx *f, const char *code, int days, int64_t age)
{
    struct enrol_credential *c = enrol_issue(f->ca, code, days, f->now - age, efx_errs_open(f));
    const char *said = efx_errs(f);
    if (!c)
        fail_msg("issue %s: %s", code, said);
    return c;
}

void efx_bundle(struct efx *f, const struct enrol_credential *c, const char *name, char **text)
{
    const char *path = efx_path(f, name);
    int rc = enrol_write_bundle(c, FX_URL, efx_path(f, "ca/ca.pem"), path, f->now,
                                efx_errs_open(f));
    const char *said = efx_errs(f);
    if (rc != 0)
        fail_msg("bundle %s: %s", name, said);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    *text = calloc(1, 64 * 1024);
    assert_non_null(*text);
    size_t n = fread(*text, 1, 64 * 1024 - 1, in);
    (*text)[n] = '\0';
    fclose(in);
}

const char *efx_shell(const char *cmd)
{
    static char line[512];
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    line[0] = '\0';
    if (!fgets(line, sizeof line, p))
        line[0] = '\0';
    pclose(p);
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}
