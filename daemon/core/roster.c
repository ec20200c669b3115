/* The school roster as CSV: RFC 4180 records, then a header that maps columns, then
 * one validated row per record. Pure: the whole file is given as a buffer, problems
 * go to a FILE as "NAME:LINE: message", and nothing is kept unless there are none.
 *
 * Reading is lenient only where spreadsheets are sloppy (BOM, CRLF, blank lines,
 * spaces around fields) and strict everywhere a mistake could put a wrong name or
 * card on a child. Every problem is reported, so one import run shows them all.
 *
 * The records come from core/csv.c.
 *
 * Header names: the columns table below (English and the names Chinese schools'
 * exports use, README "Roster format").
 */
#include "roster.h"

#include "csv.h"
#include "textnum.h"

#include <assert.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* Enough to see every pattern in a broken file; more only scrolls the first ones away. */
#define MAX_MESSAGES 1000
/* Field values quoted in messages are clipped to this many bytes. */
#define SHOW_MAX 48
/* The largest integer a JSON number (double) and SQLite both hold exactly. */
#define CARD_MAX ((UINT64_C(1) << 53) - 1)

/* ---- problems ------------------------------------------------------------------ */

struct report {
    const char *name;
    FILE *errs;
    int count;
};

__attribute__((format(printf, 3, 4)))
static void problem(struct report *rep, int line, const char *fmt, ...)
{
    if (rep->count < INT_MAX)
        rep->count++;
    if (rep->errs == NULL || rep->count > MAX_MESSAGES)
        return;
    va_list ap;
    va_start(ap, fmt);
    fprintf(rep->errs, "%s:%d: ", rep->name, line);
    vfprintf(rep->errs, fmt, ap);
    fputc('\n', rep->errs);
    va_end(ap);
}

static void report_finish(const struct report *rep)
{
    if (rep->errs != NULL && rep->count > MAX_MESSAGES)
        fprintf(rep->errs, "%s: ... and %d more problems\n", rep->name,
                rep->count - MAX_MESSAGES);
}

/* How many bytes of a (valid UTF-8) value to show: at most SHOW_MAX, never half a
 * character, so messages stay short and printable. */
static int shown(const char *s, size_t n)
{
    if (n <= SHOW_MAX)
        return (int)n;
    size_t k = SHOW_MAX;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return (int)k;
}

#define SHOW(s, n) shown((s), (n)), (s), (n) > SHOW_MAX ? "..." : ""

/* ---- columns ------------------------------------------------------------------- */

enum col { COL_ID, COL_KIND, COL_NAME, COL_GRADE, COL_CLASS, COL_CARD, COL_ACTIVE, COL_BOARDER,
           NCOLS };
/* column_lookup's answers besides a column: a column schools export that the roster
 * does not keep (gender, row number, remarks), and no match. */
enum { COL_UNKEPT = -2, COL_UNKNOWN = -1 };

#define MAX_ALIASES 10

/* The names a column goes by in schools' exports (issue 19). A header cell is
 * matched whole, then each part of it split at '/' (学号/ID, 学号/工号), after
 * blanks, a required-field star and a bracketed remark are dropped (姓名（Name）*). */
static const struct column {
    const char *name;                /* the canonical name */
    const char *alias[MAX_ALIASES];  /* NULL-ended; ASCII compared case-insensitively */
    const char *hint;                /* the Chinese names, for "missing column" */
    bool required;
} columns[NCOLS] = {
    [COL_ID] = {"external_id", {"学号", "工号", "学籍号", "编号", "教工号", "职工号", "id",
                                "student_id", "staff_id", NULL}, "学号, 工号 or 学号/工号", true},
    [COL_KIND] = {"kind", {"类别", "身份", "人员类别", "人员类型", "类型", "type", NULL},
                  "类别, 身份 or 人员类别; may be left out only when the id column is 学号", true},
    [COL_NAME] = {"name", {"姓名", NULL}, "姓名", true},
    [COL_GRADE] = {"grade", {"年级", NULL}, "年级", false},
    [COL_CLASS] = {"class", {"班级", "班别", NULL}, "班级", false},
    [COL_CARD] = {"card", {"卡号", "物理卡号", "门禁卡号", "校园卡号", "ic卡号", "card_no", NULL},
                  "卡号", false},
    [COL_ACTIVE] = {"active", {"状态", "在校", "在读状态", "status", NULL}, "状态", false},
    [COL_BOARDER] = {"boarder", {"住校", "是否住校", "住宿", "boarding", NULL}, "住校", false},
};

