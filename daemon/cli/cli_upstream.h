/* The upstream commands of `gatescreen` (cli_upstream.c): what the bureau is sent. */
#ifndef GS_CLI_UPSTREAM_H
#define GS_CLI_UPSTREAM_H

#include "cli_nurse.h"

/* summary [--date D]: prints the day's summary document as the next send would hold
 * it at the latest stored revision (0 when none), generated now. Writes nothing. */
cli_command cli_summary;

#endif
