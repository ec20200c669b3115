/* `gatescreen upstream enrol BUNDLE` (cli_enrol.h). Everything is checked before
 * anything is written: the bundle, the configuration, the school code, the folder,
 * the owner, and the edited configuration read back by the parser. Then the files
 * and the configuration are replaced as one change (runtime/file_set.h) and
 * checked once more where they are, the way gatescreend checks them at start; if
 * that fails, everything is put back. */
#include "cli_enrol.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "clock.h"
#include "config_edit.h"
#include "config_load.h"
#include "file_set.h"
#include "secret_file.h"
#include "uploader.h"

#define CONF_MAX_BYTES (4 << 20)
#define SECRET_BYTES 32 /* a new pseudonym key (upstream/pseudonym.c) */
#define DAEMON_USER "gatescreen" /* config/gatescreen.sysusers, the unit's User= */

enum target { T_CA, T_CERT, T_KEY, T_TOKEN, T_SECRET, T_CONF, T_COUNT };

/* Where each part goes in DIR (T_SECRET only when the configuration names none). */
static const char *const file_names[T_CONF] = {
    [T_CA] = "bureau-ca.pem", [T_CERT] = "client.pem", [T_KEY] = "client.key",
    [T_TOKEN] = "token", [T_SECRET] = "pseudonym.key",
};

struct enrol {
    const char *bundle_path, *dir_opt, *user;
    struct bundle *b;
    struct config *cfg;
    char *text; /* the configuration as it is */
    size_t len;
    char *new_text;
    size_t new_len;
    struct stat conf_st;
    uid_t uid; /* of the key, token and new pseudonym key; -1: the caller's */
    gid_t gid;
    bool make_secret, set_secret;
    char path[T_COUNT][PATH_MAX];
};

static void enrol_free(struct enrol *en)
{
    bundle_free(en->b);
    config_free(en->cfg);
    free(en->text);
    free(en->new_text);
}

static int parse_args(struct cli *cli, struct enrol *en, int argc, char **argv)
{
    static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
                                          {"config", required_argument, NULL, 'c'},
                                          {"user", required_argument, NULL, 'u'},
                                          {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'd')
            en->dir_opt = optarg;
        else if (c == 'c')
            cli->config_path = optarg;
        else if (c == 'u')
            en->user = optarg;
        else
            return cli_usage_error("upstream enrol: bad option%s", "");
    }
    if (optind != argc - 1)
        return cli_usage_error("upstream enrol: expected one BUNDLE file%s", "");
    en->bundle_path = argv[optind];
    return EXIT_OK;
}

/* ---- what is there now ----------------------------------------------------------- */

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

/* The configuration loaded (it must be valid now), its text, its owner and mode. The
 * file edited is the real one behind a symbolic link. */
static int load_config(struct enrol *en, const char *path, FILE *e)
{
    static const struct secret_alloc heap = {heap_alloc, free};
    if (!(en->cfg = config_load(path, e))) {
        fprintf(e, "%s: fix the configuration first, then enrol again\n", path);
        return EXIT_USAGE;
    }
    if (!realpath(path, en->path[T_CONF])) {
        fprintf(e, "%s: %s\n", path, strerror(errno));
        return EXIT_USAGE;
    }
    if (public_file_read(en->path[T_CONF], "configuration", CONF_MAX_BYTES, &heap, &en->text,
                         &en->len, e) < 0 ||
        stat(en->path[T_CONF], &en->conf_st) < 0)
        return EXIT_USAGE;
    return EXIT_OK;
}

static int check_school(const struct enrol *en, FILE *e)
{
    const char *code = bundle_get(en->b, BUNDLE_SCHOOL);
    if (strcmp(code, en->cfg->school.code) == 0)
        return EXIT_OK;
    fprintf(e, "%s: the bundle is for school %s, but %s:%d: [school] code is %s\n",
            en->bundle_path, code, en->path[T_CONF],
            config_key_line(en->text, en->len, "school", "code"), en->cfg->school.code);
    return EXIT_FAILED;
}

/* DIR: --dir or the configuration's folder; an existing folder, made absolute. */
static int resolve_dir(struct enrol *en, char dir[PATH_MAX], FILE *e)
{
    char conf_dir[PATH_MAX];
    struct stat st;
    memcpy(conf_dir, en->path[T_CONF], PATH_MAX);
    const char *want = en->dir_opt ? en->dir_opt : dirname(conf_dir);
    const char *opt = en->dir_opt ? "--dir " : "";
    if (!realpath(want, dir) || stat(dir, &st) < 0) {
        fprintf(e, "%s%s: %s\n", opt, want,
                errno == ENOENT ? "no such folder" : strerror(errno));
        return EXIT_FAILED;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(e, "%s%s: not a folder\n", opt, want);
        return EXIT_FAILED;
    }
    return EXIT_OK;
}

/* Who gets the key and token: the daemon's user when run as root (the daemon reads
 * them as that user, and refuses them if group or others may), else the caller. */
