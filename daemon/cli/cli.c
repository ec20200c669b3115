/* gatescreen: the administrator's command-line tool, working on the same ledger
 * as the daemon (SQLite WAL lets both at once). */
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "civil.h"
#include "cli_calendar.h"
#include "cli_db.h"
#include "cli_enrol.h"
#include "cli_nurse.h"
#include "cli_outbox.h"
#include "cli_terminal.h"
#include "cli_upstream.h"
#include "cli_people.h"
#include "cli_user.h"
#include "clock.h"
#include "config_load.h"
#include "ledger.h"
#include "log.h"
#include "roster.h"
#include "textnum.h"
#include "uploader.h"

#define DEFAULT_CONFIG "/etc/gatescreen/gatescreen.conf"
#define ROSTER_MAX_BYTES (64L << 20)

struct command {
    const char *group, *name; /* "roster", "import"; name NULL for one-word commands */
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *synopsis;
};

static const struct command *commands(int *count);

static void usage(FILE *out)
{
    int n;
    const struct command *cmds = commands(&n);
    fprintf(out, "usage: gatescreen [-c FILE] COMMAND [ARGS]\n"
                 "  -c, --config FILE   configuration (default " DEFAULT_CONFIG ")\n"
                 "commands:\n");
    for (int i = 0; i < n; i++)
        fprintf(out, "  %s\n", cmds[i].synopsis);
}

FILE *cli_errs_open(struct cli_errs *e)
{
    return errbuf_open(&e->b, stderr);
}

static void print_line(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "gatescreen: %s\n", line);
}

/* The one table from a ledger call's status to the exit status. Every refusal is
 * 1 like any failed operation; a busy ledger is 75 so that a script can tell "run it
 * again" from "the ledger said no". */
static const int ledger_exits[] = {
    [LEDGER_OK] = EXIT_OK,
    [LEDGER_NOT_FOUND] = EXIT_FAILED,
    [LEDGER_CONFLICT] = EXIT_FAILED,
    [LEDGER_INVALID] = EXIT_FAILED,
    [LEDGER_BUSY] = EXIT_TEMPFAIL,
    [LEDGER_IO] = EXIT_FAILED,
};

int cli_exit_status(enum ledger_status st)
{
    if ((size_t)st >= sizeof ledger_exits / sizeof ledger_exits[0])
        return EXIT_FAILED;
    return ledger_exits[st];
}

/* The ledger writes no sentence for a lock it waited for in vain (the log has the
 * database's words): this one says what to do. */
static int exit_busy_said(enum ledger_status st)
{
    if (st == LEDGER_BUSY)
        fprintf(stderr, "gatescreen: the ledger is busy (another program is writing); "
                        "nothing was changed, try again\n");
    return cli_exit_status(st);
}

int cli_errs_report(struct cli_errs *e, enum ledger_status st)
{
    errbuf_drain(&e->b, print_line, NULL);
    return exit_busy_said(st);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gatescreen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return EXIT_FAILED;
}

