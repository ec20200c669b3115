/* Numeric network addresses. */
#ifndef GS_NETADDR_H
#define GS_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

/* Whether `addr` (numeric IPv4 or IPv6) is a loopback address: 127.0.0.0/8, ::1,
 * or ::ffff:127.x.y.z. Names are not resolved: "localhost" is false. The config
 * check and the web server warn about plain HTTP with the same answer. */
bool netaddr_is_loopback(const char *addr);

/* A socket address to listen on or to print, IPv4 or IPv6. */
union netaddr_sock {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

/* The listening address of a numeric `address` (checked by the caller's
 * configuration) and port: true when it is IPv6. The bureau's collector and page. */
bool netaddr_listen(const char *address, int port, union netaddr_sock *out);

/* A client's address as text ("-" when sa is NULL or neither IPv4 nor IPv6). */
void netaddr_text(const struct sockaddr *sa, char *out, size_t n);

#endif