static int resolve_owner(struct enrol *en, FILE *e)
{
    const char *name = en->user ? en->user : DAEMON_USER;
    struct passwd *pw = getpwnam(name);
    en->uid = (uid_t)-1;
    en->gid = (gid_t)-1;
    if (pw && geteuid() == 0) {
        en->uid = pw->pw_uid;
        en->gid = pw->pw_gid;
        return EXIT_OK;
    }
    if (!en->user || (pw && pw->pw_uid == geteuid()))
        return EXIT_OK; /* no such account here: the files stay the caller's */
    fprintf(e, "--user %s: %s\n", name, !pw ? "no such user on this machine"
                                             : "only root can give files to another user");
    return EXIT_FAILED;
}

static int place(char out[PATH_MAX], const char *dir, const char *name, FILE *e)
{
    if (snprintf(out, PATH_MAX, "%s/%s", dir, name) < PATH_MAX &&
        strlen(out) < CFG_TEXT_MAX)
        return EXIT_OK;
    fprintf(e, "%s: the folder's name is too long for the configuration\n", dir);
    return EXIT_FAILED;
}

/* The paths; the pseudonym key the configuration names is kept (a new key would
 * give everyone new pseudonyms), one is made only where there is none. */
static int plan_paths(struct enrol *en, FILE *e)
{
    char dir[PATH_MAX];
    int rc = resolve_dir(en, dir, e);
    for (int t = 0; t < T_CONF && rc == EXIT_OK; t++)
        rc = place(en->path[t], dir, file_names[t], e);
    if (rc != EXIT_OK)
        return rc;
    en->set_secret = !*en->cfg->upstream.secret_file;
    if (!en->set_secret)
        memcpy(en->path[T_SECRET], en->cfg->upstream.secret_file,
               strlen(en->cfg->upstream.secret_file) + 1);
    en->make_secret = access(en->path[T_SECRET], F_OK) != 0 && errno == ENOENT;
    return EXIT_OK;
}

/* ---- the new configuration --------------------------------------------------------- */

/* The parser reads back exactly what was meant: else the edit is not written. */
static int reads_back(const struct enrol *en, const struct config *c, FILE *e)
{
    const struct cfg_upstream *u = &c->upstream;
    bool same = strcmp(u->url, bundle_get(en->b, BUNDLE_URL)) == 0 &&
                strcmp(u->ca_file, en->path[T_CA]) == 0 &&
                strcmp(u->client_cert, en->path[T_CERT]) == 0 &&
                strcmp(u->client_key, en->path[T_KEY]) == 0 &&
                strcmp(u->token_file, en->path[T_TOKEN]) == 0 &&
                strcmp(u->secret_file, en->path[T_SECRET]) == 0;
    if (!same)
        fprintf(e, "%s: the edited [upstream] does not read back as written\n",
                en->path[T_CONF]);
    return same ? EXIT_OK : EXIT_FAILED;
}

static int edit_config(struct enrol *en, FILE *e)
{
    const struct config_setting set[] = {
        {"url", bundle_get(en->b, BUNDLE_URL)}, {"ca_file", en->path[T_CA]},
        {"client_cert", en->path[T_CERT]},      {"client_key", en->path[T_KEY]},
        {"token_file", en->path[T_TOKEN]},      {"secret_file", en->path[T_SECRET]},
    };
    char dir[PATH_MAX];
    memcpy(dir, en->path[T_CONF], PATH_MAX);
    if (config_edit_section(en->path[T_CONF], en->text, en->len, "upstream", set,
                            en->set_secret ? 6 : 5, &en->new_text, &en->new_len, e) < 0)
        return EXIT_FAILED;
    struct config *c = config_parse(en->path[T_CONF], en->new_text, en->new_len, dirname(dir), e);
    int rc = c ? reads_back(en, c, e) : EXIT_FAILED;
    config_free(c);
    return rc;
}

/* ---- writing ------------------------------------------------------------------------ */