int cli_usage_error(const char *fmt, const char *arg)
{
    fputs("gatescreen: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    usage(stderr);
    return EXIT_USAGE;
}

const char *cli_login_name(void)
{
    const char *sudo = getenv("SUDO_USER");
    if (sudo && *sudo)
        return sudo;
    struct passwd *pw = getpwuid(getuid());
    return pw ? pw->pw_name : "unknown";
}

int cli_day_option(const char *text, const char *what, char day[CIVIL_DAY_LEN])
{
    int y, m, d;
    if (!text) {
        if (civil_day_of(clock_wall_ms(), day) == 0)
            return EXIT_OK;
        fputs("gatescreen: cannot tell today's date\n", stderr);
        return EXIT_FAILED;
    }
    if (tn_date(text, &y, &m, &d) < 0) {
        fprintf(stderr, "gatescreen: %s '%s' is not a date YYYY-MM-DD\n", what, text);
        return EXIT_FAILED;
    }
    snprintf(day, CIVIL_DAY_LEN, "%s", text);
    return EXIT_OK;
}

int cli_open_db(struct cli *cli, bool migrate)
{
    if (!cli->cfg)
        cli->cfg = config_load(cli->config_path, stderr);
    if (!cli->cfg)
        return EXIT_USAGE;
    struct ledger_opts o = {.synchronous_full = cli->cfg->ledger.synchronous_full,
                            .no_migrate = !migrate};
    return ledger_open(cli->cfg->ledger.database, &o, &cli->ledger) < 0 ? EXIT_FAILED : EXIT_OK;
}

/* Reads a whole file (bounded): rosters are small, and the parser wants it all. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    if (!f)
        goto fail;
    struct stat st;
    if (fstat(fileno(f), &st) < 0)
        goto fail;
    if (st.st_size > ROSTER_MAX_BYTES) {
        fprintf(stderr, "%s: too large (%lld bytes; at most %ld)\n", path,
                (long long)st.st_size, ROSTER_MAX_BYTES);
        fclose(f);
        return NULL;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto fail;
    *len = fread(buf, 1, (size_t)st.st_size, f);
    if (ferror(f))
        goto fail;
    buf[*len] = '\0';
    fclose(f);
    return buf;
fail:
    fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
    free(buf);
    if (f)
        fclose(f);
    return NULL;
}

static void print_import(const char *file, const struct roster_import_stats *s, bool deact)
{
    printf("%s: %d rows: %d added, %d updated, %d unchanged", file, s->rows, s->added,
           s->updated, s->unchanged);
    if (deact)
        printf(", %d deactivated", s->deactivated);
    printf("\n");
    if (!deact && s->missing)
        printf("%d active people in the ledger are not in this file; "
               "--deactivate-missing deactivates them\n", s->missing);
}

static int cmd_roster_import(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"deactivate-missing", no_argument, NULL, 'd'},
                                          {"by", required_argument, NULL, 'b'},
                                          {NULL, 0, NULL, 0}};
    bool deact = false;
    const char *by = cli_login_name();
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            deact = true;
        else if (c == 'b')
            by = optarg;
        else
            return cli_usage_error("roster import: bad option%s", "");
    }
    if (optind != argc - 1)
        return cli_usage_error("roster import: expected one FILE.csv%s", "");
    const char *file = argv[optind];
    size_t len = 0;
    char *text = read_file(file, &len);
    if (!text)
        return EXIT_FAILED;
    struct roster *r = NULL;
    int problems = roster_parse(file, text, len, &r, stderr);
    free(text);
    if (problems) {
        fprintf(stderr, "%s: %d problem%s; nothing was changed\n", file, problems,
                problems == 1 ? "" : "s");
        return EXIT_FAILED;
    }
    int rc = cli_open_db(cli, true);
    struct roster_import_stats s;
    if (rc == EXIT_OK)
        rc = exit_busy_said(ledger_import_roster(cli->ledger, r, file, deact, by, &s, stderr));
    if (rc == EXIT_OK)
        print_import(file, &s, deact);
    if (rc == EXIT_OK && r->unkept[0])
        printf("columns read and not kept: %s\n", r->unkept);
    if (rc == EXIT_OK && ledger_expect_note(cli->ledger) < 0)
        perror("warning: the ledger's .expected marker");
    roster_free(r);
    return rc;
}

static void print_person(const struct person_view *p, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p->external_id, p->kind, p->name, p->grade,
           p->class_name, p->cards, p->active ? "yes" : "no", p->boarder ? "yes" : "no");
}

static int cmd_roster_list(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"class", required_argument, NULL, 'c'},
                                          {"all", no_argument, NULL, 'a'},
                                          {NULL, 0, NULL, 0}};
    const char *class_name = NULL;
    bool all = false;
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'c')
            class_name = optarg;
        else if (c == 'a')
            all = true;
        else
            return cli_usage_error("roster list: bad option%s", "");
    }
    if (optind != argc)
        return cli_usage_error("roster list: unexpected argument '%s'", argv[optind]);
    int rc = cli_open_db(cli, true);
    if (rc != EXIT_OK)
        return rc;
    printf("external_id\tkind\tname\tgrade\tclass\tcards\tactive\tboarder\n");
    return ledger_list_people(cli->ledger, class_name, all, print_person, NULL) < 0
               ? EXIT_FAILED : EXIT_OK;
}

static int cmd_version(struct cli *cli, int argc, char **argv)
{
    (void)cli;
    (void)argc;
    (void)argv;
    printf("gatescreen " GS_VERSION " (ledger schema %d)\n", ledger_latest_version());
    return EXIT_OK;
}

static const struct command *commands(int *count)
{
    static const struct command cmds[] = {
        {"roster", "import", cmd_roster_import,
         "roster import FILE.csv [--deactivate-missing] [--by NAME]"},
        {"roster", "list", cmd_roster_list, "roster list [--class CLASS] [--all]"},
        {"db", "check", cli_db_check, "db check"},
        {"db", "upgrade", cli_db_upgrade, "db upgrade"},
        {"db", "backup", cli_db_backup, "db backup FILE"},
        {"db", "restore", cli_db_restore, "db restore FILE"},
        {"flags", NULL, cli_flags, "flags"},
        {"check", NULL, cli_check, "check PERSON TEMP --instrument infrared|ear|axillary|oral "
                                   "[--window morning|noon] [--date D] [--by NAME]"},
        {"recheck", NULL, cli_recheck, "recheck PERSON TEMP --instrument ear|axillary|oral|infrared "
                                       "[--by NAME]"},
        {"referral", NULL, cli_referral, "referral PERSON --outcome sent-home|hospital|"
                                         "returned-to-class [--note TEXT] [--by NAME]"},
        {"absences", NULL, cli_absences, "absences [--date D] [--class CLASS]"},
        {"absence", NULL, cli_absence, "absence PERSON [--date D] --cause illness|personal|other "
                                       "[--symptoms fever,cough,...] [--onset D] "
                                       "[--clinic yes|no|unknown] [--diagnosis TEXT] "
                                       "[--note TEXT] [--part noon|evening] [--by NAME]"},
        {"followup", NULL, cli_followup, "followup PERSON [--date D] NOTE [--by NAME]"},
        {"leave", NULL, cli_leave, "leave PERSON --from D --to D [--reason TEXT] [--by NAME]"},
        {"certificate", NULL, cli_certificate, "certificate PERSON --issuer TEXT [--date D] "
                                               "[--by NAME]"},
        {"alerts", NULL, cli_alerts, "alerts"},
        {"alert-close", NULL, cli_alert_close, "alert-close ID [--by NAME]"},
        {"day", NULL, cli_day, "day [--date D]"},
        {"sweep", NULL, cli_sweep, "sweep [--date D] [--by NAME]"},
        {"observe", NULL, cli_observe, "observe PERSON --reason risk-area|close-contact|"
                                       "after-illness|other --days N [--from D] [--note TEXT] "
                                       "[--by NAME]"},
        {"observe-end", NULL, cli_observe_end, "observe-end PERSON [--by NAME]"},
        {"observations", NULL, cli_observations, "observations [--date D] [--class CLASS]"},
        {"observation", NULL, cli_observation, "observation PERSON"},
        {"summary", NULL, cli_summary, "summary [--date D]"},
        {"upload", NULL, cli_upload, "upload [--date D] [--now] [--retry-parked]"},
        {"outbox", NULL, cli_outbox, "outbox [--all]"},
        {"upstream", "enrol", cli_upstream_enrol, "upstream enrol BUNDLE [--dir DIR] "
                                                  "[--config FILE] [--user NAME]"},
        {"user", "add", cli_user_add, "user add NAME --role nurse|teacher|admin|gate "
                                      "[--class CLASS] [--by NAME]"},
        {"user", "list", cli_user_list, "user list"},
        {"user", "passwd", cli_user_passwd, "user passwd NAME [--by NAME]"},
        {"user", "disable", cli_user_disable, "user disable NAME [--by NAME]"},
        {"user", "enable", cli_user_enable, "user enable NAME [--by NAME]"},
        {"terminal", "setup", cli_terminal_setup, "terminal setup NAME [--host ADDR] "
                                                  "[--isapi-port N]"},
        {"calendar", "show", cli_calendar_show, "calendar show"},
        {"calendar", "close", cli_calendar_close, "calendar close DATE|FROM..TO --reason TEXT "
                                                  "[--by NAME]"},
        {"calendar", "reopen", cli_calendar_reopen, "calendar reopen DATE [--by NAME]"},
        {"version", NULL, cmd_version, "version"},
    };
    *count = (int)(sizeof cmds / sizeof cmds[0]);
    return cmds;
}

static const struct command *find_command(int argc, char **argv, int *words)
{
    int n;
    const struct command *cmds = commands(&n);
    for (int i = 0; i < n; i++)
        if ((*words = cmdline_match(cmds[i].group, cmds[i].name, argc, argv)) > 0)
            return &cmds[i];
    return NULL;
}

int main(int argc, char **argv)
{
    struct cli cli = {.config_path = DEFAULT_CONFIG};
    int first, words = 0, cargc;
    char **cargv;
    uploader_forget_environment();
    log_init("gatescreen", LOG_LVL_WARN, LOG_OUT_PLAIN);
    int rc = cmdline_global(argc, argv, usage, &cli.config_path, &first);
    if (rc != CMDLINE_RUN)
        return rc;
    const struct command *cmd = find_command(argc - first, argv + first, &words);
    if (!cmd)
        return cli_usage_error(first < argc ? "unknown command '%s'" : "no command given%s",
                               first < argc ? argv[first] : "");
    cmdline_enter(argc, argv, first, words, &cargc, &cargv);
    rc = cmd->run(&cli, cargc, cargv);
    ledger_close(cli.ledger);
    config_free(cli.cfg);
    return rc;
}
