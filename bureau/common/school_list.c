/* The bureau's list of schools (school_list.h): CSV records from core/csv.c, a
 * header that maps columns, one checked row per record, every problem reported. */
#include "school_list.h"

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "certid.h"
#include "csv.h"
#include "log.h"
#include "textnum.h"

#define MAX_MESSAGES 1000

static const struct {
    const char *name, *alias; /* English (any case), Chinese (exact) */
    bool required;
} columns[SF_COUNT] = {
    [SF_CODE] = {"code", "学校代码", true},
    [SF_NAME] = {"name", "学校名称", true},
    [SF_COUNTY] = {"county", "区县", true},
    [SF_KIND] = {"kind", "类型", true},
    [SF_ENROLMENT] = {"enrolment", "在校人数", false},
    [SF_CONTACT_NAME] = {"contact_name", "联系人", false},
    [SF_CONTACT_PHONE] = {"contact_phone", "联系电话", false},
};

/* The kinds the database's CHECK allows (sql/bureau/001_initial.sql), with the
 * English words an administrator may type instead. */
static const struct {
    const char *name, *english;
} kinds[] = {
    {"幼儿园", "kindergarten"}, {"小学", "primary"}, {"初中", "junior"},
    {"高中", "senior"}, {"九年一贯制", "nine-year"}, {"完全中学", "complete"},
    {"职业学校", "vocational"}, {"特殊教育学校", "special"}, {"其他", "other"},
};

const char *school_field_name(enum school_field f)
{
    return (unsigned)f < SF_COUNT ? columns[f].name : "?";
}

static bool same_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y)
            return false;
    }
    return *a == *b;
}

/* Text a person typed: valid UTF-8, no control characters, fits. */
static int set_text(char *dst, size_t cap, const char *v, bool required, const char *what,
                    char *why, size_t n)
{
    size_t len = strlen(v);
    if (required && len == 0)
        snprintf(why, n, "%s is empty", what);
    else if (tn_utf8_invalid_at(v, len) >= 0)
        snprintf(why, n, "%s is not valid UTF-8 (save the file as UTF-8, not GBK)", what);
    else if (len >= cap)
        snprintf(why, n, "%s is too long (%zu bytes; at most %zu)", what, len, cap - 1);
    else {
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) {
                snprintf(why, n, "%s contains a control character", what);
                return -1;
            }
        memcpy(dst, v, len + 1);
        return 0;
    }
    return -1;
}

static int set_kind(struct school_row *r, const char *v, char *why, size_t n)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(v, kinds[i].name) == 0 || same_nocase(v, kinds[i].english))
            return set_text(r->kind, sizeof r->kind, kinds[i].name, true, "kind", why, n);
    snprintf(why, n, "kind \"%.48s\" is not one of 幼儿园 小学 初中 高中 九年一贯制 完全中学 "
                     "职业学校 特殊教育学校 其他", v);
    return -1;
}

int school_set(struct school_row *r, enum school_field f, const char *v, char *why, size_t n)
{
    long num;
    switch (f) {
    case SF_CODE:
        if (school_code_ok(v))
            return set_text(r->code, sizeof r->code, v, true, "code", why, n);
        snprintf(why, n, "code \"%.48s\" is not 1 to 31 of A-Z a-z 0-9 _ -", v);
        return -1;
    case SF_NAME: return set_text(r->name, sizeof r->name, v, true, "name", why, n);
    case SF_COUNTY: return set_text(r->county, sizeof r->county, v, true, "county", why, n);
    case SF_KIND: return set_kind(r, v, why, n);
    case SF_ENROLMENT:
        if (!*v || tn_long(v, 0, 1000000, &num) == 0) {
            r->enrolment = *v ? num : 0;
            return 0;
        }
        snprintf(why, n, "enrolment \"%.48s\" is not a whole number from 0 to 1000000", v);
        return -1;
    case SF_CONTACT_NAME:
        return set_text(r->contact_name, sizeof r->contact_name, v, false, "contact_name", why, n);
    case SF_CONTACT_PHONE:
        return set_text(r->contact_phone, sizeof r->contact_phone, v, false, "contact_phone",
                        why, n);
    default: snprintf(why, n, "no such field"); return -1;
    }
}

/* ---- the file ------------------------------------------------------------------ */

struct parser {
    const char *name;
    FILE *errs;
    int count;
    struct csv csv;
    int col_field[SF_COUNT]; /* the header's field of each column, -1 */
    size_t ncols;
    struct school_list *list;
    size_t cap;
    bool nomem;
};

GS_PRINTF(3, 4)
static void problem(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;
    if (p->count < INT_MAX)
        p->count++;
    if (!p->errs || p->count > MAX_MESSAGES)
        return;
    va_start(ap, fmt);
    fprintf(p->errs, "%s:%d: ", p->name, line);
    vfprintf(p->errs, fmt, ap);
    fputc('\n', p->errs);
    va_end(ap);
}

static int column_of(const char *s)
{
    for (int i = 0; i < SF_COUNT; i++)
        if (same_nocase(s, columns[i].name) || strcmp(s, columns[i].alias) == 0)
            return i;
    return -1;
}

