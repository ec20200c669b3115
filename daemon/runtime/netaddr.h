/* Numeric network addresses. */
#ifndef GS_NETADDR_H
#define GS_NETADDR_H

#include <stdbool.h>

/* Whether `addr` (numeric IPv4 or IPv6) is a loopback address: 127.0.0.0/8, ::1,
 * or ::ffff:127.x.y.z. Names are not resolved: "localhost" is false. The config
 * check and the web server warn about plain HTTP with the same answer. */
bool netaddr_is_loopback(const char *addr);

#endif
