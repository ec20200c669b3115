/* The bureau's configuration file (bconfig.h). The school's parser (config/) is
 * built for its many named sections; this file has two fixed sections and a dozen
 * keys, so it is one table and one value parser per kind of value. As there, our
 * own reader feeds inih one line at a time (Debian's inih gives the handler no
 * line number), handles comments and section headers itself, and lets inih split
 * "key = value" and strip inline " ;" comments. */
#include "bconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "secret_file.h"
#include "textnum.h"
#include "zone.h"

#define FILE_MAX (256 * 1024)
#define DSN_FILE_MAX 4096

enum bsect { BS_NONE, BS_COLLECTOR, BS_DATABASE, BS_PULL, BS_DEADLINES, BS_PAGE, BS_COUNT };
static const char *const sect_names[BS_COUNT] = {"", "collector", "database", "pull",
                                                 "deadlines", "page"};
/* A file from before a section existed still loads: only these must be there. */
static const bool sect_required[BS_COUNT] = {false, true, true, false, false, false};

struct bparser;
struct bkey;
typedef void (*value_fn)(struct bparser *p, const struct bkey *k, const char *v);

struct bkey {
    enum bsect sect;
    const char *name;
    value_fn parse;
    size_t off, size; /* the member in struct bconfig */
    long min, max;    /* numbers; milliseconds for durations; bytes for sizes */
    bool required;
};

#define MAX_MESSAGES 200

struct bmessage {
    int line, seq;
    char text[600];
};

struct bparser {
    const char *name;
    FILE *errs;
    int count;
    struct bmessage *msgs; /* the first MAX_MESSAGES, written sorted by line at the end */
    const char *base_dir;
    struct bconfig *cfg;
    const char *text;
    size_t len, pos;
    int lineno;
    enum bsect sect;
    int sect_line[BS_COUNT];
    int key_line[32];
};

static void v_listen(struct bparser *p, const struct bkey *k, const char *v);
static void v_path(struct bparser *p, const struct bkey *k, const char *v);
static void v_instance(struct bparser *p, const struct bkey *k, const char *v);
static void v_int(struct bparser *p, const struct bkey *k, const char *v);
static void v_duration(struct bparser *p, const struct bkey *k, const char *v);
static void v_size(struct bparser *p, const struct bkey *k, const char *v);
static void v_log_level(struct bparser *p, const struct bkey *k, const char *v);
static void v_dsn(struct bparser *p, const struct bkey *k, const char *v);
static void v_token_files(struct bparser *p, const struct bkey *k, const char *v);
static void v_token_sha256(struct bparser *p, const struct bkey *k, const char *v);
static void v_hhmm(struct bparser *p, const struct bkey *k, const char *v);
static void v_timezone(struct bparser *p, const struct bkey *k, const char *v);

