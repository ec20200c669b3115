/* The school's time zone as the process zone: civil.c's local days and minutes
 * (localtime_r, mktime) follow it. */
#ifndef GS_ZONE_H
#define GS_ZONE_H

/* Makes `zone` (IANA name, e.g. Asia/Shanghai) the process time zone (TZ). -1 and
 * a message when the zone is not installed (/usr/share/zoneinfo). Called once at
 * start, before any thread (setenv is not thread-safe). */
int zone_set(const char *zone);

#endif