static const char *const unkept_names[] = {"性别", "gender", "sex", "序号", "no", "备注",
                                           "note", "remark", NULL};

/* For "unknown column": every name accepted, Chinese ones included. */
#define ACCEPTED_NAMES \
    "external_id (学号, 工号, 学号/工号, 学籍号, 编号, id), kind (类别, 身份, 人员类别), " \
    "name (姓名), grade (年级), class (班级), card (卡号), active (状态, 在校), " \
    "boarder (住校); read and not kept: 性别, 序号, 备注"

/* ASCII-only case folding: the locale must not fold bytes of UTF-8 characters. */
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

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (same_nocase(s, *list))
            return true;
    return false;
}

static int match_part(const char *s)
{
    for (int i = 0; i < NCOLS; i++)
        if (same_nocase(s, columns[i].name) || in_list(s, columns[i].alias))
            return i;
    return in_list(s, unkept_names) ? COL_UNKEPT : COL_UNKNOWN;
}

/* Blanks a spreadsheet leaves around a name: ASCII, U+3000 and U+00A0. */
static size_t blank_at(const char *s, size_t n)
{
    if (n >= 1 && (s[0] == ' ' || s[0] == '\t'))
        return 1;
    if (n >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0)
        return 3;
    return n >= 2 && memcmp(s, "\xC2\xA0", 2) == 0 ? 2 : 0;
}

static size_t blank_before(const char *s, size_t n)
{
    if (n >= 1 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        return 1;
    if (n >= 3 && memcmp(s + n - 3, "\xE3\x80\x80", 3) == 0)
        return 3;
    return n >= 2 && memcmp(s + n - 2, "\xC2\xA0", 2) == 0 ? 2 : 0;
}

/* Drops the blanks around s[*off .. *off + *n). */
static void trim_blanks(const char *s, size_t *off, size_t *n)
{
    size_t k;
    while ((k = blank_at(s + *off, *n)) > 0)
        *off += k, *n -= k;
    while ((k = blank_before(s + *off, *n)) > 0)
        *n -= k;
}

static bool ends_with(const char *s, size_t n, const char *tail)
{
    size_t t = strlen(tail);
    return n >= t && memcmp(s + n - t, tail, t) == 0;
}

/* A header name without blanks, a trailing star (required, in templates) and a
 * trailing bracketed remark ("姓名（Name）"), into out. */
static void header_norm(const char *s, char *out, size_t size)
{
    static const char *const pairs[][2] = {{"(", ")"}, {"\xEF\xBC\x88", "\xEF\xBC\x89"},
                                           {"[", "]"}, {"\xE3\x80\x90", "\xE3\x80\x91"}};
    size_t off = 0, n = strlen(s);
    trim_blanks(s, &off, &n);
    if (ends_with(s + off, n, "*") || ends_with(s + off, n, "\xEF\xBC\x8A"))
        n -= s[off + n - 1] == '*' ? 1 : 3;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        if (!ends_with(s + off, n, pairs[i][1]))
            continue;
        for (size_t k = n; k-- > 0;)
            if (strncmp(s + off + k, pairs[i][0], strlen(pairs[i][0])) == 0 && k > 0) {
                n = k;
                break;
            }
    }
    trim_blanks(s, &off, &n);
    snprintf(out, size, "%.*s", (int)n, s + off);
}

/* Marks where a header name splits into parts: '/', '|', '／' and '、' become one
 * unit separator byte (a header never holds one: control characters are refused). */
