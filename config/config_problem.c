/* Problems: kept, then written sorted by line as "FILE:LINE: message"; the
 * wording helpers (labels, quoted values, durations) and the small lookups the
 * parser's files share. */
#include "config_parse.h"

#include "textnum.h"

#include <ctype.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- messages ------------------------------------------------------------------- */

/* Problems are kept and written sorted by line at the end, so that the rules
 * checked after reading (references, pairs) appear where they belong. */
GS_PRINTF(4, 0)
static void vproblem(struct parser *p, int line, const char *prefix, const char *fmt, va_list ap)
{
    if (p->count < INT_MAX)
        p->count++;
    if (p->errs == NULL || p->count > MAX_MESSAGES)
        return;
    char *msg = NULL, *text = NULL;
    if (p->msgs == NULL)
        p->msgs = calloc(MAX_MESSAGES, sizeof *p->msgs);
    if (p->msgs != NULL && vasprintf(&msg, fmt, ap) >= 0 &&
        asprintf(&text, "%s%s", prefix, msg) >= 0) {
        int k = p->nmsgs++;
        p->msgs[k] = (struct message){line, k, text};
    } else {
        fprintf(p->errs, "%s:%d: %s(out of memory)\n", p->name, line, prefix);
    }
    free(msg);
}

static int by_line(const void *a, const void *b)
{
    const struct message *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

void cp_flush_problems(struct parser *p)
{
    if (p->msgs != NULL)
        qsort(p->msgs, (size_t)p->nmsgs, sizeof *p->msgs, by_line);
    for (int i = 0; i < p->nmsgs; i++) {
        fprintf(p->errs, "%s:%d: %s\n", p->name, p->msgs[i].line, p->msgs[i].text);
        free(p->msgs[i].text);
    }
    if (p->count > MAX_MESSAGES && p->errs != NULL)
        fprintf(p->errs, "%s: ... and %d more problems\n", p->name, p->count - MAX_MESSAGES);
    free(p->msgs);
}

GS_PRINTF(3, 4)
void cp_problem(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, line, "", fmt, ap);
    va_end(ap);
}

/* A value as shown in messages: quoted, clipped, with control bytes and invalid
 * UTF-8 escaped, so that a broken file cannot garble the terminal. */
const char *cp_quote(const char *v, char out[QUOTED_MAX])
{
    size_t o = 0, n = strlen(v), i = 0;
    out[o++] = '"';
    while (i < n && i < SHOW_MAX) {
        size_t len = tn_utf8_char(v + i, n - i);
        if (len == 0 || (unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
            snprintf(out + o, QUOTED_MAX - o, "\\x%02X", (unsigned char)v[i]);
            o += 4;
            i++;
            continue;
        }
        memcpy(out + o, v + i, len);
        o += len;
        i += len;
    }
    if (i < n) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = '\0';
    return out;
}

void *cp_element(struct config *cfg, enum sect s, int i)
{
    return (char *)cfg + cp_sections[s].off + (size_t)i * cp_sections[s].size;
}

const char *cp_element_name(const struct config *cfg, enum sect s, int i)
{
    return (const char *)cfg + cp_sections[s].off + (size_t)i * cp_sections[s].size +
           cp_sections[s].name_off;
}

/* "[bus rtu]", "[school]". */
static const char *label(const struct parser *p, enum sect s, int i, char *buf, size_t n)
{
    if (cp_sections[s].named)
        snprintf(buf, n, "[%s %s]", cp_sections[s].name, cp_element_name(p->cfg, s, i));
    else
        snprintf(buf, n, "[%s]", cp_sections[s].name);
    return buf;
}

/* "FILE:LINE: [bus rtu] baud: message"; no key part when key is NULL. */
GS_PRINTF(6, 7)
void cp_key_problem(struct parser *p, enum sect s, int i, int line, const char *key,
                    const char *fmt, ...)
{
    char lbl[2 * CFG_NAME_MAX + 8], prefix[PREFIX_MAX];
    label(p, s, i, lbl, sizeof lbl);
    snprintf(prefix, sizeof prefix, key ? "%s %s: " : "%s ", lbl, key ? key : "");
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, line, prefix, fmt, ap);
    va_end(ap);
}

/* A problem with the key being read. */
GS_PRINTF(3, 4)
void cp_bad(struct parser *p, const struct keydef *k, const char *fmt, ...)
{
    char lbl[2 * CFG_NAME_MAX + 8], prefix[PREFIX_MAX];
    label(p, p->sect, p->index, lbl, sizeof lbl);
    snprintf(prefix, sizeof prefix, "%s %s: ", lbl, k->key);
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, p->lineno, prefix, fmt, ap);
    va_end(ap);
}

