/* The days and deadlines of the missing-schools list (docs/bureau.md, "Deadlines and
 * missing schools"), as the command line and the collector's GET /v1/missing take
 * them: one parser each, so that both refuse the same things with the same words.
 * Pure: no database, no clock (what "today" is comes from the database, in the
 * bureau's zone). */
#ifndef GS_DEADLINE_H
#define GS_DEADLINE_H

#include <stddef.h>

#include "bconfig.h"

#define DAY_LEN 11          /* "YYYY-MM-DD" + NUL */
#define DAY_RANGE_MAX 366   /* days one calendar or closure command may cover */

enum deadline { DEADLINE_MORNING, DEADLINE_DAY, DEADLINE_COUNT };

/* "morning", "day". */
const char *deadline_name(enum deadline d);
/* The name into *out: 0, or -1 with why (", expected morning or day"). */
int deadline_parse(const char *s, enum deadline *out, char *why, size_t n);
/* Its minute after midnight in [deadlines]. */
int deadline_minute(const struct bcfg_deadlines *c, enum deadline d);
/* The deadline a list means when none is named: for a past day the day's; for
 * today the latest one that has passed at local minute now_minute (the morning's
 * until then); for a day to come the morning's. `day_vs_today` is <0, 0, >0. */
enum deadline deadline_default(const struct bcfg_deadlines *c, int day_vs_today,
                               int now_minute);

/* A county as asked for: text in UTF-8 without control characters, at most 100
 * characters (PostgreSQL would refuse bytes that are not UTF-8 as an error of its
 * own). 0, or -1 with why ("is empty", "is not UTF-8", ...). */
int county_check(const char *s, char *why, size_t n);

/* A calendar date "YYYY-MM-DD" (a real one: not 2026-02-30) into out: 0, or -1
 * with why. */
int day_parse(const char *s, char out[DAY_LEN], char *why, size_t n);
/* The weekday of a day day_parse took: 0 = Sunday .. 6 = Saturday. */
int day_weekday(const char *day);
/* "DAY" or "FROM..TO" (FROM <= TO, at most DAY_RANGE_MAX days) into from and to,
 * *days the count: 0, or -1 with why. */
int day_range_parse(const char *s, char from[DAY_LEN], char to[DAY_LEN], int *days, char *why,
                    size_t n);

#endif