static void mark_splits(char *s)
{
    char *out = s;
    for (const char *in = s; *in;) {
        if (*in == '/' || *in == '|') {
            *out++ = '\x1F';
            in++;
        } else if (strncmp(in, "\xEF\xBC\x8F", 3) == 0 || strncmp(in, "\xE3\x80\x81", 3) == 0) {
            *out++ = '\x1F';
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
}

/* The column a header cell names: whole, else by its parts split at '/' (also
 * '／', '|', '、'), which must not name two different columns (*other gets the
 * second, else COL_UNKNOWN). */
static int column_lookup(const char *cell, int *other)
{
    char norm[256];
    header_norm(cell, norm, sizeof norm);
    int found = match_part(norm);
    *other = COL_UNKNOWN;
    if (found != COL_UNKNOWN)
        return found;
    mark_splits(norm);
    for (char *s = norm, *end; s; s = end ? end + 1 : NULL) {
        if ((end = strchr(s, '\x1F')) != NULL)
            *end = '\0';
        size_t off = 0, n = strlen(s);
        trim_blanks(s, &off, &n);
        s[off + n] = '\0';
        int m = match_part(s + off);
        if (m >= 0 && found >= 0 && m != found) {
            *other = m;
            return found;
        }
        if (m >= 0 || (m == COL_UNKEPT && found == COL_UNKNOWN))
            found = m;
    }
    return found;
}

/* An id column headed only by a student number (学号, 学籍号, student_id) makes
 * every row a student when there is no kind column: the school's student export. */
static bool students_only(const char *cell)
{
    char norm[256];
    header_norm(cell, norm, sizeof norm);
    for (char *c = norm; *c; c++)
        *c = *c >= 'A' && *c <= 'Z' ? (char)(*c + 32) : *c;
    bool student = strstr(norm, "学号") || strstr(norm, "学籍号") || strstr(norm, "student");
    return student && !strstr(norm, "工号") && !strstr(norm, "staff");
}

/* ---- duplicate index: open addressing over row numbers, linear overall ------------ */

enum key { KEY_ID, KEY_CARD };

struct index {
    enum key key;
    int *slot; /* row + 1; 0 = empty */
    size_t cap, used;
};

static uint64_t key_hash(const struct roster_row *r, enum key key)
{
    if (key == KEY_CARD) { /* a 64-bit mix: card numbers are often consecutive */
        uint64_t x = (r->card ^ (r->card >> 33)) * 0xFF51AFD7ED558CCDULL;
        return x ^ (x >> 29);
    }
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *s = (const unsigned char *)r->external_id; *s; s++)
        h = (h ^ *s) * 1099511628211ULL;
    return h;
}

static bool key_same(const struct roster_row *a, const struct roster_row *b, enum key key)
{
    return key == KEY_CARD ? a->card == b->card : strcmp(a->external_id, b->external_id) == 0;
}

/* The slot holding row's key, or the empty slot where it goes. */
static size_t index_probe(const struct index *ix, const struct roster_row *rows, int row)
{
    size_t mask = ix->cap - 1, i = key_hash(&rows[row], ix->key) & mask;
    while (ix->slot[i] != 0 && !key_same(&rows[ix->slot[i] - 1], &rows[row], ix->key))
        i = (i + 1) & mask;
    return i;
}

static int index_grow(struct index *ix, const struct roster_row *rows)
{
    struct index bigger = {.key = ix->key, .cap = ix->cap ? ix->cap * 2 : 1024};
    bigger.slot = calloc(bigger.cap, sizeof *bigger.slot);
    if (bigger.slot == NULL)
        return -1;
    for (size_t i = 0; i < ix->cap; i++)
        if (ix->slot[i] != 0)
            bigger.slot[index_probe(&bigger, rows, ix->slot[i] - 1)] = ix->slot[i];
    bigger.used = ix->used;
    free(ix->slot);
    *ix = bigger;
    return 0;
}

/* Adds row's key: returns the earlier row with the same key, -1 when it was new,
 * -2 when out of memory. */
static int index_add(struct index *ix, const struct roster_row *rows, int row)
{
    if ((ix->used + 1) * 2 > ix->cap && index_grow(ix, rows) < 0)
        return -2;
    size_t i = index_probe(ix, rows, row);
    if (ix->slot[i] != 0)
        return ix->slot[i] - 1;
    ix->slot[i] = row + 1;
    ix->used++;
    return -1;
}

/* ---- kinds --------------------------------------------------------------------- */

const char *person_kind_name(enum person_kind kind)
{
    switch (kind) {
    case PERSON_STUDENT: return "student";
    case PERSON_TEACHER: return "teacher";
    case PERSON_STAFF: return "staff";
    }
    return "unknown";
}

int person_kind_parse(const char *text, enum person_kind *out)
{
    static const struct { const char *word; enum person_kind kind; } words[] = {
        {"student", PERSON_STUDENT}, {"teacher", PERSON_TEACHER}, {"staff", PERSON_STAFF},
        {"学生", PERSON_STUDENT}, {"教师", PERSON_TEACHER}, {"老师", PERSON_TEACHER},
        {"职工", PERSON_STAFF}, {"员工", PERSON_STAFF}, {"后勤", PERSON_STAFF},
    };
    for (size_t i = 0; text && i < sizeof words / sizeof words[0]; i++) {
        if (same_nocase(text, words[i].word)) {
            *out = words[i].kind;
            return 0;
        }
    }
    return -1;
}

/* ---- the parser ---------------------------------------------------------------- */

struct parser {
    struct report rep;
    struct csv csv;
    int col_field[NCOLS]; /* field number of each column, -1 = absent */
    size_t ncols;         /* fields in the header */
    bool students_only;   /* no kind column, the id column is 学号: every row a student */
    struct roster *ro;
    size_t caprows;
    struct index ids, cards;
    bool nomem;
};

static void out_of_memory(struct parser *p)
{
    problem(&p->rep, p->csv.rec_line, "out of memory");
    p->nomem = true;
}

/* Field i in messages: its column's name once the header is known, else its number. */
static const char *field_label(const struct parser *p, size_t i, char *buf, size_t n)
{
    for (int k = 0; k < NCOLS && p->ncols; k++)
        if (p->col_field[k] == (int)i) {
            snprintf(buf, n, "\"%s\"", columns[k].name);
            return buf;
        }
    snprintf(buf, n, "%zu", i + 1);
    return buf;
}

/* First control character (C0, DEL or C1) in valid UTF-8 text, or -1. */
static long control_at(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++)
        if (u[i] < 0x20 || u[i] == 0x7F || (u[i] == 0xC2 && i + 1 < n && u[i + 1] < 0xA0))
            return (long)i;
    return -1;
}

