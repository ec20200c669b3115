#include "sdnotify.h"

#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>

void sdn_ready(const char *status) { sd_notifyf(0, "READY=1\nSTATUS=%s", status); }
void sdn_status(const char *status) { sd_notifyf(0, "STATUS=%s", status); }
void sdn_reloading(void) { sd_notify(0, "RELOADING=1"); }
void sdn_stopping(void) { sd_notify(0, "STOPPING=1"); }
void sdn_watchdog(void) { sd_notify(0, "WATCHDOG=1"); }

int64_t sdn_watchdog_interval_ms(void)
{
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) <= 0)
        return 0;
    return (int64_t)(usec / 2000); /* notify twice per period: one may be late */
}

#else

void sdn_ready(const char *status) { (void)status; }
void sdn_status(const char *status) { (void)status; }
void sdn_reloading(void) {}
void sdn_stopping(void) {}
void sdn_watchdog(void) {}
int64_t sdn_watchdog_interval_ms(void) { return 0; }

#endif
