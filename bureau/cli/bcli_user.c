/* gatescreen-bureau user add|list|disable|enable: the users of the bureau's page
 * (bstore_users.h). As the school's `gatescreen user add`: the password is one line
 * of stdin (read without echo at a terminal), the same rules for names and
 * passwords (user_rules.h), stored as argon2id (libsodium crypto_pwhash_str,
 * interactive limits). */
#include "bcli.h"

#include <getopt.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "bstore_users.h"

#define PW_BUF (USER_PASSWORD_MAX + 2)

/* One line of stdin without its line end, no echo at a terminal; -1 at EOF or when
 * too long. */
static int read_password(char *buf, size_t n)
{
    struct termios saved, quiet;
    bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        quiet.c_lflag |= ECHONL;
        fputs("Password: ", stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    char *got = fgets(buf, (int)n, stdin);
    if (tty)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    size_t len = got ? strcspn(buf, "\n") : 0;
    if (!got || (buf[len] != '\n' && !feof(stdin)))
        return -1;
    buf[len] = '\0';
    if (len && buf[len - 1] == '\r')
        buf[len - 1] = '\0';
    return 0;
}

struct add_args {
    const char *role, *county, *by;
    char name[USER_NAME_MAX];
};

static int add_options(int argc, char **argv, struct add_args *a)
{
    static const struct option opts[] = {{"role", required_argument, NULL, 'r'},
                                          {"county", required_argument, NULL, 'c'},
                                          {"by", required_argument, NULL, 'b'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?')
            return bcli_usage_error("user add: bad option");
        *(c == 'r' ? &a->role : c == 'c' ? &a->county : &a->by) = optarg;
    }
    if (optind != argc - 1)
        return bcli_usage_error("user add: expected one user NAME");
    if (!a->role)
        return bcli_usage_error("user add: --role city|county|auditor|admin is required");
    struct errbuf e;
    return bcli_errs_report(&e, user_rules_normalize(argv[optind], a->name,
                                                     bcli_errs_open(&e)) < 0
                                    ? BSTORE_INVALID : BSTORE_OK);
}

/* The new user's values, then the password (checked and hashed) into hash. */
static int add_checked(struct add_args *a, enum page_role *role, char hash[PAGE_HASH_MAX])
{
    struct errbuf e;
    char pw[PW_BUF];
    int r = page_role_parse(a->role);
    if (r < 0)
        return bcli_fail("user add: unknown role '%s' (city, county, auditor or admin)", a->role);
    *role = (enum page_role)r;
    FILE *errs = bcli_errs_open(&e);
    if (page_user_check(a->name, *role, a->county, errs) < 0)
        return bcli_errs_report(&e, BSTORE_INVALID);
    errbuf_free(&e);
    if (read_password(pw, sizeof pw) < 0)
        return bcli_fail("no password on stdin (one line, at most %d bytes)", USER_PASSWORD_MAX);
    errs = bcli_errs_open(&e);
    int bad = user_rules_password(pw, errs);
    int rc = bcli_errs_report(&e, bad ? BSTORE_INVALID : BSTORE_OK);
    if (rc == EXIT_OK && (sodium_init() < 0 ||
                          crypto_pwhash_str(hash, pw, strlen(pw), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                            crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0))
        rc = bcli_fail("cannot hash the password (out of memory)");
    sodium_memzero(pw, sizeof pw);
    return rc;
}

int bcli_user_add(struct bcli *cli, int argc, char **argv)
{
    struct add_args a = {0};
    enum page_role role = PAGE_AUDITOR; /* set by add_checked; the least a user can do */
    char hash[PAGE_HASH_MAX];
    int rc = add_options(argc, argv, &a);
    if (rc != EXIT_OK || (rc = add_checked(&a, &role, hash)) != EXIT_OK ||
        (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    struct errbuf e;
    rc = bcli_errs_report(&e, bstore_user_add(cli->store, a.name, role, a.county, hash,
                                              a.by ? a.by : bcli_actor(), bcli_errs_open(&e)));
    if (rc == EXIT_OK)
        printf("user %s added (%s%s%s)\n", a.name, page_role_name(role), a.county ? ", county " : "",
               a.county ? a.county : "");
    return rc;
}

static void print_user(const struct page_user *u, void *arg)
{
    (void)arg;
    printf("%s\t%s\t%s\t%s\t%s\n", u->name, page_role_name(u->role), u->county[0] ? u->county : "-",
           u->active ? "active" : "disabled", u->created_at);
}

int bcli_user_list(struct bcli *cli, int argc, char **argv)
{
    (void)argv;
    if (argc != 1)
        return bcli_usage_error("user list takes no arguments");
    int rc = bcli_open(cli);
    if (rc != EXIT_OK)
        return rc;
    printf("name\trole\tcounty\tstate\tcreated\n");
    enum bstore_status st = bstore_user_list(cli->store, print_user, NULL);
    return st == BSTORE_OK ? EXIT_OK : bcli_exit_status(st);
}

static int set_active(struct bcli *cli, int argc, char **argv, bool active)
{
    const char *cmd = active ? "user enable" : "user disable";
    char name[USER_NAME_MAX];
    struct errbuf e;
    if (argc != 2)
        return bcli_usage_error("%s: expected one user NAME", cmd);
    int rc = bcli_errs_report(&e, user_rules_normalize(argv[1], name, bcli_errs_open(&e)) < 0
                                      ? BSTORE_INVALID : BSTORE_OK);
    if (rc != EXIT_OK || (rc = bcli_open(cli)) != EXIT_OK)
        return rc;
    rc = bcli_errs_report(&e, bstore_user_set_active(cli->store, name, active, bcli_actor(),
                                                     bcli_errs_open(&e)));
    if (rc == EXIT_OK)
        printf("user %s %s; their sessions on the page end at their next request\n", name,
               active ? "enabled" : "disabled");
    return rc;
}

int bcli_user_disable(struct bcli *cli, int argc, char **argv)
{
    return set_active(cli, argc, argv, false);
}

int bcli_user_enable(struct bcli *cli, int argc, char **argv)
{
    return set_active(cli, argc, argv, true);
}