/* The code point of the valid UTF-8 character s[len]. */
static unsigned code_point(const unsigned char *s, size_t len)
{
    static const unsigned char lead_mask[5] = {0, 0x7F, 0x1F, 0x0F, 0x07};
    unsigned c = s[0] & lead_mask[len];
    for (size_t i = 1; i < len; i++)
        c = c << 6 | (s[i] & 0x3F);
    return c;
}

/* Characters that change how the text around them shows without showing
 * themselves: bidi controls (a name starting with U+202E shows reversed) and
 * zero-width characters (two ids that look the same). */
static bool invisible(unsigned c)
{
    return c == 0x061C || c == 0x180E || (c >= 0x200B && c <= 0x200F) ||
           (c >= 0x202A && c <= 0x202E) || (c >= 0x2060 && c <= 0x2064) ||
           (c >= 0x2066 && c <= 0x2069) || c == 0xFEFF;
}

/* First such character in valid UTF-8 text (its code point in *cp), or -1. */
static long invisible_at(const char *s, size_t n, unsigned *cp)
{
    for (size_t i = 0, k; i < n; i += k) {
        k = tn_utf8_char(s + i, n - i);
        if (k == 0)
            return -1; /* not reached: checked before */
        *cp = code_point((const unsigned char *)s + i, k);
        if (invisible(*cp))
            return (long)i;
    }
    return -1;
}

/* Encoding, control characters, bidi controls and zero-width characters, for every
 * field of every record (header too). */
static void check_fields(struct parser *p)
{
    struct csv *c = &p->csv;
    char what[32];
    for (size_t i = 0; i < c->nf; i++) {
        const char *s = csv_field_text(c, i);
        field_label(p, i, what, sizeof what);
        long at = tn_utf8_invalid_at(s, c->f[i].len);
        if (at < 0 && (at = control_at(s, c->f[i].len)) >= 0)
            problem(&p->rep, c->rec_line, "field %s contains %s (U+%04X at byte %ld; no control "
                    "characters allowed)", what, s[at] == '\n' ? "a line break" :
                    "a control character", (unsigned)(unsigned char)s[at + (s[at] == '\xC2')],
                    at + 1);
        else if (at >= 0)
            problem(&p->rep, c->rec_line, "invalid UTF-8 at byte %ld of field %s", at + 1, what);
        unsigned cp = 0;
        if (at < 0 && (at = invisible_at(s, c->f[i].len, &cp)) >= 0)
            problem(&p->rep, c->rec_line, "field %s contains U+%04X at byte %ld (a bidi control "
                    "or zero-width character: the text would not show as it is)", what, cp,
                    at + 1);
        c->f[i].clean = at < 0;
    }
}

/* ---- header -------------------------------------------------------------------- */

