/* The configuration file: INI read by inih, every value validated, every problem
 * reported as "FILE:LINE: message" before anything is used.
 *
 * Division of work. Debian's inih calls the handler without a line number and
 * never for a section header, so our own reader (read_line) feeds inih one line at
 * a time and counts lines. It also takes care of everything about a line's shape:
 * comments, blank lines, section headers (handled here, never passed on), syntax
 * errors (all of them, not only inih's first) and over-long lines. inih then only
 * ever sees "key = value" lines; it splits them, strips inline " ;" comments and
 * blanks, and calls on_key, which finds the key's descriptor in a table and lets
 * the descriptor's parser validate and store the value. Cross-key and
 * cross-section rules (references, pairs, orderings) run once the whole file has
 * been read, so sections may come in any order.
 */
#include "config_parse.h"

#include "config_load.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdlib.h>
#include <string.h>


static enum sect find_sect(const char *kind, size_t n)
{
    for (int s = S_NONE + 1; s < S_COUNT; s++)
        if (strlen(cp_sections[s].name) == n && memcmp(cp_sections[s].name, kind, n) == 0)
            return (enum sect)s;
    return S_NONE;
}

static void enter(struct parser *p, enum sect s, int i)
{
    p->sect = s;
    p->index = i;
    p->skip = false;
    cp_inst_of(p, s, i)->line = p->lineno;
}

static void begin_single(struct parser *p, enum sect s, size_t name_len)
{
    const struct inst *in = cp_inst_of(p, s, 0);
    if (name_len > 0)
        cp_problem(p, p->lineno, "[%s] takes no name", cp_sections[s].name);
    else if (in->line != 0)
        cp_problem(p, p->lineno, "duplicate section [%s] (first on line %d)", cp_sections[s].name,
                   in->line);
    else
        enter(p, s, 0);
}

/* Reports why a [kind NAME] cannot be added: its name is taken or the array is full. */
static void name_taken(struct parser *p, enum sect s, const char *name)
{
    const char *kind = cp_sections[s].name;
    int dup = cp_find_named(p->cfg, s, name);
    if (s == S_PROFILE && dup >= 0 && dup < NBUILTIN)
        cp_problem(p, p->lineno, "[profile %s]: that is the name of a built-in profile", name);
    else if (dup >= 0)
        cp_problem(p, p->lineno, "duplicate section [%s %s] (first on line %d)", kind, name,
                   *(const int *)((const char *)cp_element(p->cfg, s, dup) +
                                  cp_sections[s].line_off));
    else
        cp_problem(p, p->lineno, "too many [%s] sections (max %d)", kind, cp_sections[s].max);
}

static void begin_named(struct parser *p, enum sect s, const char *name)
{
    const struct sectdef *sd = &cp_sections[s];
    const char *why = sd->roster_name ? cp_roster_name_problem(name, strlen(name))
                                      : cp_name_problem(name, strlen(name));
    char q[QUOTED_MAX];
    if (name[0] == '\0') {
        cp_problem(p, p->lineno, "[%s] needs a name: [%s NAME]", sd->name, sd->name);
        return;
    }
    if (why != NULL) {
        cp_problem(p, p->lineno, "[%s NAME]: name %s %s", sd->name, cp_quote(name, q), why);
        return;
    }
    int *count = cp_count_of(p->cfg, s);
    if (cp_find_named(p->cfg, s, name) >= 0 || *count >= sd->max) {
        name_taken(p, s, name);
        return;
    }
    int i = (*count)++;
    char *obj = cp_element(p->cfg, s, i);
    sd->init(obj);
    memcpy(obj + sd->name_off, name, strlen(name) + 1);
    *(int *)(obj + sd->line_off) = p->lineno;
    enter(p, s, i);
}

/* hdr: the trimmed text between [ and ]. */
static void begin_section(struct parser *p, char *hdr)
{
    size_t kn = strcspn(hdr, " \t");
    char *name = hdr + kn, q[QUOTED_MAX];
    while (isspace((unsigned char)*name))
        name++;
    enum sect s = find_sect(hdr, kn);
    if (s == S_NONE) {
        hdr[kn] = '\0';
        cp_quote(hdr, q); /* shown without its quotes, inside the brackets */
        cp_problem(p, p->lineno, "unknown section [%.*s] (expected daemon, school, ledger, "
                              "windows, screening, upstream, web, gpio, terminals, calendar, "
                              "bus, profile, device, terminal, lane, grade or class)",
                (int)strlen(q) - 2, q + 1);
    } else if (cp_sections[s].named) {
        begin_named(p, s, name);
    } else {
        begin_single(p, s, strlen(name));
    }
}

/* ---- reading lines --------------------------------------------------------------- */

static void syntax(struct parser *p, const char *what)
{
    cp_problem(p, p->lineno, "syntax error (%s)", what);
    p->syntax_line = p->lineno;
}

/* The next line of the text without its line end; NULL at the end. */
static const char *next_line(struct parser *p, size_t *n)
{
    if (p->pos >= p->len)
        return NULL;
    const char *s = p->text + p->pos;
    const char *nl = memchr(s, '\n', p->len - p->pos);
    *n = nl ? (size_t)(nl - s) : p->len - p->pos;
    p->pos += *n + (nl != NULL);
    p->lineno++;
    return s;
}

