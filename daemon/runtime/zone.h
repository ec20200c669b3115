/* The school's time zone as the process zone: civil.c's local days and minutes
 * (localtime_r, mktime) follow it. */
#ifndef GS_ZONE_H
#define GS_ZONE_H

#include <stdbool.h>
#include <stddef.h>

/* Makes `zone` (IANA name, e.g. Asia/Shanghai) the process time zone (TZ). -1 and
 * a message when the zone is not installed (/usr/share/zoneinfo). Called once at
 * start, before any thread (setenv is not thread-safe). */
int zone_set(const char *zone);
/* Whether `zone` has the shape of a zone name: a relative path below the zoneinfo
 * folder, nothing that could climb out of it (the config check and zone_set). */
bool zone_name_ok(const char *zone);
/* Whether the zone's file is installed; `path` gets the file's name for messages. */
bool zone_installed(const char *zone, char *path, size_t n);

#endif