/* A column the roster does not keep, named once in roster->unkept. */
static void note_unkept(struct parser *p, const char *s)
{
    size_t used = strlen(p->ro->unkept), n = strlen(s);
    if (used + n + 3 >= sizeof p->ro->unkept)
        return; /* a note only: the first few are enough */
    snprintf(p->ro->unkept + used, sizeof p->ro->unkept - used, "%s%s", used ? ", " : "", s);
}

static void header_field(struct parser *p, size_t i)
{
    const struct csv *c = &p->csv;
    const char *s = csv_field_text(c, i);
    size_t n = c->f[i].len;
    int other, k = column_lookup(s, &other);
    if (k == COL_UNKNOWN && n == 0)
        problem(&p->rep, c->rec_line, "column %zu has no name", i + 1);
    else if (other >= 0)
        problem(&p->rep, c->rec_line, "column \"%.*s%s\" names two columns (%s and %s)",
                SHOW(s, n), columns[k].name, columns[other].name);
    else if (k == COL_UNKNOWN)
        problem(&p->rep, c->rec_line, "unknown column \"%.*s%s\" (accepted: " ACCEPTED_NAMES ")",
                SHOW(s, n));
    else if (k == COL_UNKEPT)
        note_unkept(p, s);
    else if (p->col_field[k] >= 0)
        problem(&p->rep, c->rec_line, "duplicate column \"%s\" (columns %d and %zu)",
                columns[k].name, p->col_field[k] + 1, i + 1);
    else
        p->col_field[k] = (int)i;
}

/* Maps the columns; returns the number of problems (then no row is read). */
static int parse_header(struct parser *p)
{
    int before = p->rep.count;
    check_fields(p);
    for (size_t i = 0; i < p->csv.nf; i++)
        if (p->csv.f[i].clean)
            header_field(p, i);
    int id = p->col_field[COL_ID];
    p->students_only = id >= 0 && p->col_field[COL_KIND] < 0 &&
                       students_only(csv_field_text(&p->csv, (size_t)id));
    for (int k = 0; k < NCOLS; k++)
        if (columns[k].required && p->col_field[k] < 0 && !(k == COL_KIND && p->students_only))
            problem(&p->rep, p->csv.rec_line, "missing required column \"%s\" (%s)",
                    columns[k].name, columns[k].hint);
    p->ncols = p->csv.nf;
    return p->rep.count - before;
}

/* ---- one column of one row ------------------------------------------------------- */

typedef void setter(struct parser *p, struct roster_row *r, const char *s, size_t n);

static bool too_long(struct parser *p, const char *what, size_t n, size_t max)
{
    if (n < max)
        return false;
    problem(&p->rep, p->csv.rec_line, "%s is too long (%zu bytes; at most %zu)", what, n,
            max - 1);
    return true;
}

static void set_id(struct parser *p, struct roster_row *r, const char *s, size_t n)
{
    int line = p->csv.rec_line;
    if (n == 0) {
        problem(&p->rep, line, "empty external_id");
        return;
    }
    if (too_long(p, "external_id", n, ROSTER_ID_MAX))
        return;
    /* Ids are typed into the nurse page and the CLI: no blanks of any width. */
    if (strpbrk(s, " \t") || strstr(s, "\xE3\x80\x80") || strstr(s, "\xC2\xA0")) {
        problem(&p->rep, line, "external_id \"%.*s%s\" contains a space", SHOW(s, n));
        return;
    }
    memcpy(r->external_id, s, n + 1);
}

static void set_kind(struct parser *p, struct roster_row *r, const char *s, size_t n)
{
    if (person_kind_parse(s, &r->kind) < 0)
        problem(&p->rep, p->csv.rec_line, "unknown kind \"%.*s%s\" (expected student, "
                "teacher or staff; 学生, 教师/老师 or 职工/员工/后勤)", SHOW(s, n));
}

static void set_name(struct parser *p, struct roster_row *r, const char *s, size_t n)
{
    if (strspn(s, " \t") == n)
        problem(&p->rep, p->csv.rec_line, "empty name");
    else if (!too_long(p, "name", n, ROSTER_NAME_MAX))
        memcpy(r->name, s, n + 1); /* byte for byte: names are never normalised */
}

static void set_grade(struct parser *p, struct roster_row *r, const char *s, size_t n)
{
    if (!too_long(p, "grade", n, ROSTER_GRADE_MAX))
        memcpy(r->grade, s, n + 1);
}