static int stage_secret(const struct enrol *en, struct file_set *s, const struct file_spec *sp,
                        FILE *e)
{
    unsigned char key[SECRET_BYTES];
    if (RAND_bytes(key, sizeof key) != 1) {
        fprintf(e, "%s: no random bytes for a pseudonym key\n", en->path[T_SECRET]);
        return -1;
    }
    int rc = file_set_add(s, en->path[T_SECRET], key, sizeof key, sp, e);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

static int stage_token(const struct enrol *en, struct file_set *s, const struct file_spec *sp,
                       FILE *e)
{
    const char *token = bundle_get(en->b, BUNDLE_TOKEN);
    size_t n = strlen(token);
    char *line = malloc(n + 2);
    if (!line) {
        fprintf(e, "%s: out of memory\n", en->path[T_TOKEN]);
        return -1;
    }
    memcpy(line, token, n);
    line[n] = '\n';
    int rc = file_set_add(s, en->path[T_TOKEN], line, n + 1, sp, e);
    OPENSSL_cleanse(line, n + 1);
    free(line);
    return rc;
}

static int stage_text(struct file_set *s, const char *path, const char *text,
                      const struct file_spec *sp, FILE *e)
{
    return file_set_add(s, path, text, strlen(text), sp, e);
}

/* Every new file as a temporary; the configuration keeps its owner and mode. */
static int stage(const struct enrol *en, struct file_set *s, FILE *e)
{
    const struct file_spec pub = {0644, (uid_t)-1, (gid_t)-1, false},
                           secret = {0600, en->uid, en->gid, false},
                           fresh = {0600, en->uid, en->gid, true},
                           conf = {en->conf_st.st_mode & 07777,
                                   geteuid() == 0 ? en->conf_st.st_uid : (uid_t)-1,
                                   geteuid() == 0 ? en->conf_st.st_gid : (gid_t)-1, false};
    int bad = stage_text(s, en->path[T_CA], bundle_get(en->b, BUNDLE_SERVER_CA), &pub, e) |
              stage_text(s, en->path[T_CERT], bundle_get(en->b, BUNDLE_CERT), &pub, e) |
              stage_text(s, en->path[T_KEY], bundle_get(en->b, BUNDLE_KEY), &secret, e) |
              stage_token(en, s, &secret, e);
    if (!bad && en->make_secret)
        bad = stage_secret(en, s, &fresh, e);
    if (!bad)
        bad = file_set_add(s, en->path[T_CONF], en->new_text, en->new_len, &conf, e);
    return bad ? -1 : 0;
}

/* What gatescreend --check-config and its start check, on the files in place. */
static int check_installed(const struct enrol *en, FILE *e)
{
    struct config *c = config_load(en->path[T_CONF], e);
    int rc = c && secret_file_check_config(c, e) == 0 && uploader_check_files(c, e) == 0;
    config_free(c);
    return rc ? 0 : -1;
}

static int install(const struct enrol *en, FILE *e)
{
    struct file_set *s = file_set_new();
    int rc = -1;
    if (!s)
        fprintf(e, "out of memory\n");
    else if (stage(en, s, e) == 0 && file_set_commit(s, e) == 0) {
        if (check_installed(en, e) == 0)
            rc = file_set_finish(s, e) == 0 ? 0 : 1; /* installed; a .bak is missing */
        else
            file_set_rollback(s, e);
    }
    file_set_free(s);
    return rc;
}

/* ---- the command ------------------------------------------------------------------ */

static void print_done(const struct enrol *en)
{
    char owner[64] = "";
    if (en->uid != (uid_t)-1)
        snprintf(owner, sizeof owner, ", owned by %s", en->user ? en->user : DAEMON_USER);
    printf("school %s enrolled: uploads go to %s\n", en->cfg->school.code,
           bundle_get(en->b, BUNDLE_URL));
    printf("  %-40s the bureau's server CA\n", en->path[T_CA]);
    printf("  %-40s the school's certificate\n", en->path[T_CERT]);
    printf("  %-40s its key (0600%s)\n", en->path[T_KEY], owner);
    printf("  %-40s the bearer token (0600%s)\n", en->path[T_TOKEN], owner);
    if (en->make_secret)
        printf("  %-40s a new pseudonym key (0600%s)\n", en->path[T_SECRET], owner);
    printf("  %-40s [upstream] set; replaced files are kept as FILE.bak\n", en->path[T_CONF]);
    if (geteuid() == 0 && en->uid == (uid_t)-1)
        printf("There is no user %s here: the key and token belong to root, so gatescreend "
               "must run as root to read them (or enrol again with --user).\n", DAEMON_USER);
    printf("Reload gatescreend to use them (systemctl reload gatescreend), then delete %s: "
           "it holds the school's key and token.\n", en->bundle_path);
}

/* The steps up to the first that fails; EXIT_OK when installed. */
static int run(struct cli *cli, struct enrol *en, FILE *e)
{
    int64_t now = clock_wall_ms() / 1000;
    int rc;
    if (!(en->b = bundle_read(en->bundle_path, now, e)))
        return EXIT_FAILED;
    if ((rc = load_config(en, cli->config_path, e)) != EXIT_OK ||
        (rc = check_school(en, e)) != EXIT_OK || (rc = resolve_owner(en, e)) != EXIT_OK ||
        (rc = plan_paths(en, e)) != EXIT_OK || (rc = edit_config(en, e)) != EXIT_OK)
        return rc;
    rc = install(en, e);
    return rc < 0 ? EXIT_FAILED : EXIT_OK;
}

int cli_upstream_enrol(struct cli *cli, int argc, char **argv)
{
    struct enrol en = {0};
    int rc = parse_args(cli, &en, argc, argv);
    if (rc != EXIT_OK)
        return rc;
    struct cli_errs ce;
    FILE *e = cli_errs_open(&ce);
    rc = run(cli, &en, e);
    if (rc != EXIT_OK)
        fprintf(e, "%s: not installed; nothing was changed\n", en.bundle_path);
    cli_errs_report(&ce, LEDGER_OK); /* every line collected, "gatescreen: " before each */
    if (rc == EXIT_OK)
        print_done(&en);
    enrol_free(&en);
    return rc;
}
