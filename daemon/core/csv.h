/* CSV records (RFC 4180) from a whole file held in memory: the reader the school's
 * roster (roster.c) and the bureau's list of schools share. It only splits records
 * into fields; what a field means, and every message about it, is the caller's.
 *
 * Lenient only where spreadsheets are sloppy: a UTF-8 byte order mark, CRLF, spaces
 * around fields (an unquoted field loses them; a quoted one keeps what is inside the
 * quotes), line breaks inside quotes. Strict about quotes: a quote inside an
 * unquoted field, text after a closing quote, or a quote never closed is a bad
 * record, and reading goes on at the next line so that every problem is reported.
 *
 * The reader's state is a plain struct because parsers embed it by value and read
 * the current record's fields directly (f[i], text); it allocates only the record's
 * buffers, freed by csv_fini. */
#ifndef GS_CSV_H
#define GS_CSV_H

#include <stdbool.h>
#include <stddef.h>

struct csv_field {
    size_t off, len; /* in csv.text; each field is NUL-terminated there */
    bool quoted;
    bool clean; /* for the caller: set once it has checked the bytes (UTF-8, controls) */
};

/* What reading stopped at: a separator (more fields follow), the end of a record,
 * the end of the file, malformed quoting (csv.why says how), or no memory. */
enum csv_rd { CSV_FIELD, CSV_RECORD, CSV_EOF, CSV_BAD, CSV_UNTERMINATED, CSV_NOMEM };

struct csv {
    const char *buf;
    size_t len, pos;
    int line;          /* line of buf[pos] */
    size_t rec_pos;    /* where the current record starts */
    int rec_line;      /* the line the current record starts on, for messages */
    bool recovered;    /* already resumed once after an unterminated quote */
    const char *why;   /* what was wrong with the last bad record */
    char *text;        /* the current record's field bytes, unescaped */
    size_t ntext, captext;
    struct csv_field *f;
    size_t nf, capf;   /* fields of the current record */
};

/* Starts reading buf[len] (NULL with len 0 is an empty file) at line 1, after a
 * byte order mark if there is one. */
void csv_init(struct csv *c, const char *buf, size_t len);
void csv_fini(struct csv *c);

/* Reads one record: CSV_RECORD, CSV_EOF, CSV_BAD / CSV_UNTERMINATED (c->why says
 * why; call csv_resync) or CSV_NOMEM. */
enum csv_rd csv_read_record(struct csv *c);
/* Goes on at the next line after a bad record (linear overall, also after an
 * unterminated quote). */
void csv_resync(struct csv *c, enum csv_rd r);
/* A line of nothing but blanks (callers skip those). */
bool csv_blank_record(const struct csv *c);
/* Field i of the current record, NUL-terminated (its length is f[i].len). */
const char *csv_field_text(const struct csv *c, size_t i);

/* An array of `size`-byte items with room for `need` of them (doubling, so appends
 * are amortised O(1)): the new pointer, or NULL with `ptr` still valid. For the
 * readers' own rows too. */
void *csv_grow(void *ptr, size_t *cap, size_t need, size_t size);

#endif
