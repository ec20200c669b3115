/* The process time zone (zone.h). */
#include "zone.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define ZONEINFO "/usr/share/zoneinfo"
#define ZONE_MAX 64

bool zone_name_ok(const char *zone)
{
    size_t n = strlen(zone);
    if (n == 0 || n >= ZONE_MAX || zone[0] == '/' || strstr(zone, "..") != NULL)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)zone[i]) && strchr("_+-/", zone[i]) == NULL)
            return false;
    return true;
}

bool zone_installed(const char *zone, char *path, size_t n)
{
    struct stat st;
    snprintf(path, n, "%s/%s", ZONEINFO, zone);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* glibc quietly falls back to UTC for a zone it cannot load, so the file is checked
 * first. setenv is not thread-safe: called once at start, before any thread. */
int zone_set(const char *zone)
{
    char path[sizeof ZONEINFO + ZONE_MAX];
    if (zone == NULL || !zone_name_ok(zone)) {
        log_err("time zone \"%s\" is not a zone name such as Asia/Shanghai",
                zone != NULL ? zone : "");
        return -1;
    }
    if (!zone_installed(zone, path, sizeof path) || access(path, R_OK) != 0) {
        log_err("time zone %s is not installed (no readable zone file %s)", zone, path);
        return -1;
    }
    if (setenv("TZ", zone, 1) != 0) {
        log_errno(LOG_LVL_ERR, errno, "time zone %s: setenv", zone);
        return -1;
    }
    tzset();
    return 0;
}

