/* The web page's users from the command line. Passwords come from the terminal
 * (no echo, asked twice) or, when stdin is not a terminal, as one line of stdin;
 * they are stored as argon2id (libsodium crypto_pwhash_str, interactive limits).
 * The rules for names, roles and passwords are the ledger's (ledger_users.h). */
#include "cli_user.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "clock.h"
#include "ledger_users.h"
#include "log.h"

#define PW_BUF (USER_PASSWORD_MAX + 2) /* the password, its newline, the NUL */

/* ---- options ---------------------------------------------------------------------- */

struct user_args {
    const char *role, *class_name, *by;
    const char *name;           /* in NFKC form, as names are stored (`norm`) */
    const char *given;          /* as typed */
    char norm[USER_NAME_MAX];
};

/* NAME plus the options `allowed` ("rcb": --role, --class, --by). */
static int parse(int argc, char **argv, const char *cmd, const char *allowed, struct user_args *a)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                          {"class", required_argument, NULL, 'c'},
                                          {"by", required_argument, NULL, 'b'},
                                          {NULL, 0, NULL, 0}};
    char msg[96];
    int c;
    *a = (struct user_args){.by = cli_login_name()};
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?' || !strchr(allowed, c)) {
            snprintf(msg, sizeof msg, "user %s: bad option", cmd);
            return cli_usage_error("%s", msg);
        }
        const char **slot = c == 'r' ? &a->role : c == 'c' ? &a->class_name : &a->by;
        *slot = optarg;
    }
    if (optind != argc - 1) {
        snprintf(msg, sizeof msg, "user %s: expected one user NAME", cmd);
        return cli_usage_error("%s", msg);
    }
    a->given = argv[optind];
    struct cli_errs e;
    int rc = cli_errs_report(&e, ledger_user_name_normalize(a->given, a->norm,
                                                            cli_errs_open(&e)));
    a->name = a->norm;
    return rc;
}

/* ---- passwords -------------------------------------------------------------------- */

static struct termios saved_tty;
static volatile sig_atomic_t tty_changed;

/* Ctrl-C at the prompt must not leave the terminal without echo. */
static void restore_tty(int signo)
{
    if (tty_changed)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    signal(signo, SIG_DFL);
    raise(signo);
}

/* One line of stdin without its line end; -1 at EOF or when too long. */
static int read_line(char *buf, size_t n)
{
    if (!fgets(buf, (int)n, stdin))
        return -1;
    size_t len = strcspn(buf, "\n");
    if (buf[len] != '\n' && !feof(stdin))
        return -1; /* longer than the buffer */
    buf[len] = '\0';
    if (len && buf[len - 1] == '\r')
        buf[len - 1] = '\0';
    return 0;
}

static int prompt_no_echo(const char *prompt, char *buf, size_t n)
{
    struct termios quiet;
    if (tcgetattr(STDIN_FILENO, &saved_tty) < 0)
        return -1;
    quiet = saved_tty;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    quiet.c_lflag |= ECHONL;
    signal(SIGINT, restore_tty);
    signal(SIGTERM, restore_tty);
    fputs(prompt, stderr);
    fflush(stderr);
    tty_changed = 1;
    int rc = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    if (rc == 0)
        rc = read_line(buf, n);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tty);
    tty_changed = 0;
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    return rc;
}

/* The new password of `name` into buf: twice at a terminal, else one stdin line. */
static int get_password(const char *name, char *buf, size_t n)
{
    if (!isatty(STDIN_FILENO)) {
        if (read_line(buf, n) < 0)
            return cli_fail("no password on stdin (one line, at most %d bytes)", USER_PASSWORD_MAX);
        return EXIT_OK;
    }
    char again[PW_BUF], prompt[160];
    snprintf(prompt, sizeof prompt, "New password for %s: ", name);
    int rc = EXIT_OK;
    if (prompt_no_echo(prompt, buf, n) < 0 || prompt_no_echo("Again: ", again, sizeof again) < 0)
        rc = cli_fail("no password read from the terminal");
    else if (strcmp(buf, again) != 0)
        rc = cli_fail("the two passwords differ; nothing was changed");
    sodium_memzero(again, sizeof again);
    return rc;
}