static void set_class(struct parser *p, struct roster_row *r, const char *s, size_t n)
{
    if (!too_long(p, "class", n, ROSTER_CLASS_MAX))
        memcpy(r->class_name, s, n + 1);
}

/* Decimal digits only (no sign, no 1e6 from a spreadsheet), 1..2^53-1. Blanks
 * around the number are dropped (a quoted " 0077 ", U+3000 from an IME); a blank
 * inside is refused (is "12 34" one card or two?). Leading zeros are allowed and
 * mean nothing: the number, not the text, is the card, as the reader reports it
 * (0012345678 and 12345678 are the same card, so both in one file are a duplicate). */
static void set_card(struct parser *p, struct roster_row *r, const char *text, size_t len)
{
    size_t off = 0, n = len;
    trim_blanks(text, &off, &n);
    const char *s = text + off;
    uint64_t v = 0;
    size_t i = 0;
    if (n == 0)
        return;
    for (; i < n && s[i] >= '0' && s[i] <= '9' && v <= CARD_MAX; i++)
        v = v * 10 + (uint64_t)(s[i] - '0');
    if (i < n && (s[i] < '0' || s[i] > '9'))
        problem(&p->rep, p->csv.rec_line, "card \"%.*s%s\" is not a number (decimal digits "
                "only, no spaces inside; format the column as text in the spreadsheet)",
                SHOW(text, len));
    else if (i < n || v == 0 || v > CARD_MAX)
        problem(&p->rep, p->csv.rec_line, "card %.*s%s is out of range (1 to %llu)",
                SHOW(s, n), (unsigned long long)CARD_MAX);
    else {
        r->card = v;
        r->has_card = true;
    }
}

/* yes/no in the words exports use: 1 yes, 0 no, -1 neither. */
static int yes_no(const char *s, const char *const *yes, const char *const *no)
{
    bool b;
    if (in_list(s, yes))
        return 1;
    if (in_list(s, no))
        return 0;
    return tn_bool(s, &b) < 0 ? -1 : b;
}

/* 状态 columns say what the person is: 在校 (at school) or 毕业 (graduated), ... */
static void set_active(struct parser *p, struct roster_row *r, const char *s, size_t n)
{
    static const char *const yes[] = {"是", "在校", "在读", "在职", "正常", "有效", "启用", NULL};
    static const char *const no[] = {"否", "离校", "毕业", "休学", "转学", "转出", "退学",
                                     "离职", "退休", "停用", "无效", "注销", NULL};
    int v = n == 0 ? 1 : yes_no(s, yes, no);
    if (v < 0)
        problem(&p->rep, p->csv.rec_line, "active \"%.*s%s\" is not yes or no (是/否; 在校, "
                "在读, 在职, 正常 or 离校, 毕业, 休学, 转学, 退学, 离职, 退休)", SHOW(s, n));
    else
        r->active = v;
}

/* Boarders (住校生) sleep at school; empty is no (走读, a day pupil). */
static void set_boarder(struct parser *p, struct roster_row *r, const char *s, size_t n)
{
    static const char *const yes[] = {"是", "住校", "住宿", "住读", "寄宿", NULL};
    static const char *const no[] = {"否", "走读", "不住校", NULL};
    int v = n == 0 ? 0 : yes_no(s, yes, no);
    if (v < 0)
        problem(&p->rep, p->csv.rec_line, "boarder \"%.*s%s\" is not yes or no (是/否, 住校/走读)",
                SHOW(s, n));
    else
        r->boarder = v;
}

static setter *const setters[NCOLS] = {
    [COL_ID] = set_id, [COL_KIND] = set_kind, [COL_NAME] = set_name,
    [COL_GRADE] = set_grade, [COL_CLASS] = set_class, [COL_CARD] = set_card,
    [COL_ACTIVE] = set_active, [COL_BOARDER] = set_boarder,
};

/* ---- rows ---------------------------------------------------------------------- */

static struct roster_row *new_row(struct parser *p)
{
    struct roster *ro = p->ro;
    struct roster_row *rows =
        ro->nrows == INT_MAX ? NULL
                             : csv_grow(ro->rows, &p->caprows, (size_t)ro->nrows + 1, sizeof *rows);
    if (rows == NULL)
        return NULL;
    ro->rows = rows;
    struct roster_row *r = &ro->rows[ro->nrows++];
    *r = (struct roster_row){.line = p->csv.rec_line, .active = true};
    return r;
}