#define M(member) offsetof(struct bconfig, member), sizeof(((struct bconfig *)0)->member)
#define SEC 1000L
static const struct bkey keys[] = {
    {BS_COLLECTOR, "listen", v_listen, M(collector.listen), 0, 0, true},
    {BS_COLLECTOR, "tls_cert", v_path, M(collector.tls_cert), 0, 0, true},
    {BS_COLLECTOR, "tls_key", v_path, M(collector.tls_key), 0, 0, true},
    {BS_COLLECTOR, "client_ca", v_path, M(collector.client_ca), 0, 0, true},
    {BS_COLLECTOR, "instance", v_instance, M(collector.instance), 0, 0, false},
    {BS_COLLECTOR, "threads", v_int, M(collector.threads), 1, 256, false},
    {BS_COLLECTOR, "connection_timeout", v_duration, M(collector.connection_timeout_ms),
     1 * SEC, 3600 * SEC, false},
    {BS_COLLECTOR, "max_body", v_size, M(collector.max_body), 1024, 64L << 20, false},
    {BS_COLLECTOR, "rate_per_minute", v_int, M(collector.rate_per_minute), 0, 1000000, false},
    {BS_COLLECTOR, "rate_burst", v_int, M(collector.rate_burst), 1, 1000000, false},
    {BS_COLLECTOR, "log_level", v_log_level, M(collector.log_level), 0, 0, false},
    {BS_DATABASE, "dsn", v_dsn, M(database.dsn), 0, 0, false},
    {BS_DATABASE, "dsn_file", v_path, M(database.dsn_file), 0, 0, false},
    {BS_DATABASE, "connect_timeout", v_duration, M(database.connect_timeout_ms), 1 * SEC,
     300 * SEC, false},
    {BS_DATABASE, "statement_timeout", v_duration, M(database.statement_timeout_ms), 100,
     3600 * SEC, false},
    {BS_PULL, "token_files", v_token_files, M(pull.token_files), 0, 0, false},
    {BS_PULL, "token_sha256", v_token_sha256, M(pull.token_sha256), 0, 0, false},
    {BS_DEADLINES, "morning", v_hhmm, M(deadlines.morning), 0, 0, false},
    {BS_DEADLINES, "day", v_hhmm, M(deadlines.day), 0, 0, false},
    {BS_DEADLINES, "timezone", v_timezone, M(deadlines.timezone), 0, 0, false},
    {BS_PAGE, "listen", v_listen, M(page.listen), 0, 0, true},
    {BS_PAGE, "tls_cert", v_path, M(page.tls_cert), 0, 0, true},
    {BS_PAGE, "tls_key", v_path, M(page.tls_key), 0, 0, true},
    {BS_PAGE, "threads", v_int, M(page.threads), 1, 64, false},
    {BS_PAGE, "session_idle", v_duration, M(page.session_idle_ms), 60 * SEC, 24 * 3600 * SEC,
     false},
    {BS_PAGE, "session_max", v_duration, M(page.session_max_ms), 60 * SEC, 7 * 24 * 3600 * SEC,
     false},
};
#define NKEYS (sizeof keys / sizeof keys[0])
_Static_assert(NKEYS <= sizeof((struct bparser *)0)->key_line / sizeof(int), "key_line size");

/* ---- problems ------------------------------------------------------------------ */

/* Problems are kept and written sorted by line at the end, so that the checks made
 * once the whole file is read (missing keys) appear where they belong. */
GS_PRINTF(3, 4)
static void problem(struct bparser *p, int line, const char *fmt, ...)
{
    va_list ap;
    int k = p->count++;
    if (!p->errs || !p->msgs || k >= MAX_MESSAGES)
        return;
    va_start(ap, fmt);
    p->msgs[k].line = line;
    p->msgs[k].seq = k;
    vsnprintf(p->msgs[k].text, sizeof p->msgs[k].text, fmt, ap);
    va_end(ap);
}

