/* gatescreen-bureau: the bureau administrator's command line, on the same
 * configuration file and database as gatescreen-bureaud. */
#include "bcli.h"

#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define DEFAULT_CONFIG "/etc/gatescreen-bureau/bureau.conf"

struct command {
    const char *group, *name; /* "school", "add"; name NULL for one-word commands */
    int (*run)(struct bcli *cli, int argc, char **argv);
    const char *synopsis;
};

static int cmd_db_check(struct bcli *cli, int argc, char **argv);
static int cmd_version(struct bcli *cli, int argc, char **argv);

/* `school enrol` issues a credential from the bureau's own CA (bcli_enrol.c);
 * `credential add` registers a certificate made elsewhere. Both go through
 * bstore_credential_add. */
static const struct command cmds[] = {
    {"school", "add", bcli_school_add, "school add CODE --name NAME --county COUNTY --kind KIND "
                                       "[--enrolment N] [--contact NAME] [--phone PHONE]"},
    {"school", "import", bcli_school_import, "school import FILE.csv"},
    {"school", "list", bcli_school_list, "school list [--all]"},
    {"school", "disable", bcli_school_disable, "school disable CODE"},
    {"school", "enrol", bcli_school_enrol, "school enrol CODE --ca DIR --url URL --server-ca FILE "
                                           "--out BUNDLE [--days N]"},
    {"school", "revoke", bcli_credential_revoke, "school revoke CODE (= credential revoke)"},
    {"ca", "init", bcli_ca_init, "ca init DIR [--name NAME] [--days N]"},
    {"credential", "add", bcli_credential_add, "credential add CODE --cert FILE.pem "
                                               "--token-file FILE"},
    {"credential", "revoke", bcli_credential_revoke, "credential revoke CODE"},
    {"quarantine", "list", bcli_quarantine_list, "quarantine list [--limit N] [--body]"},
    {"report", NULL, bcli_report, "report --day D | --from D --to D [--level city|county|school] "
                                  "[--county C] [--csv | --json]"},
    {"notice", "list", bcli_notice_list, "notice list [--unacknowledged] [--from D] [--to D] "
                                         "[--county C] [--school CODE] [--csv | --json]"},
    {"notice", "ack", bcli_notice_ack, "notice ack SCHOOL NOTICE_ID --note TEXT"},
    /* bcli_calendar.c: the days `missing` expects schools on */
    {"calendar", "holiday", bcli_calendar_holiday, "calendar holiday DAY|FROM..TO [--name N]"},
    {"calendar", "workday", bcli_calendar_workday, "calendar workday DAY|FROM..TO [--name N]"},
    {"calendar", "clear", bcli_calendar_clear, "calendar clear DAY|FROM..TO"},
    {"calendar", "list", bcli_calendar_list, "calendar list [DAY|FROM..TO]"},
    {"closure", "add", bcli_closure_add, "closure add DAY|FROM..TO [--county C] --reason TEXT"},
    {"closure", "remove", bcli_closure_remove, "closure remove DAY|FROM..TO [--county C]"},
    {"closure", "list", bcli_closure_list, "closure list [DAY|FROM..TO]"},
    {"missing", NULL, bcli_missing, "missing [--day DAY] [--deadline morning|day] "
                                    "[--county C] [--csv]"},
    /* bcli_user.c: the users of the bureau's page */
    {"user", "add", bcli_user_add, "user add NAME --role city|county|auditor|admin "
                                   "[--county C] [--by WHO] (password: one line of stdin)"},
    {"user", "list", bcli_user_list, "user list"},
    {"user", "disable", bcli_user_disable, "user disable NAME"},
    {"user", "enable", bcli_user_enable, "user enable NAME"},
    {"db", "check", cmd_db_check, "db check"},
    {"version", NULL, cmd_version, "version"},
};
#define NCMDS (sizeof cmds / sizeof cmds[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: gatescreen-bureau [-c FILE] COMMAND [ARGS]\n"
                 "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
                 "commands:\n");
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(out, "  %s\n", cmds[i].synopsis);
}

int bcli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gatescreen-bureau: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_FAILED;
}