const char *cp_trim(const char *s, size_t *n)
{
    while (*n > 0 && isspace((unsigned char)*s))
        s++, (*n)--;
    while (*n > 0 && isspace((unsigned char)s[*n - 1]))
        (*n)--;
    return s;
}

/* A [section] line is dispatched here and never shown to inih. */
static void section_line(struct parser *p, const char *s, size_t n)
{
    const char *close = memchr(s, ']', n);
    /* Keys after a broken header would land in the section before it. */
    p->sect = S_NONE;
    p->skip = true;
    if (close == NULL) {
        syntax(p, "no ] at the end of the section header");
        return;
    }
    size_t rest = n - (size_t)(close + 1 - s), hn = (size_t)(close - s) - 1;
    const char *after = cp_trim(close + 1, &rest), *h = cp_trim(s + 1, &hn);
    char hdr[CFG_TEXT_MAX];
    if (rest > 0 && after[0] != ';' && after[0] != '#') {
        syntax(p, "text after the ] of a section header");
    } else if (hn >= sizeof hdr) {
        cp_problem(p, p->lineno, "section header too long");
    } else {
        memcpy(hdr, h, hn);
        hdr[hn] = '\0';
        begin_section(p, hdr);
    }
}

/* inih's own rule for a key line: '=' or ':' before any " ;" comment, with a
 * name before it. Checked here so that every bad line is reported, not the first. */
static bool key_line_ok(struct parser *p, const char *s, size_t n)
{
    bool was_space = false;
    size_t i = 0;
    for (; i < n && s[i] != '=' && s[i] != ':' && !(was_space && s[i] == ';'); i++)
        was_space = isspace((unsigned char)s[i]) != 0;
    if (i == n || s[i] == ';')
        syntax(p, "expected [section] or key = value");
    else if (i == 0)
        syntax(p, "no key name before the '='");
    return i < n && s[i] != ';' && i > 0;
}

/* inih's reader: hands over the next line, or an empty one for lines dealt with
 * here. Leading blanks are dropped, so inih never sees a continuation line. */