static int by_line(const void *a, const void *b)
{
    const struct bmessage *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static void flush_problems(struct bparser *p)
{
    int n = p->count < MAX_MESSAGES ? p->count : MAX_MESSAGES;
    if (!p->errs)
        return;
    if (!p->msgs && p->count)
        fprintf(p->errs, "%s: %d problems (out of memory to say which)\n", p->name, p->count);
    if (p->msgs)
        qsort(p->msgs, (size_t)n, sizeof *p->msgs, by_line);
    for (int i = 0; p->msgs && i < n; i++)
        fprintf(p->errs, "%s:%d: %s\n", p->name, p->msgs[i].line, p->msgs[i].text);
    if (p->count > MAX_MESSAGES)
        fprintf(p->errs, "%s: ... and %d more problems\n", p->name, p->count - MAX_MESSAGES);
}

/* "[collector] max_body: " before the message, at the key's line. */
GS_PRINTF(3, 4)
static void bad(struct bparser *p, const struct bkey *k, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    problem(p, p->lineno, "[%s] %s: %s", sect_names[k->sect], k->name, msg);
}

/* Why v cannot be a value here, or NULL: values are shown in messages and logs. */
static const char *text_problem(const char *v)
{
    size_t n = strlen(v);
    if (n == 0)
        return "is empty";
    if (tn_utf8_invalid_at(v, n) >= 0)
        return "is not valid UTF-8";
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
            return "has a control character";
    return NULL;
}

static void *member(struct bparser *p, const struct bkey *k)
{
    return (char *)p->cfg + k->off;
}

static int copy_text(struct bparser *p, const struct bkey *k, const char *v)
{
    const char *why = text_problem(v);
    if (why) {
        bad(p, k, "the value %s", why);
        return -1;
    }
    if (strlen(v) >= k->size) {
        bad(p, k, "too long (at most %zu bytes)", k->size - 1);
        return -1;
    }
    memcpy(member(p, k), v, strlen(v) + 1);
    return 0;
}

/* ---- values -------------------------------------------------------------------- */

/* "ADDR:PORT", IPv6 in brackets: "[::]:8443". */
static void v_listen(struct bparser *p, const struct bkey *k, const char *v)
{
    /* The collector's and the page's: the same two members beside listen. */
    char *address = k->sect == BS_PAGE ? p->cfg->page.address : p->cfg->collector.address;
    int *port_out = k->sect == BS_PAGE ? &p->cfg->page.port : &p->cfg->collector.port;
    const char *colon = strrchr(v, ':');
    unsigned char buf[16];
    long port;
    if (copy_text(p, k, v) < 0)
        return;
    size_t n = colon ? (size_t)(colon - v) : 0;
    if (n >= 2 && v[0] == '[' && v[n - 1] == ']')
        v++, n -= 2;
    if (!colon || n == 0 || n >= sizeof p->cfg->page.address ||
        tn_long(colon + 1, 1, 65535, &port) < 0)
        goto fail;
    memcpy(address, v, n);
    address[n] = '\0';
    if (inet_pton(AF_INET, address, buf) != 1 && inet_pton(AF_INET6, address, buf) != 1)
        goto fail;
    *port_out = (int)port;
    return;
fail:
    address[0] = '\0';
    bad(p, k, "\"%s\" is not ADDRESS:PORT (e.g. 0.0.0.0:8443, [::]:8443, 127.0.0.1:8443)", v);
}

/* A relative path in dst[size] (copied there already) put in the configuration's
 * folder. */
static void in_base_dir(struct bparser *p, const struct bkey *k, char *dst, size_t size)
{
    size_t dn = strlen(p->base_dir), n = strlen(dst);
    if (dn + 1 + n >= size) {
        bad(p, k, "too long once put in the configuration's folder (at most %zu bytes)",
            size - 1);
        dst[0] = '\0';
        return;
    }
    memmove(dst + dn + 1, dst, n + 1);
    memcpy(dst, p->base_dir, dn);
    dst[dn] = '/';
}

static void v_path(struct bparser *p, const struct bkey *k, const char *v)
{
    if (copy_text(p, k, v) < 0 || v[0] == '/' || !p->base_dir)
        return;
    in_base_dir(p, k, member(p, k), k->size);
}

static bool instance_chars(const char *v)
{
    for (; *v; v++)
        if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
              (*v >= '0' && *v <= '9') || *v == '-' || *v == '_' || *v == '.'))
            return false;
    return true;
}

static void v_instance(struct bparser *p, const struct bkey *k, const char *v)
{
    if (!instance_chars(v)) {
        bad(p, k, "\"%s\" is not a name of letters, digits, '.', '_' and '-'", v);
        return;
    }
    copy_text(p, k, v);
}

static void v_int(struct bparser *p, const struct bkey *k, const char *v)
{
    long n;
    if (tn_long(v, k->min, k->max, &n) < 0)
        bad(p, k, "\"%s\" is not a whole number from %ld to %ld", v, k->min, k->max);
    else
        *(int *)member(p, k) = (int)n;
}

static void v_duration(struct bparser *p, const struct bkey *k, const char *v)
{
    char lo[TN_DURATION_LEN], hi[TN_DURATION_LEN];
    if (tn_duration_ms(v, k->min, k->max, (int64_t *)member(p, k)) < 0)
        bad(p, k, "\"%s\" is not a duration from %s to %s (e.g. 500ms, 5s, 2min)", v,
            tn_format_ms(k->min, lo), tn_format_ms(k->max, hi));
}