/* `[screening] threshold: "37.3x" is not a temperature between 35.00 and 40.00` */
GS_PRINTF(4, 5)
void cp_bad_value(struct parser *p, const struct keydef *k, const char *v, const char *fmt,
                  ...)
{
    char lbl[2 * CFG_NAME_MAX + 8], q[QUOTED_MAX], prefix[PREFIX_MAX];
    label(p, p->sect, p->index, lbl, sizeof lbl);
    snprintf(prefix, sizeof prefix, "%s %s: %s is not ", lbl, k->key, cp_quote(v, q));
    va_list ap;
    va_start(ap, fmt);
    vproblem(p, p->lineno, prefix, fmt, ap);
    va_end(ap);
}

const char *cp_fmt_hhmm(int minutes, char buf[8])
{
    snprintf(buf, 8, "%02d:%02d", (minutes / 60) % 100, minutes % 60);
    return buf;
}

/* ---- small helpers ---------------------------------------------------------------- */

void *cp_member(void *obj, size_t off) { return (char *)obj + off; }

struct inst *cp_inst_of(struct parser *p, enum sect s, int i)
{
    switch (s) {
    case S_BUS: return &p->bus[i];
    case S_PROFILE: return &p->profile[i];
    case S_DEVICE: return &p->device[i];
    case S_LANE: return &p->lane[i];
    case S_TERMINAL: return &p->terminal[i];
    case S_GRADE: return &p->grade[i];
    case S_CLASS: return &p->klass[i];
    default: return &p->single[s];
    }
}

/* noinline: inlined into the validators, gcc 12 -O3 compares the literal keys
 * with every table entry and warns (-Wstring-compare) about ones that cannot match. */
__attribute__((noinline)) int cp_key_index(enum sect s, const char *key)
{
    for (int i = 0; i < cp_sections[s].nkeys; i++)
        if (strcmp(cp_sections[s].keys[i].key, key) == 0)
            return i;
    return -1;
}

/* The line where `key` was given, or 0. */
int cp_given(struct parser *p, enum sect s, int i, const char *key)
{
    int k = cp_key_index(s, key);
    return k < 0 ? 0 : cp_inst_of(p, s, i)->keyline[k];
}

/* Where to point at a rule about `key`: its line, else the section header. */
int cp_line_of(struct parser *p, enum sect s, int i, const char *key)
{
    int line = cp_given(p, s, i, key);
    if (line == 0)
        line = cp_inst_of(p, s, i)->line;
    return line > 0 ? line : 1;
}

bool cp_failed(struct parser *p, enum sect s, int i, const char *key)
{
    int k = cp_key_index(s, key);
    return k >= 0 && (cp_inst_of(p, s, i)->failed & (1u << k));
}

int cp_max_int(int a, int b) { return a > b ? a : b; }

/* Index of the name in a NULL-terminated table (s need not be terminated), or -1. */
int cp_find_name(const struct name_val *t, const char *s, size_t n)
{
    for (int i = 0; t[i].name != NULL; i++)
        if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0)
            return i;
    return -1;
}

/* "a, b, c" for messages. */
const char *cp_join_names(const struct name_val *t, char *buf, size_t n)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; t[i].name != NULL && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", t[i].name);
    return buf;
}

bool cp_ident_chars(const char *s, size_t n, const char *extra)
{
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && (s[i] == '\0' || !strchr(extra, s[i])))
            return false;
    return true;
}

/* Why s (n bytes) cannot be the name of a section or line, or NULL. */
const char *cp_name_problem(const char *s, size_t n)
{
    if (n == 0)
        return "is empty";
    if (n >= CFG_NAME_MAX)
        return "is too long (max 31 bytes)";
    if (!cp_ident_chars(s, n, "_.-"))
        return "may only have letters, digits, '_', '.' and '-'";
    return NULL;
}

/* Splits s in place at runs of blanks; the number of words, or max + 1 if more. */
int cp_split_words(char *s, char **w, int max)
{
    int n = 0;
    for (char *t = s; *t != '\0';) {
        while (*t != '\0' && isspace((unsigned char)*t))
            *t++ = '\0';
        if (*t == '\0')
            break;
        if (n == max)
            return max + 1;
        w[n++] = t;
        while (*t != '\0' && !isspace((unsigned char)*t))
            t++;
    }
    return n;
}

/* Copies a value into a small work buffer; -1 (reported) if it does not fit. */
int cp_work_copy(struct parser *p, const struct keydef *k, const char *v, char *buf,
                 size_t n)
{
    size_t len = strlen(v);
    if (len >= n) {
        cp_bad(p, k, "too long (max %zu bytes)", n - 1);
        return -1;
    }
    memcpy(buf, v, len + 1);
    return 0;
}