static char *read_line(char *buf, int num, void *stream)
{
    struct parser *p = stream;
    size_t n;
    const char *s = next_line(p, &n);
    if (s == NULL || num < 1)
        return NULL;
    if (p->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3, n -= 3; /* UTF-8 byte order mark from Windows editors */
    s = cp_trim(s, &n);
    buf[0] = '\0';
    if (n == 0 || s[0] == ';' || s[0] == '#')
        return buf;
    if (memchr(s, '\0', n) != NULL) {
        cp_problem(p, p->lineno, "NUL byte in the line");
        return buf;
    }
    if (s[0] == '[') {
        section_line(p, s, n);
        return buf;
    }
    if (!key_line_ok(p, s, n))
        return buf;
    if (n >= (size_t)num) {
        cp_problem(p, p->lineno, "line too long (%zu bytes, max %d)", n, num - 1);
        return buf;
    }
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static int on_key(void *user, const char *section, const char *key, const char *value)
{
    struct parser *p = user;
    char q[QUOTED_MAX];
    (void)section; /* always "": read_line handles the section headers */
    if (p->skip)
        return 1;
    if (p->sect == S_NONE) {
        cp_problem(p, p->lineno, "key %s before any [section]", cp_quote(key, q));
        return 1;
    }
    int k = cp_key_index(p->sect, key);
    struct inst *in = cp_inst_of(p, p->sect, p->index);
    if (k < 0) {
        cp_key_problem(p, p->sect, p->index, p->lineno, cp_quote(key, q), "unknown key");
    } else if (in->keyline[k] != 0 && !(cp_sections[p->sect].keys[k].flags & K_REPEAT)) {
        cp_key_problem(p, p->sect, p->index, p->lineno, key, "duplicate key (first on line %d)",
                       in->keyline[k]);
    } else {
        int before = p->count;
        if (in->keyline[k] == 0)
            in->keyline[k] = p->lineno;
        cp_sections[p->sect].keys[k].parse(p, &cp_sections[p->sect].keys[k],
                                         cp_element(p->cfg, p->sect, p->index), value);
        if (p->count != before)
            in->failed |= 1u << k;
    }
    return 1;
}

/* ---- the whole file ---------------------------------------------------------------- */

static void check_required(struct parser *p, enum sect s, int i)
{
    const struct sectdef *sd = &cp_sections[s];
    const struct inst *in = cp_inst_of(p, s, i);
    for (int k = 0; k < sd->nkeys; k++)
        if ((sd->keys[k].flags & K_REQUIRED) && in->keyline[k] == 0)
            cp_key_problem(p, s, i, in->line, NULL, "missing required key \"%s\"", sd->keys[k].key);
}

static void check_all(struct parser *p)
{
    for (int s = S_NONE + 1; s < S_COUNT; s++) {
        const struct sectdef *sd = &cp_sections[s];
        if (!sd->named && cp_inst_of(p, s, 0)->line == 0) {
            if (sd->required)
                cp_problem(p, 1, "missing [%s] section", sd->name);
            continue;
        }
        int n = sd->named ? *cp_count_of(p->cfg, s) : 1;
        for (int i = s == S_PROFILE ? NBUILTIN : 0; i < n; i++) {
            check_required(p, s, i);
            if (sd->check != NULL)
                sd->check(p, i);
        }
    }
}

static void parser_init(struct parser *p, const char *name, const char *text, size_t len,
                        const char *base_dir, FILE *errs, struct config *cfg)
{
    p->name = name != NULL ? name : "config";
    p->errs = errs;
    p->base_dir = base_dir;
    p->cfg = cfg;
    p->text = text != NULL ? text : "";
    p->len = text != NULL ? len : 0;
    p->sect = S_NONE;
    for (int i = 0; i < CFG_MAX_LANES; i++)
        p->lane_device[i] = p->lane_terminal[i] = -1;
}

struct config *config_parse(const char *name, const char *text, size_t len,
                            const char *base_dir, FILE *errs)
{
    struct parser *p = calloc(1, sizeof *p);
    struct config *cfg = calloc(1, sizeof *cfg);
    if (p == NULL || cfg == NULL) {
        if (errs != NULL)
            fprintf(errs, "%s: out of memory\n", name);
        free(p);
        free(cfg);
        return NULL;
    }
    parser_init(p, name, text, len, base_dir, errs, cfg);
    cp_defaults_general(cfg);
    cp_defaults_screening(&cfg->screening);
    cp_defaults_network(&cfg->upstream, &cfg->web);
    cp_defaults_terminals(&cfg->terminals);
    cp_defaults_gpio(&cfg->gpio);
    int rc = ini_parse_stream(read_line, p, on_key, p);
    if (rc < 0)
        cp_problem(p, p->lineno, "out of memory");
    else if (rc > 0 && rc != p->syntax_line)
        cp_problem(p, rc, "syntax error (expected [section] or key = value)");
    check_all(p);
    cp_flush_problems(p);
    int count = p->count;
    free(p);
    if (count > 0) {
        free(cfg);
        return NULL;
    }
    if (name != NULL && strlen(name) < sizeof cfg->path)
        memcpy(cfg->path, name, strlen(name) + 1);
    return cfg;
}

/* The whole file in memory, NUL-terminated; NULL with errno set on failure. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap), *bigger;
    int err = ENOMEM;
    while (buf != NULL && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 < cap)
            continue;
        if (cap > MAX_FILE_SIZE || (bigger = realloc(buf, cap * 2)) == NULL) {
            err = cap > MAX_FILE_SIZE ? EFBIG : ENOMEM;
            goto fail;
        }
        buf = bigger;
        cap *= 2;
    }
    err = buf == NULL ? ENOMEM : errno;
    if (buf == NULL || ferror(f))
        goto fail;
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    free(buf);
    fclose(f);
    errno = err != 0 ? err : EIO;
    return NULL;
}

struct config *config_load(const char *path, FILE *errs)
{
    char *abs = realpath(path, NULL), *dir = NULL, *text = NULL;
    size_t len = 0;
    if (abs == NULL || (text = read_file(abs, &len)) == NULL) {
        int err = errno;
        if (errs != NULL)
            fprintf(errs, "%s: cannot read: %s\n", path, strerror(err));
        free(abs);
        return NULL;
    }
    char *slash = strrchr(abs, '/'); /* realpath gives an absolute path */
    dir = strndup(abs, slash == abs ? 1 : (size_t)(slash - abs));
    struct config *cfg = dir ? config_parse(path, text, len, dir, errs) : NULL;
    if (dir == NULL && errs != NULL)
        fprintf(errs, "%s: out of memory\n", path);
    if (cfg != NULL && strlen(abs) >= sizeof cfg->path) {
        if (errs != NULL)
            fprintf(errs, "%s: path too long (max %zu bytes)\n", path, sizeof cfg->path - 1);
        free(cfg);
        cfg = NULL;
    } else if (cfg != NULL) {
        memcpy(cfg->path, abs, strlen(abs) + 1);
    }
    free(dir);
    free(text);
    free(abs);
    return cfg;
}

void config_free(struct config *cfg) { free(cfg); }

void config_forget_lines(struct config *cfg)
{
    for (int i = 0; i < cfg->nbuses; i++)
        cfg->buses[i].line = 0;
    for (int i = 0; i < cfg->nprofiles; i++)
        cfg->profiles[i].line = 0;
    for (int i = 0; i < cfg->ndevices; i++)
        cfg->devices[i].line = 0;
    for (int i = 0; i < cfg->nlanes; i++)
        cfg->lanes[i].line = 0;
    for (int i = 0; i < cfg->nterminals; i++)
        cfg->terminal[i].line = 0;
}

int config_find_lane(const struct config *cfg, const char *name)
{
    return cp_find_named(cfg, S_LANE, name);
}

int config_find_device(const struct config *cfg, const char *name)
{
    return cp_find_named(cfg, S_DEVICE, name);
}