/* Bytes, with an optional k or M (binary: 1k = 1024). */
static void v_size(struct bparser *p, const struct bkey *k, const char *v)
{
    char num[32];
    size_t n = strlen(v);
    long mult = 1, val;
    if (n > 0 && (v[n - 1] == 'k' || v[n - 1] == 'K'))
        mult = 1024, n--;
    else if (n > 0 && v[n - 1] == 'M')
        mult = 1024 * 1024, n--;
    if (n == 0 || n >= sizeof num)
        goto fail;
    memcpy(num, v, n);
    num[n] = '\0';
    if (tn_long(num, 0, LONG_MAX / mult, &val) < 0 || val * mult < k->min || val * mult > k->max)
        goto fail;
    *(long *)member(p, k) = val * mult;
    return;
fail:
    bad(p, k, "\"%s\" is not a size from %ldk to %ldM (bytes, or with k or M)", v,
        k->min / 1024, k->max / (1024 * 1024));
}

static void v_log_level(struct bparser *p, const struct bkey *k, const char *v)
{
    enum log_level lvl;
    if (log_parse_level(v, &lvl) < 0)
        bad(p, k, "\"%s\" is not one of err, warning, notice, info, debug", v);
    else
        *(int *)member(p, k) = (int)lvl;
}

static void v_dsn(struct bparser *p, const struct bkey *k, const char *v)
{
    copy_text(p, k, v);
}

/* The next item of a list separated by commas or blanks into item[size]: its
 * length (0 at the end), or -1 when it does not fit (item then has its start). */
static int next_item(const char **v, char *item, size_t size)
{
    const char *s = *v + strspn(*v, ", \t");
    size_t n = strcspn(s, ", \t"), k = n < size ? n : size - 1;
    *v = s + n;
    memcpy(item, s, k);
    item[k] = '\0';
    return n < size ? (int)n : -1;
}

static void v_token_files(struct bparser *p, const struct bkey *k, const char *v)
{
    struct bcfg_pull *pl = &p->cfg->pull;
    char item[BCFG_TEXT_MAX];
    int n;
    if (text_problem(v)) {
        bad(p, k, "the value %s", text_problem(v));
        return;
    }
    while ((n = next_item(&v, item, sizeof item)) != 0) {
        if (n < 0) {
            bad(p, k, "a path is longer than %d bytes", BCFG_TEXT_MAX - 1);
            return;
        }
        if (pl->n_token_files == BCFG_PULL_MAX) {
            bad(p, k, "more than %d files", BCFG_PULL_MAX);
            return;
        }
        char *dst = pl->token_files[pl->n_token_files++];
        memcpy(dst, item, (size_t)n + 1);
        if (item[0] != '/' && p->base_dir)
            in_base_dir(p, k, dst, BCFG_TEXT_MAX);
    }
}

static bool sha256_hex(char *s)
{
    if (strlen(s) != 64)
        return false;
    for (; *s; s++) {
        if (*s >= 'A' && *s <= 'F')
            *s = (char)(*s - 'A' + 'a');
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    }
    return true;
}

static void v_token_sha256(struct bparser *p, const struct bkey *k, const char *v)
{
    struct bcfg_pull *pl = &p->cfg->pull;
    char item[80];
    int n;
    while ((n = next_item(&v, item, sizeof item)) != 0) {
        if (n < 0 || !sha256_hex(item)) {
            bad(p, k, "\"%s%s\" is not a SHA-256 (64 hex digits)", item, n < 0 ? "..." : "");
            return;
        }
        if (pl->n_token_sha256 == BCFG_PULL_MAX) {
            bad(p, k, "more than %d digests", BCFG_PULL_MAX);
            return;
        }
        memcpy(pl->token_sha256[pl->n_token_sha256++], item, 65);
    }
}

/* A time of day, "HH:MM", as minutes after midnight. */
static void v_hhmm(struct bparser *p, const struct bkey *k, const char *v)
{
    if (tn_hhmm(v, (int *)member(p, k)) < 0)
        bad(p, k, "\"%s\" is not a time of day HH:MM (00:00 to 23:59)", v);
}

/* Checked here, not only by PostgreSQL when a deadline is computed: a zone it does
 * not know would fail every `missing` instead of the start. PostgreSQL on Debian
 * reads the same /usr/share/zoneinfo. */
