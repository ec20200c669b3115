/* The delivery commands of `gatescreen` (cli_outbox.c): queue and send what the
 * bureau is to receive, and show the outbox. */
#ifndef GS_CLI_OUTBOX_H
#define GS_CLI_OUTBOX_H

#include "cli_nurse.h"

/* upload [--date D] [--now] [--retry-parked]: parked rows back to pending (with
 * --retry-parked), the urgent notices and the day's summary (today by default)
 * queued, and with --now every pending row sent at once, in order (rows waiting
 * for a retry too), until one fails. Exit 1 if a send failed. */
cli_command cli_upload;
/* outbox [--all]: pending and parked rows, and those sent in the last 7 days (all
 * with --all), with attempts and the last error. */
cli_command cli_outbox;

#endif