static int parse_header(struct parser *p)
{
    const struct csv *c = &p->csv;
    int before = p->count;
    for (size_t i = 0; i < c->nf; i++) {
        const char *s = csv_field_text(c, i);
        int k = column_of(s);
        if (k < 0)
            problem(p, c->rec_line, "unknown column \"%.48s\" (expected code, name, county, "
                                    "kind, enrolment, contact_name, contact_phone)", s);
        else if (p->col_field[k] >= 0)
            problem(p, c->rec_line, "duplicate column \"%s\"", columns[k].name);
        else
            p->col_field[k] = (int)i;
    }
    for (int k = 0; k < SF_COUNT; k++)
        if (columns[k].required && p->col_field[k] < 0)
            problem(p, c->rec_line, "missing required column \"%s\"", columns[k].name);
    p->ncols = c->nf;
    return p->count - before;
}

static struct school_row *new_row(struct parser *p)
{
    struct school_list *l = p->list;
    struct school_row *rows =
        l->n == INT_MAX ? NULL : csv_grow(l->rows, &p->cap, (size_t)l->n + 1, sizeof *rows);
    if (!rows)
        return NULL;
    l->rows = rows;
    rows[l->n] = (struct school_row){.line = p->csv.rec_line};
    return &rows[l->n++];
}

/* A code seen before in the file: quadratic, but a city has a few thousand schools
 * and this runs once per import. */
static void check_unique(struct parser *p, const struct school_row *r)
{
    for (const struct school_row *q = p->list->rows; q < r; q++)
        if (r->code[0] && strcmp(q->code, r->code) == 0) {
            problem(p, r->line, "code %s is also on line %d", r->code, q->line);
            return;
        }
}

static void parse_row(struct parser *p)
{
    const struct csv *c = &p->csv;
    char why[200];
    if (c->nf != p->ncols) {
        problem(p, c->rec_line, "expected %zu fields, found %zu", p->ncols, c->nf);
        return;
    }
    struct school_row *r = new_row(p);
    if (!r) {
        p->nomem = true;
        problem(p, c->rec_line, "out of memory");
        return;
    }
    for (int k = 0; k < SF_COUNT; k++)
        if (p->col_field[k] >= 0 &&
            school_set(r, (enum school_field)k, csv_field_text(c, (size_t)p->col_field[k]), why,
                       sizeof why) < 0)
            problem(p, c->rec_line, "%s", why);
    check_unique(p, r);
}

static enum csv_rd next_record(struct parser *p)
{
    enum csv_rd r;
    while ((r = csv_read_record(&p->csv)) == CSV_RECORD && csv_blank_record(&p->csv))
        ;
    if (r == CSV_NOMEM) {
        p->nomem = true;
        problem(p, p->csv.rec_line, "out of memory");
    }
    if (r == CSV_BAD || r == CSV_UNTERMINATED) {
        problem(p, p->csv.rec_line, "field %zu: %s", p->csv.nf, p->csv.why);
        csv_resync(&p->csv, r);
        return CSV_BAD;
    }
    return r == CSV_RECORD ? CSV_RECORD : CSV_EOF;
}

int school_list_parse(const char *name, const char *buf, size_t len,
                      struct school_list **out, FILE *errs)
{
    struct parser p = {.name = name, .errs = errs};
    enum csv_rd r;
    *out = NULL;
    csv_init(&p.csv, buf, len);
    for (int k = 0; k < SF_COUNT; k++)
        p.col_field[k] = -1;
    if (!(p.list = calloc(1, sizeof *p.list))) {
        problem(&p, 1, "out of memory");
    } else if ((r = next_record(&p)) != CSV_RECORD) {
        if (r == CSV_EOF && !p.nomem)
            problem(&p, 1, "no header (the file is empty; the first row names the columns: "
                           "code,name,county,kind,...)");
    } else if (parse_header(&p) == 0) {
        while (!p.nomem && (r = next_record(&p)) != CSV_EOF)
            if (r == CSV_RECORD)
                parse_row(&p);
    }
    csv_fini(&p.csv);
    if (p.count > MAX_MESSAGES && errs)
        fprintf(errs, "%s: ... and %d more problems\n", name, p.count - MAX_MESSAGES);
    if (p.count == 0)
        *out = p.list;
    else
        school_list_free(p.list);
    return p.count;
}

void school_list_free(struct school_list *l)
{
    if (!l)
        return;
    free(l->rows);
    free(l);
}

int school_filter_set(char *out, size_t size, enum school_field f, const char *name,
                      const char *v, const char **param, char *why, size_t n)
{
    struct school_row r;
    out[0] = '\0';
    if (!v)
        return 0;
    *param = name;
    if (tn_utf8_invalid_at(v, strlen(v)) >= 0) {
        snprintf(why, n, "%s is not UTF-8", *param);
        return -1;
    }
    if (school_set(&r, f, v, why, n) < 0)
        return -1;
    snprintf(out, size, "%s", f == SF_CODE ? r.code : r.county);
    return 0;
}