/* Registers the row's id and card; a repeat names the line where it was first seen. */
static void check_unique(struct parser *p, int row)
{
    const struct roster_row *r = &p->ro->rows[row];
    int prev = r->external_id[0] ? index_add(&p->ids, p->ro->rows, row) : -1;
    if (prev >= 0)
        problem(&p->rep, r->line, "duplicate external_id \"%s\" (first on line %d)",
                r->external_id, p->ro->rows[prev].line);
    int prev_card = r->has_card ? index_add(&p->cards, p->ro->rows, row) : -1;
    if (prev_card >= 0)
        problem(&p->rep, r->line, "card %llu is on line %d and again on line %d",
                (unsigned long long)r->card, p->ro->rows[prev_card].line, r->line);
    if (prev == -2 || prev_card == -2)
        out_of_memory(p);
}

static void parse_row(struct parser *p)
{
    const struct csv *c = &p->csv;
    check_fields(p);
    if (c->nf != p->ncols) {
        problem(&p->rep, c->rec_line, "expected %zu fields, found %zu", p->ncols, c->nf);
        return;
    }
    struct roster_row *r = new_row(p);
    if (r == NULL) {
        out_of_memory(p);
        return;
    }
    for (int k = 0; k < NCOLS; k++) {
        int i = p->col_field[k];
        if (i >= 0 && c->f[i].clean)
            setters[k](p, r, csv_field_text(c, (size_t)i), c->f[i].len);
    }
    check_unique(p, (int)(r - p->ro->rows));
}

/* ---- the file ------------------------------------------------------------------ */

/* The next record that is not a blank line: CSV_RECORD; CSV_BAD (reported, and the
 * reading resumes on the next line); CSV_EOF at the end of the file or of memory. */
static enum csv_rd next_record(struct parser *p)
{
    enum csv_rd r;
    while ((r = csv_read_record(&p->csv)) == CSV_RECORD && csv_blank_record(&p->csv))
        ;
    if (r == CSV_NOMEM)
        out_of_memory(p);
    if (r == CSV_BAD || r == CSV_UNTERMINATED) {
        problem(&p->rep, p->csv.rec_line, "field %zu: %s", p->csv.nf, p->csv.why);
        csv_resync(&p->csv, r);
        return CSV_BAD;
    }
    return r == CSV_RECORD ? CSV_RECORD : CSV_EOF;
}

static void parse_file(struct parser *p)
{
    enum csv_rd r = next_record(p);
    if (r == CSV_EOF && !p->nomem)
        problem(&p->rep, 1, "no header (the file is empty; the first row names the columns: "
                "external_id,kind,name,...)");
    if (r != CSV_RECORD || parse_header(p) > 0)
        return; /* without a sound header, rows cannot be read */
    while (!p->nomem && (r = next_record(p)) != CSV_EOF)
        if (r == CSV_RECORD)
            parse_row(p);
}

static void parser_fini(struct parser *p)
{
    csv_fini(&p->csv);
    free(p->ids.slot);
    free(p->cards.slot);
}

static void parser_init(struct parser *p, const char *name, const char *buf, size_t len,
                        FILE *errs)
{
    *p = (struct parser){
        .rep = {.name = name, .errs = errs},
        .ids = {.key = KEY_ID},
        .cards = {.key = KEY_CARD},
    };
    csv_init(&p->csv, buf, len);
    for (int k = 0; k < NCOLS; k++)
        p->col_field[k] = -1;
}

int roster_parse(const char *name, const char *buf, size_t len, struct roster **out,
                 FILE *errs)
{
    assert(name != NULL && out != NULL && (buf != NULL || len == 0));
    struct parser p;
    parser_init(&p, name, buf, len, errs);
    *out = NULL;
    p.ro = calloc(1, sizeof *p.ro);
    if (p.ro == NULL) {
        out_of_memory(&p);
        goto fail;
    }
    parse_file(&p);
    if (p.rep.count > 0)
        goto fail;
    parser_fini(&p);
    *out = p.ro;
    return 0;
fail:
    report_finish(&p.rep);
    parser_fini(&p);
    roster_free(p.ro);
    return p.rep.count;
}

void roster_free(struct roster *roster)
{
    if (roster == NULL)
        return;
    free(roster->rows);
    free(roster);
}