static void v_timezone(struct bparser *p, const struct bkey *k, const char *v)
{
    char path[BCFG_TEXT_MAX + 32];
    if (!zone_name_ok(v))
        bad(p, k, "\"%s\" is not a time zone name such as Asia/Shanghai", v);
    else if (!zone_installed(v, path, sizeof path))
        bad(p, k, "\"%s\" is not a time zone known to this system (no file %s)", v, path);
    else
        copy_text(p, k, v);
}

/* ---- reading ------------------------------------------------------------------- */

static const char *trim(const char *s, size_t *n)
{
    while (*n > 0 && (*s == ' ' || *s == '\t' || *s == '\r'))
        s++, (*n)--;
    while (*n > 0 && (s[*n - 1] == ' ' || s[*n - 1] == '\t' || s[*n - 1] == '\r'))
        (*n)--;
    return s;
}

static void section_line(struct bparser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    size_t hn = close ? (size_t)(close - s) - 1 : 0, rest = close ? n - hn - 2 : 0;
    const char *h = trim(s + 1, &hn), *after = close ? trim(close + 1, &rest) : NULL;
    p->sect = BS_NONE;
    if (!close || (rest > 0 && after[0] != ';' && after[0] != '#')) {
        problem(p, p->lineno, "syntax error in the section header");
        return;
    }
    for (int i = 1; i < BS_COUNT; i++) {
        if (strlen(sect_names[i]) != hn || memcmp(sect_names[i], h, hn) != 0)
            continue;
        if (p->sect_line[i])
            problem(p, p->lineno, "duplicate section [%s] (first on line %d)", sect_names[i],
                    p->sect_line[i]);
        else
            p->sect = (enum bsect)i, p->sect_line[i] = p->lineno;
        return;
    }
    char known[128] = "";
    for (int i = 1; i < BS_COUNT; i++)
        tn_append(known, sizeof known, "%s%s", i == 1 ? "" : i + 1 < BS_COUNT ? ", " : " or ",
                  sect_names[i]);
    problem(p, p->lineno, "unknown section [%.*s] (expected %s)", (int)hn, h, known);
}

/* inih's reader: one line at a time; section headers, comments and blank lines are
 * dealt with here and passed on as empty lines. */
static char *read_line(char *buf, int num, void *stream)
{
    struct bparser *p = stream;
    if (p->pos >= p->len || num < 1)
        return NULL;
    const char *s = p->text + p->pos, *nl = memchr(s, '\n', p->len - p->pos);
    size_t n = nl ? (size_t)(nl - s) : p->len - p->pos;
    p->pos += n + (nl != NULL);
    p->lineno++;
    if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3, n -= 3;
    s = trim(s, &n);
    buf[0] = '\0';
    if (n == 0 || s[0] == ';' || s[0] == '#')
        return buf;
    if (memchr(s, '\0', n))
        problem(p, p->lineno, "NUL byte in the line");
    else if (s[0] == '[')
        section_line(p, s, n);
    else if (!memchr(s, '=', n))
        problem(p, p->lineno, "syntax error (expected [section] or key = value)");
    else if (n >= (size_t)num)
        problem(p, p->lineno, "line too long (%zu bytes, at most %d; a long dsn goes in "
                              "dsn_file)", n, num - 1);
    else
        memcpy(buf, s, n), buf[n] = '\0';
    return buf;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    struct bparser *p = user;
    (void)section; /* always "": read_line handles the headers */
    if (p->sect == BS_NONE) {
        bool any = false;
        for (int s = 1; s < BS_COUNT; s++)
            any = any || p->sect_line[s];
        if (!any)
            problem(p, p->lineno, "key \"%s\" before any [section]", name);
        return 1; /* else: in an unknown section, already reported */
    }
    for (size_t i = 0; i < NKEYS; i++) {
        if (keys[i].sect != p->sect || strcmp(keys[i].name, name) != 0)
            continue;
        if (p->key_line[i])
            problem(p, p->lineno, "[%s] %s: duplicate key (first on line %d)",
                    sect_names[p->sect], name, p->key_line[i]);
        else
            p->key_line[i] = p->lineno, keys[i].parse(p, &keys[i], value);
        return 1;
    }
    problem(p, p->lineno, "[%s]: unknown key \"%s\"", sect_names[p->sect], name);
    return 1;
}

