/* CSV records (csv.h): RFC 4180 fields from a buffer, record by record. */
#include "csv.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void csv_init(struct csv *c, const char *buf, size_t len)
{
    *c = (struct csv){.buf = buf ? buf : "", .len = buf ? len : 0, .line = 1};
    if (c->len >= 3 && memcmp(c->buf, "\xEF\xBB\xBF", 3) == 0)
        c->pos = 3; /* Excel's "UTF-8 CSV" starts with a byte order mark */
}

void csv_fini(struct csv *c)
{
    free(c->text);
    free(c->f);
    c->text = NULL;
    c->f = NULL;
}

/* ---- CSV records --------------------------------------------------------------- */

void *csv_grow(void *ptr, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return ptr;
    size_t n = *cap ? *cap : 16;
    while (n < need && n <= SIZE_MAX / 2)
        n *= 2;
    if (n < need || n > SIZE_MAX / size)
        return NULL;
    void *q = realloc(ptr, n * size);
    if (q != NULL)
        *cap = n;
    return q;
}

static int put(struct csv *c, char ch)
{
    if (c->ntext == c->captext) {
        char *t = csv_grow(c->text, &c->captext, c->ntext + 1, 1);
        if (t == NULL)
            return -1;
        c->text = t;
    }
    c->text[c->ntext++] = ch;
    return 0;
}

static void next_line(struct csv *c)
{
    if (c->line < INT_MAX)
        c->line++;
}

static int field_begin(struct csv *c, bool quoted)
{
    struct csv_field *f = csv_grow(c->f, &c->capf, c->nf + 1, sizeof *c->f);
    if (f == NULL)
        return -1;
    c->f = f;
    c->f[c->nf++] = (struct csv_field){.off = c->ntext, .quoted = quoted};
    return 0;
}

/* Unquoted fields lose trailing blanks (the leading ones were never read). */
static int field_end(struct csv *c)
{
    struct csv_field *f = &c->f[c->nf - 1];
    if (!f->quoted)
        while (c->ntext > f->off && (c->text[c->ntext - 1] == ' ' || c->text[c->ntext - 1] == '\t'))
            c->ntext--;
    f->len = c->ntext - f->off;
    return put(c, '\0');
}

static void skip_blanks(struct csv *c)
{
    while (c->pos < c->len && (c->buf[c->pos] == ' ' || c->buf[c->pos] == '\t'))
        c->pos++;
}

static bool at_eol(const struct csv *c)
{
    const char *b = c->buf + c->pos;
    size_t left = c->len - c->pos;
    return left > 0 && (b[0] == '\n' || (b[0] == '\r' && left > 1 && b[1] == '\n'));
}

static enum csv_rd bad(struct csv *c, const char *why)
{
    c->why = why;
    return CSV_BAD;
}

/* After a field: a separator, the end of the line, or the end of the file. */
static enum csv_rd after_field(struct csv *c)
{
    if (c->pos == c->len)
        return CSV_RECORD;
    if (c->buf[c->pos] == ',') {
        c->pos++;
        return CSV_FIELD;
    }
    if (!at_eol(c))
        return bad(c, "text after the closing quote");
    c->pos += c->buf[c->pos] == '\r' ? 2 : 1;
    next_line(c);
    return CSV_RECORD;
}

static enum csv_rd read_unquoted(struct csv *c)
{
    while (c->pos < c->len && c->buf[c->pos] != ',' && !at_eol(c)) {
        if (c->buf[c->pos] == '"')
            return bad(c, "a quote inside an unquoted field (quote the whole field and "
                          "double the quote)");
        if (put(c, c->buf[c->pos++]) < 0)
            return CSV_NOMEM;
    }
    return field_end(c) < 0 ? CSV_NOMEM : after_field(c);
}

/* From just after the opening quote; "" is a quote, anything else is taken as is
 * (line breaks too: CSV allows them; the row check then refuses them). */
static enum csv_rd read_quoted(struct csv *c)
{
    for (;;) {
        if (c->pos == c->len)
            return CSV_UNTERMINATED;
        char ch = c->buf[c->pos++];
        if (ch == '"' && (c->pos == c->len || c->buf[c->pos] != '"'))
            break;
        if (ch == '"')
            c->pos++;
        else if (ch == '\n')
            next_line(c);
        if (put(c, ch) < 0)
            return CSV_NOMEM;
    }
    if (field_end(c) < 0)
        return CSV_NOMEM;
    skip_blanks(c); /* `"a" ,b` is a common hand-edit; blanks are not text */
    return after_field(c);
}

static enum csv_rd read_field(struct csv *c)
{
    skip_blanks(c);
    bool quoted = c->pos < c->len && c->buf[c->pos] == '"';
    if (field_begin(c, quoted) < 0)
        return CSV_NOMEM;
    if (!quoted)
        return read_unquoted(c);
    c->pos++;
    return read_quoted(c);
}

/* Reads one record: CSV_RECORD, CSV_EOF, CSV_BAD/CSV_UNTERMINATED or CSV_NOMEM. */
enum csv_rd csv_read_record(struct csv *c)
{
    c->nf = 0;
    c->ntext = 0;
    c->rec_pos = c->pos;
    c->rec_line = c->line;
    if (c->pos == c->len)
        return CSV_EOF;
    enum csv_rd r;
    while ((r = read_field(c)) == CSV_FIELD)
        ;
    if (r == CSV_UNTERMINATED)
        c->why = "the quote is never closed (the field runs to the end of the file)";
    return r;
}

/* Goes on at the next line after a bad record. An unterminated quote swallowed the
 * rest of the file, so the lines after the record's start are read again: once only,
 * which keeps the whole parse linear. */
void csv_resync(struct csv *c, enum csv_rd r)
{
    if (r == CSV_UNTERMINATED) {
        if (c->recovered) {
            c->pos = c->len;
            return;
        }
        c->recovered = true;
        c->pos = c->rec_pos;
        c->line = c->rec_line;
    }
    const char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
    c->pos = nl ? (size_t)(nl - c->buf) + 1 : c->len;
    if (nl)
        next_line(c);
}

/* A line of nothing but blanks. */
bool csv_blank_record(const struct csv *c)
{
    return c->nf == 1 && !c->f[0].quoted && c->f[0].len == 0;
}

const char *csv_field_text(const struct csv *c, size_t i)
{
    return c->text + c->f[i].off;
}

