/* Editing one section of a configuration's text (config_edit.h). Two passes over
 * the lines: the first finds the section, the lines of the keys to replace and the
 * last key line (where missing keys go, so they stay inside the section and before
 * the comments that lead into the next one); the second copies the text with those
 * changes. Nothing is reformatted: an untouched line is copied byte for byte. */
#include "config_edit.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define EDIT_MAX_KEYS 16

struct line {
    const char *s;  /* the line, without its line end */
    size_t n;
    const char *end; /* "\n", "\r\n" or "" (the last line without one) */
};

struct plan {
    int header;                 /* line index of [section], -1 when absent */
    int anchor;                 /* the missing keys go after this line */
    int at[EDIT_MAX_KEYS];      /* line index of each setting's key, -1 when absent */
};

/* The next line of text from *pos; false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, struct line *l)
{
    if (*pos >= len)
        return false;
    const char *s = text + *pos, *nl = memchr(s, '\n', len - *pos);
    l->s = s;
    l->n = nl ? (size_t)(nl - s) : len - *pos;
    l->end = nl ? "\n" : "";
    if (nl && l->n > 0 && s[l->n - 1] == '\r')
        l->n--, l->end = "\r\n";
    *pos = nl ? (size_t)(nl - text) + 1 : len;
    return true;
}

/* Trimmed of blanks, and of the byte order mark a Windows editor puts first (the
 * parser drops it too). */
