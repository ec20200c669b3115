/* Loading the configuration file: INI (inih), validated whole before use.
 * The types are in config.h. */
#ifndef GS_CONFIG_LOAD_H
#define GS_CONFIG_LOAD_H

#include "config.h"

#include <stddef.h>
#include <stdio.h>

/* Loads and validates FILE. Every problem is written to `errs` as
 * "FILE:LINE: message" (all of them, not just the first); returns NULL if there
 * was any. Relative paths in the file are taken relative to the file's folder. */
struct config *config_load(const char *path, FILE *errs);
/* The same from text in memory (used by config_load, the tests and the fuzzer):
 * `name` is the file name used in messages, `base_dir` resolves relative paths. */
struct config *config_parse(const char *name, const char *text, size_t len,
                            const char *base_dir, FILE *errs);
void config_free(struct config *cfg);

/* Warnings about a valid configuration that will not do what it says: each bus
 * whose devices' polls ask for more than it can carry (core/busload.h), as
 * "FILE:LINE: warning: [bus NAME] ..." at the bus's header. Returns how many. */
int config_warnings(const struct config *cfg, FILE *out);

/* Index of the named item, or -1. */
int config_find_lane(const struct config *cfg, const char *name);
int config_find_device(const struct config *cfg, const char *name);

/* Clears the section header line numbers (kept for messages only), so that two
 * loads of a file compare equal when only comments or blank lines moved. */
void config_forget_lines(struct config *cfg);

/* The built-in profiles, also present in every loaded config. */
const struct cfg_profile *config_builtin_profiles(int *count);

#endif