/* Asks for, checks and hashes the new password. */
static int new_password_hash(const char *name, char hash[crypto_pwhash_STRBYTES])
{
    char pw[PW_BUF];
    struct cli_errs e;
    int rc = get_password(name, pw, sizeof pw);
    if (rc == EXIT_OK)
        rc = cli_errs_report(&e, ledger_user_check_password(pw, cli_errs_open(&e)));
    if (rc == EXIT_OK && sodium_init() < 0)
        rc = cli_fail("libsodium cannot start");
    if (rc == EXIT_OK && crypto_pwhash_str(hash, pw, strlen(pw),
                                           crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                           crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        rc = cli_fail("cannot hash the password (out of memory?)");
    sodium_memzero(pw, sizeof pw);
    return rc;
}

/* ---- commands --------------------------------------------------------------------- */

int cli_user_add(struct cli *cli, int argc, char **argv)
{
    struct user_args a;
    char hash[crypto_pwhash_STRBYTES];
    struct cli_errs e;
    int rc = parse(argc, argv, "add", "rcb", &a);
    if (rc != EXIT_OK)
        return rc;
    if (!a.role)
        return cli_usage_error("user add: --role nurse|teacher|admin|gate is required%s", "");
    /* Refused values before the password is asked for, and before the ledger opens.
     * The name is stored in its NFKC form (full-width letters become ASCII...). */
    if (strcmp(a.given, a.name) != 0)
        printf("user name '%s' is stored in its normal form (NFKC): '%s'\n", a.given, a.name);
    rc = cli_errs_report(&e, ledger_user_check(a.name, a.role, a.class_name, cli_errs_open(&e)));
    if (rc != EXIT_OK)
        return rc;
    if ((rc = cli_open_db(cli, true)) != EXIT_OK)
        return rc;
    struct user_row old;
    int found;
    if (ledger_user_find(cli->ledger, a.name, &old, &found) < 0)
        return EXIT_FAILED;
    if (found)
        return cli_fail("a user named '%s' exists already", a.name);
    if ((rc = new_password_hash(a.name, hash)) != EXIT_OK)
        return rc;
    struct user_new in = {.name = a.name, .role = a.role, .class_name = a.class_name,
                          .password_hash = hash, .by = a.by, .at_ms = clock_wall_ms()};
    if ((rc = cli_errs_report(&e, ledger_user_add(cli->ledger, &in, cli_errs_open(&e)))) != EXIT_OK)
        return rc;
    printf("user %s added: %s%s%s\n", a.name, a.role, a.class_name ? ", class " : "",
           a.class_name ? a.class_name : "");
    return EXIT_OK;
}

static void print_user(const struct user_row *u, void *arg)
{
    int64_t now = *(const int64_t *)arg;
    char until[32] = "";
    if (u->locked_until_ms > now)
        civil_local_text(u->locked_until_ms, CIVIL_DAY_HHMM, "?", until, sizeof until);
    printf("%s\t%s\t%s\t%s\t%d\t%s\n", u->name, u->role, u->class_name[0] ? u->class_name : "-",
           u->active ? "yes" : "no", u->failed_logins, until[0] ? until : "-");
}

int cli_user_list(struct cli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return cli_usage_error("user list: takes no arguments%s", "");
    int rc = cli_open_db(cli, true);
    if (rc != EXIT_OK)
        return rc;
    int64_t now = clock_wall_ms();
    printf("name\trole\tclass\tactive\tfailed_logins\tlocked_until\n");
    return ledger_user_list(cli->ledger, print_user, &now) < 0 ? EXIT_FAILED : EXIT_OK;
}

int cli_user_passwd(struct cli *cli, int argc, char **argv)
{
    struct user_args a;
    char hash[crypto_pwhash_STRBYTES];
    struct cli_errs e;
    int rc = parse(argc, argv, "passwd", "b", &a);
    if (rc == EXIT_OK)
        rc = cli_open_db(cli, true);
    if (rc != EXIT_OK)
        return rc;
    struct user_row u;
    int found;
    if (ledger_user_find(cli->ledger, a.name, &u, &found) < 0)
        return EXIT_FAILED;
    if (!found)
        return cli_fail("no user named '%s'", a.name);
    if ((rc = new_password_hash(a.name, hash)) != EXIT_OK)
        return rc;
    if ((rc = cli_errs_report(&e, ledger_user_set_password(cli->ledger, a.name, hash, a.by,
                                                       cli_errs_open(&e)))) != EXIT_OK)
        return rc;
    printf("user %s: password changed; the user's web sessions end\n", a.name);
    return EXIT_OK;
}

static int set_active(struct cli *cli, int argc, char **argv, bool active)
{
    struct user_args a;
    struct cli_errs e;
    int changed;
    int rc = parse(argc, argv, active ? "enable" : "disable", "b", &a);
    if (rc == EXIT_OK)
        rc = cli_open_db(cli, true);
    if (rc != EXIT_OK)
        return rc;
    if ((rc = cli_errs_report(&e, ledger_user_set_active(cli->ledger, a.name, active, a.by,
                                                     &changed, cli_errs_open(&e)))) != EXIT_OK)
        return rc;
    if (!changed)
        printf("user %s was %s already\n", a.name, active ? "enabled" : "disabled");
    else if (active)
        printf("user %s enabled (and unlocked)\n", a.name);
    else
        printf("user %s disabled; the user's web sessions end\n", a.name);
    return EXIT_OK;
}

int cli_user_disable(struct cli *cli, int argc, char **argv)
{
    return set_active(cli, argc, argv, false);
}

int cli_user_enable(struct cli *cli, int argc, char **argv)
{
    return set_active(cli, argc, argv, true);
}
