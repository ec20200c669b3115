/* gatescreen db ...: the ledger as a file. A backup reads through SQLite's online
 * backup API, so it may run beside the daemon; a restore replaces the file, so it
 * holds the ledger's claim (the daemon holds it while it runs) for the copy. */
#include "cli_db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config_load.h"
#include "ledger.h"

int cli_db_check(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_usage_error("db check: takes no arguments%s", "");
    int rc = cli_open_db(cli, false);
    if (rc != EXIT_OK)
        return rc;
    int v = ledger_schema_version(cli->ledger), latest = ledger_latest_version();
    printf("%s: schema version %d (this program: %d)%s\n", cli->cfg->ledger.database, v, latest,
           v < latest ? "; `gatescreen db upgrade`, the daemon or any command that writes "
                        "will upgrade it"
                      : "");
    if (ledger_integrity_check(cli->ledger, stdout) < 0) {
        printf("integrity check FAILED\n");
        return EXIT_FAILED;
    }
    printf("integrity check ok\n");
    return EXIT_OK;
}

int cli_db_upgrade(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_usage_error("db upgrade: takes no arguments%s", "");
    if (!cli->cfg && !(cli->cfg = config_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    struct stat st;
    if (stat(cli->cfg->ledger.database, &st) < 0 && errno == ENOENT)
        return cli_fail("db upgrade: %s does not exist; gatescreend makes it at its first start "
                        "(or restore a backup: gatescreen db restore FILE)",
                        cli->cfg->ledger.database);
    int rc = cli_open_db(cli, false);
    if (rc != EXIT_OK)
        return rc;
    int before = ledger_schema_version(cli->ledger);
    ledger_close(cli->ledger);
    cli->ledger = NULL;
    if ((rc = cli_open_db(cli, true)) != EXIT_OK)
        return rc; /* the failed migration was rolled back and logged */
    printf("%s: schema version %d -> %d\n", cli->cfg->ledger.database, before,
           ledger_schema_version(cli->ledger));
    return EXIT_OK;
}

int cli_db_backup(struct cli *cli, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("db backup: takes one argument, the new file%s", "");
    int rc = cli_open_db(cli, false);
    if (rc != EXIT_OK)
        return rc;
    if (ledger_backup(cli->ledger, argv[1], stderr) < 0)
        return cli_fail("db backup: no backup was written");
    printf("%s: backup of %s written (schema version %d)\n", argv[1], cli->cfg->ledger.database,
           ledger_schema_version(cli->ledger));
    return EXIT_OK;
}

int cli_db_restore(struct cli *cli, int argc, char **argv)
{
    if (argc != 2)
        return cli_usage_error("db restore: takes one argument, the backup file%s", "");
    if (!cli->cfg && !(cli->cfg = config_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    const char *db = cli->cfg->ledger.database;
    int claim = -1, held = ledger_claim(db, &claim);
    if (held == 1)
        return cli_fail("db restore: %s is in use by a running gatescreend (or another "
                        "restore); stop it first (systemctl stop gatescreend)", db);
    if (held < 0)
        return EXIT_FAILED;
    char kept[4096];
    int rc = ledger_restore(db, argv[1], kept, sizeof kept, stderr);
    ledger_unclaim(claim);
    if (rc < 0)
        return cli_fail("db restore: %s was not changed", db);
    printf("%s: restored from %s%s%s\n", db, argv[1], kept[0] ? "; the ledger as it was is in " : "",
           kept);
    return EXIT_OK;
}
