/* `gatescreen calendar`: the school calendar as the daemon sees it ([calendar],
 * [grade]/[class] of the configuration) and the closed days of the ledger
 * (ledger_calendar.h), which `close` and `reopen` change. */
#ifndef GS_CLI_CALENDAR_H
#define GS_CLI_CALENDAR_H

#include "cli_nurse.h"

cli_command cli_calendar_show, cli_calendar_close, cli_calendar_reopen;

#endif