/* ---- the whole file ------------------------------------------------------------ */

static void defaults(struct bconfig *c)
{
    char host[256] = "";
    c->collector.threads = 4;
    c->collector.connection_timeout_ms = 30 * SEC;
    c->collector.max_body = 256 * 1024;
    c->collector.rate_per_minute = 120;
    c->collector.rate_burst = 60;
    c->collector.log_level = LOG_LVL_INFO;
    c->database.connect_timeout_ms = 5 * SEC;
    c->database.statement_timeout_ms = 10 * SEC;
    c->page.threads = 4;
    c->page.session_idle_ms = 30 * 60 * SEC;
    c->page.session_max_ms = 12 * 3600 * SEC;
    c->deadlines.morning = 10 * 60;
    c->deadlines.day = 17 * 60;
    snprintf(c->deadlines.timezone, sizeof c->deadlines.timezone, "Asia/Shanghai");
    if (gethostname(host, sizeof host - 1) < 0 || !host[0] || !instance_chars(host) ||
        strlen(host) >= sizeof c->collector.instance)
        snprintf(host, sizeof host, "collector");
    memcpy(c->collector.instance, host, strlen(host) + 1); /* fits: checked above */
}

/* The line where the key was given, 0 when it was not. */
static int given(const struct bparser *p, enum bsect s, const char *name)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].sect == s && strcmp(keys[i].name, name) == 0)
            return p->key_line[i];
    return 0;
}

/* The morning's figures are due before the day's: `missing` picks the deadline that
 * passed last by that order. */
static void check_deadlines(struct bparser *p)
{
    const struct bcfg_deadlines *d = &p->cfg->deadlines;
    int m = given(p, BS_DEADLINES, "morning"), dl = given(p, BS_DEADLINES, "day");
    if (d->morning >= d->day)
        problem(p, dl ? dl : m, "[deadlines]: morning (%02d:%02d) must be before day "
                                "(%02d:%02d)", d->morning / 60, d->morning % 60, d->day / 60,
                d->day % 60);
}

static void check_all(struct bparser *p)
{
    for (int s = 1; s < BS_COUNT; s++)
        if (!p->sect_line[s] && sect_required[s])
            problem(p, 1, "missing section [%s]", sect_names[s]);
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].required && p->sect_line[keys[i].sect] && !p->key_line[i])
            problem(p, p->sect_line[keys[i].sect], "[%s]: missing required key \"%s\"",
                    sect_names[keys[i].sect], keys[i].name);
    int dsn = given(p, BS_DATABASE, "dsn"), dsn_file = given(p, BS_DATABASE, "dsn_file");
    if (p->sect_line[BS_DATABASE] && !dsn == !dsn_file)
        problem(p, dsn ? dsn : p->sect_line[BS_DATABASE],
                "[database]: give exactly one of dsn (a libpq connection string) and "
                "dsn_file (a file holding it, when it has a password)");
    if (p->sect_line[BS_PULL] && !given(p, BS_PULL, "token_files") &&
        !given(p, BS_PULL, "token_sha256"))
        problem(p, p->sect_line[BS_PULL], "[pull]: give token_files or token_sha256 (or leave "
                                          "the section out: no pull API)");
    check_deadlines(p);
    p->cfg->page.enabled = p->sect_line[BS_PAGE] != 0;
}

struct bconfig *bconfig_parse(const char *name, const char *text, size_t len,
                              const char *base_dir, FILE *errs)
{
    struct bconfig *c = calloc(1, sizeof *c);
    struct bparser p = {.name = name ? name : "config", .errs = errs, .cfg = c,
                        .base_dir = base_dir, .text = text ? text : "", .len = text ? len : 0};
    if (!c) {
        if (errs)
            fprintf(errs, "%s: out of memory\n", p.name);
        return NULL;
    }
    defaults(c);
    p.msgs = calloc(MAX_MESSAGES, sizeof *p.msgs);
    int rc = ini_parse_stream(read_line, &p, on_key, &p);
    if (rc < 0)
        problem(&p, p.lineno, "out of memory");
    else if (rc > 0)
        problem(&p, rc, "syntax error (expected [section] or key = value)");
    check_all(&p);
    flush_problems(&p);
    free(p.msgs);
    if (p.count > 0) {
        free(c);
        return NULL;
    }
    snprintf(c->path, sizeof c->path, "%s", p.name);
    return c;
}

