/* The ledger-file commands of `gatescreen` (cli_db.c): check, upgrade, back up and
 * restore the whole database. */
#ifndef GS_CLI_DB_H
#define GS_CLI_DB_H

#include "cli_nurse.h"

/* db check: schema version and SQLite's integrity and foreign-key checks. */
cli_command cli_db_check;
/* db upgrade: applies the migrations this program has (what the daemon does at its
 * start), reporting the versions before and after. */
cli_command cli_db_upgrade;
/* db backup FILE: a consistent copy in a new file, also while the daemon runs. */
cli_command cli_db_backup;
/* db restore FILE: replaces the ledger with a backup, only while no daemon runs on
 * it; the ledger as it was is kept beside it. */
cli_command cli_db_restore;

#endif