int bcli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gatescreen-bureau: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    usage(stderr);
    return EXIT_USAGE;
}

const char *bcli_actor(void)
{
    const char *sudo = getenv("SUDO_USER");
    if (sudo && *sudo)
        return sudo;
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "unknown";
}

/* The one table from a store status to the exit status: a refusal is 1 like any
 * failure; a database that is not there now is 75, so a script can tell "run it
 * again" from "no". */
static const int store_exits[] = {
    [BSTORE_OK] = EXIT_OK,          [BSTORE_NOT_FOUND] = EXIT_FAILED,
    [BSTORE_CONFLICT] = EXIT_FAILED, [BSTORE_INVALID] = EXIT_FAILED,
    [BSTORE_UNAVAILABLE] = EXIT_TEMPFAIL, [BSTORE_IO] = EXIT_FAILED,
};

int bcli_exit_status(enum bstore_status st)
{
    if ((size_t)st >= sizeof store_exits / sizeof store_exits[0])
        return EXIT_FAILED;
    return store_exits[st];
}

FILE *bcli_errs_open(struct errbuf *e)
{
    return errbuf_open(e, stderr);
}

static void print_line(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "gatescreen-bureau: %s\n", line);
}

int bcli_errs_report(struct errbuf *e, enum bstore_status st)
{
    errbuf_drain(e, print_line, NULL);
    return bcli_exit_status(st);
}

int bcli_open(struct bcli *cli)
{
    struct errbuf e;
    char *dsn = NULL;
    if (!cli->cfg && !(cli->cfg = bconfig_load(cli->config_path, stderr)))
        return EXIT_USAGE;
    FILE *errs = bcli_errs_open(&e);
    int rc = bconfig_dsn(cli->cfg, &dsn, errs) < 0 ? EXIT_USAGE : EXIT_OK;
    struct bstore_opts o = {.conninfo = dsn, .application_name = "gatescreen-bureau",
                            .connect_timeout_ms = cli->cfg->database.connect_timeout_ms,
                            .statement_timeout_ms = cli->cfg->database.statement_timeout_ms,
                            .migrate = true};
    if (rc == EXIT_OK && bstore_open(&o, &cli->store, errs) < 0)
        rc = EXIT_TEMPFAIL;
    if (dsn) {
        explicit_bzero(dsn, strlen(dsn));
        free(dsn);
    }
    errbuf_drain(&e, print_line, NULL);
    return rc;
}

static int cmd_db_check(struct bcli *cli, int argc, char **argv)
{
    (void)argv;
    int v, rc;
    if (argc != 1)
        return bcli_usage_error("db check: takes no arguments");
    if ((rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    if (bstore_schema_version(cli->store, &v) < 0)
        return bcli_fail("cannot read the schema version");
    printf("database schema version %d (this program: %d)\n", v, bstore_latest_version());
    return EXIT_OK;
}

static int cmd_version(struct bcli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    printf("gatescreen-bureau " GS_VERSION " (database schema %d)\n", bstore_latest_version());
    return EXIT_OK;
}

static const struct command *find_command(int argc, char **argv, int *words)
{
    for (size_t i = 0; i < NCMDS; i++)
        if ((*words = cmdline_match(cmds[i].group, cmds[i].name, argc, argv)) > 0)
            return &cmds[i];
    return NULL;
}

int main(int argc, char **argv)
{
    struct bcli cli = {.config_path = DEFAULT_CONFIG};
    int first, words = 0, cargc;
    char **cargv;
    log_init("gatescreen-bureau", LOG_LVL_WARN, LOG_OUT_PLAIN);
    int rc = cmdline_global(argc, argv, usage, &cli.config_path, &first);
    if (rc != CMDLINE_RUN)
        return rc;
    const struct command *cmd = find_command(argc - first, argv + first, &words);
    if (!cmd)
        return first < argc ? bcli_usage_error("unknown command '%s'", argv[first])
                            : bcli_usage_error("no command given");
    cmdline_enter(argc, argv, first, words, &cargc, &cargv);
    rc = cmd->run(&cli, cargc, cargv);
    bstore_close(cli.store);
    bconfig_free(cli.cfg);
    return rc;
}
