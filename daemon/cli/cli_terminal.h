/* `gatescreen terminal setup NAME` (cli_terminal.c): tells a Hikvision terminal
 * where to push its events. */
#ifndef GS_CLI_TERMINAL_H
#define GS_CLI_TERMINAL_H

#include "cli_nurse.h"

/* terminal setup NAME [--host ADDR] [--isapi-port N]: PUT
 * /ISAPI/Event/notification/httpHosts/1 on the terminal with HTTP Digest (its
 * user and password_file), naming [terminals] listen (or --host) as the host. */
cli_command cli_terminal_setup;

#endif
