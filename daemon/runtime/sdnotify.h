/* systemd service notification (Type=notify): ready, stopping, status, watchdog.
 * All are no-ops when not started by systemd or built without libsystemd. */
#ifndef GS_SDNOTIFY_H
#define GS_SDNOTIFY_H

#include <stdint.h>

void sdn_ready(const char *status);
/* The one-line state `systemctl status` shows (e.g. why the lanes are amber). */
void sdn_status(const char *status);
void sdn_reloading(void);
void sdn_stopping(void);
void sdn_watchdog(void);
/* How often to call sdn_watchdog (half of WatchdogSec=), or 0 when not asked. */
int64_t sdn_watchdog_interval_ms(void);

#endif