static char *read_text(const char *path, size_t *len, FILE *errs)
{
    FILE *f = fopen(path, "rb");
    char *buf = f ? malloc(FILE_MAX + 1) : NULL;
    if (!buf) {
        if (errs)
            fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
        if (f)
            fclose(f);
        return NULL;
    }
    *len = fread(buf, 1, FILE_MAX + 1, f);
    bool err = ferror(f), big = *len > FILE_MAX;
    fclose(f);
    if (err || big) {
        if (errs)
            fprintf(errs, "%s: %s\n", path, big ? "too large for a configuration file"
                                                 : "read error");
        free(buf);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

struct bconfig *bconfig_load(const char *path, FILE *errs)
{
    char *abs = realpath(path, NULL), *text = NULL;
    size_t len = 0;
    if (!abs) {
        if (errs)
            fprintf(errs, "%s: cannot read: %s\n", path, strerror(errno));
        return NULL;
    }
    struct bconfig *c = NULL;
    char *slash = strrchr(abs, '/');
    char *dir = strndup(abs, slash == abs ? 1 : (size_t)(slash - abs));
    if (dir && (text = read_text(abs, &len, errs)))
        c = bconfig_parse(path, text, len, dir, errs);
    if (c && strlen(abs) >= sizeof c->path) {
        if (errs)
            fprintf(errs, "%s: path too long\n", path);
        bconfig_free(c);
        c = NULL;
    } else if (c) {
        snprintf(c->path, sizeof c->path, "%s", abs);
    }
    free(text);
    free(dir);
    free(abs);
    return c;
}

void bconfig_free(struct bconfig *c)
{
    if (c)
        explicit_bzero(c->database.dsn, sizeof c->database.dsn);
    free(c);
}

/* ---- the files it names ------------------------------------------------------- */

static void *heap_alloc(size_t n)
{
    return malloc(n);
}

static const struct secret_alloc heap = {heap_alloc, free};

static int check_public(const char *path, const char *what, FILE *errs)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = public_file_read(path, what, 1 << 20, &heap, &buf, &len, errs);
    free(buf);
    return rc;
}

int bconfig_check_files(const struct bconfig *c, FILE *errs)
{
    int bad_files = 0;
    bad_files |= check_public(c->collector.tls_cert, "TLS certificate", errs) < 0;
    bad_files |= check_public(c->collector.client_ca, "client CA", errs) < 0;
    bad_files |= secret_file_check(c->collector.tls_key, "TLS key", errs) < 0;
    if (c->database.dsn_file[0])
        bad_files |= secret_file_check(c->database.dsn_file, "dsn file", errs) < 0;
    for (int i = 0; i < c->pull.n_token_files; i++)
        bad_files |= secret_file_check(c->pull.token_files[i], "pull token file", errs) < 0;
    if (c->page.enabled) {
        bad_files |= check_public(c->page.tls_cert, "page TLS certificate", errs) < 0;
        bad_files |= secret_file_check(c->page.tls_key, "page TLS key", errs) < 0;
    }
    return bad_files ? -1 : 0;
}

int bconfig_dsn(const struct bconfig *c, char **out, FILE *errs)
{
    size_t len = 0;
    *out = NULL;
    if (!c->database.dsn_file[0]) {
        *out = strdup(c->database.dsn);
        if (!*out && errs)
            fprintf(errs, "out of memory\n");
        return *out ? 0 : -1;
    }
    if (secret_file_read(c->database.dsn_file, "dsn file", DSN_FILE_MAX, &heap, out, &len,
                         errs) < 0)
        return -1;
    while (len > 0 && ((*out)[len - 1] == '\n' || (*out)[len - 1] == '\r'))
        (*out)[--len] = '\0';
    if (len == 0 || memchr(*out, '\n', len)) {
        if (errs)
            fprintf(errs, "%s: the dsn file must hold one line (a libpq connection string)\n",
                    c->database.dsn_file);
        explicit_bzero(*out, len);
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}