static const char *trim(const char *s, size_t *n)
{
    if (*n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        s += 3, *n -= 3;
    while (*n > 0 && isspace((unsigned char)*s))
        s++, (*n)--;
    while (*n > 0 && isspace((unsigned char)s[*n - 1]))
        (*n)--;
    return s;
}

/* 1 and the name (trimmed) for a [header] line; 0 otherwise. */
static int header_of(const struct line *l, const char **name, size_t *nn)
{
    size_t n = l->n;
    const char *s = trim(l->s, &n);
    const char *close = n > 0 && s[0] == '[' ? memchr(s, ']', n) : NULL;
    if (!close)
        return 0;
    *nn = (size_t)(close - s - 1);
    *name = trim(s + 1, nn);
    return 1;
}

/* The key of a "key = value" line (trimmed), or NULL for blank and comment lines. */
static const char *key_of(const struct line *l, size_t *kn)
{
    size_t n = l->n;
    const char *s = trim(l->s, &n);
    if (n == 0 || s[0] == '#' || s[0] == ';' || s[0] == '[')
        return NULL;
    size_t k = 0;
    while (k < n && s[k] != '=' && s[k] != ':')
        k++;
    *kn = k;
    trim(s, kn);
    return s;
}

static bool same(const char *a, size_t an, const char *b)
{
    return an == strlen(b) && memcmp(a, b, an) == 0;
}

/* Line i of the section holds key k: the line of the setting it is, if any. */
static int note_key(const char *name, const char *section, const struct config_setting *set,
                    int n, struct plan *p, int i, const char *k, size_t kn, FILE *errs)
{
    for (int j = 0; j < n; j++) {
        if (!same(k, kn, set[j].key))
            continue;
        if (p->at[j] >= 0) {
            fprintf(errs, "%s:%d: [%s] %s again (first on line %d)\n", name, i + 1, section,
                    set[j].key, p->at[j] + 1);
            return -1;
        }
        p->at[j] = i;
    }
    return 0;
}

/* Where the section and its keys are; -1 on a repeated section or key. */
static int make_plan(const char *name, const char *text, size_t len, const char *section,
                     const struct config_setting *set, int n, struct plan *p, FILE *errs)
{
    struct line l;
    size_t pos = 0, nn, kn;
    const char *hn, *k;
    bool inside = false;
    *p = (struct plan){.header = -1, .anchor = -1};
    for (int i = 0; i < n; i++)
        p->at[i] = -1;
    for (int i = 0; next_line(text, len, &pos, &l); i++) {
        if (header_of(&l, &hn, &nn)) {
            inside = same(hn, nn, section);
            if (inside && p->header >= 0) {
                fprintf(errs, "%s:%d: [%s] again (first on line %d)\n", name, i + 1, section,
                        p->header + 1);
                return -1;
            }
            if (inside)
                p->header = p->anchor = i;
            continue;
        }
        if (!inside || !(k = key_of(&l, &kn)))
            continue;
        p->anchor = i;
        if (note_key(name, section, set, n, p, i, k, kn, errs) < 0)
            return -1;
    }
    return 0;
}

/* A value the parser would read back as it is. */
static int value_ok(const char *name, const struct config_setting *s, FILE *errs)
{
    size_t n = strlen(s->value);
    const char *why = NULL;
    if (strpbrk(s->value, "\r\n"))
        why = "it holds a line end";
    else if (n > 0 && (isspace((unsigned char)s->value[0]) ||
                       isspace((unsigned char)s->value[n - 1])))
        why = "it starts or ends with a blank";
    else if (strstr(s->value, " ;") || strstr(s->value, "\t;"))
        why = "\" ;\" would start a comment";
    if (why)
        fprintf(errs, "%s: %s = %s cannot be written in the file: %s\n", name, s->key,
                s->value, why);
    return why ? -1 : 0;
}

static void put_missing(FILE *out, const struct config_setting *set, int n,
                        const struct plan *p, const char *eol)
{
    for (int j = 0; j < n; j++)
        if (p->at[j] < 0)
            fprintf(out, "%s = %s%s", set[j].key, set[j].value, eol);
}

/* The copy with the plan's changes. */
static void write_text(FILE *out, const char *text, size_t len, const char *section,
                       const struct config_setting *set, int n, const struct plan *p)
{
    struct line l = {.end = "\n"};
    size_t pos = 0;
    for (int i = 0; next_line(text, len, &pos, &l); i++) {
        int j = 0;
        while (j < n && p->at[j] != i)
            j++;
        if (j < n)
            fprintf(out, "%s = %s%s", set[j].key, set[j].value, l.end);
        else
            fwrite(l.s, 1, l.n + strlen(l.end), out);
        if (i == p->anchor) {
            if (!*l.end)
                fputs("\n", out); /* the last line had no line end */
            put_missing(out, set, n, p, *l.end ? l.end : "\n");
        }
    }
    if (p->header < 0) {
        /* A blank line before it, after a line end if the text lacked one. */
        fprintf(out, "%s[%s]\n", len == 0 ? "" : *l.end ? "\n" : "\n\n", section);
        put_missing(out, set, n, p, "\n");
    }
}

int config_edit_section(const char *name, const char *text, size_t len, const char *section,
                        const struct config_setting *set, int n, char **out, size_t *out_len,
                        FILE *errs)
{
    struct plan p;
    int bad = 0;
    *out = NULL;
    if (n > EDIT_MAX_KEYS) {
        fprintf(errs, "%s: too many keys to set at once\n", name);
        return -1;
    }
    for (int j = 0; j < n; j++)
        bad |= value_ok(name, &set[j], errs);
    if (bad || make_plan(name, text, len, section, set, n, &p, errs) < 0)
        return -1;
    FILE *f = open_memstream(out, out_len);
    if (!f) {
        fprintf(errs, "%s: out of memory\n", name);
        return -1;
    }
    write_text(f, text, len, section, set, n, &p);
    if (fclose(f) != 0) {
        free(*out);
        *out = NULL;
        fprintf(errs, "%s: out of memory\n", name);
        return -1;
    }
    return 0;
}

int config_key_line(const char *text, size_t len, const char *section, const char *key)
{
    struct config_setting one = {key, ""};
    struct plan p;
    FILE *devnull = fopen("/dev/null", "w");
    int rc = devnull ? make_plan("", text, len, section, &one, 1, &p, devnull) : -1;
    if (devnull)
        fclose(devnull);
    return rc == 0 ? p.at[0] + 1 : 0;
}
