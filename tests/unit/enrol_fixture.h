/* The fixture test_enrol.c and test_bundle.c share: a temporary folder holding a CA
 * made by bureau/enrol, schools' credentials issued from it, their bundles, and an
 * errs stream read back as text. Failures go through cmocka. */
#ifndef GS_TESTS_ENROL_FIXTURE_H
#define GS_TESTS_ENROL_FIXTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "enrol.h"

#define FX_URL "https://bureau.example.cn/gatescreen/v1"

struct efx {
    char dir[64];
    int64_t now;
    struct enrol_ca *ca;
    char errs[4096];
    FILE *e;
};

/* A new folder with a CA made `ca_age` seconds before now, valid for ca_days. */
void efx_init(struct efx *f, int64_t ca_age, int ca_days);
void efx_free(struct efx *f);
/* A path in the fixture's folder (one of a few static buffers). */
const char *efx_path(struct efx *f, const char *name);
/* Clears the errs text and opens its stream; efx_errs closes it and returns the text. */
FILE *efx_errs_open(struct efx *f);
const char *efx_errs(struct efx *f);
/* A credential issued now - age for days; the test frees it. */
struct enrol_credential *efx_issue(struct efx *f, const char *code, int days, int64_t age);
/* The bundle of c written to NAME in the folder (server CA: the CA itself); its
 * whole text, malloc'd, in *text. */
void efx_bundle(struct efx *f, const struct enrol_credential *c, const char *name,
                char **text);
/* Runs a shell command, returns its first line of output without the line end. */
const char *efx_shell(const char *cmd);

#endif
