/* Hikvision's alertStream, parsed as it arrives (isapi_stream.h). A state machine
 * over one bounded buffer: each step consumes what it can from the buffer's front,
 * so a full buffer always makes progress (a delimiter's tail is all it keeps while
 * it seeks; a part over max_part is dropped). */
#include "isapi_stream.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "isapi.h"

/* The delimiter line's rest (transport padding), at most this long. */
#define DELIM_LINE_MAX 128

enum state { SEEK, DELIM_LINE, HEADERS, BODY_LEN, BODY_DELIM, SKIP_LEN, SKIP_DELIM };
enum kind { K_JSON, K_XML, K_SNIFF, K_SKIP };

struct isapi_stream {
    char delim[80]; /* "--boundary" */
    char close[84]; /* "\r\n--boundary": the end of a part without Content-Length */
    size_t dn, cn, max_part, cap, len;
    char *buf;      /* the unconsumed bytes, at most cap */
    enum state st;
    enum kind kind; /* of the part being read */
    size_t want;    /* BODY_LEN: its length; SKIP_LEN: bytes still to skip */
    unsigned long skipped;
    unsigned long long skipped_bytes;
    int problems;   /* in this feed */
    char *why;
    size_t why_len;
};

static void problem(struct isapi_stream *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(struct isapi_stream *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (s->why && s->why_len)
        vsnprintf(s->why, s->why_len, fmt, ap);
    va_end(ap);
    s->problems++;
}

static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
    for (size_t i = 0; m <= n && i <= n - m; i++) {
        const char *p = memchr(hay + i, needle[0], n - m - i + 1);
        if (!p)
            return NULL;
        i = (size_t)(p - hay);
        if (memcmp(p, needle, m) == 0)
            return p;
    }
    return NULL;
}

struct isapi_stream *isapi_stream_new(const char *ctype, size_t max_part, char *why,
                                      size_t why_len)
{
    struct isapi_stream *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    if (!ctype || strncasecmp(ctype, "multipart/", 10) != 0 ||
        isapi_boundary(ctype, s->delim, sizeof s->delim) < 0) {
        snprintf(why, why_len, "Content-Type \"%.60s\" is not multipart with a boundary",
                 ctype ? ctype : "");
        free(s);
        return NULL;
    }
    s->dn = strlen(s->delim);
    snprintf(s->close, sizeof s->close, "\r\n%s", s->delim);
    s->cn = s->dn + 2;
    s->max_part = max_part;
    s->cap = max_part + ISAPI_MAX_PART_HEADERS + s->cn + DELIM_LINE_MAX;
    if (!(s->buf = malloc(s->cap))) {
        snprintf(why, why_len, "out of memory");
        free(s);
        return NULL;
    }
    return s;
}

void isapi_stream_free(struct isapi_stream *s)
{
    if (s)
        free(s->buf);
    free(s);
}

unsigned long isapi_stream_skipped(const struct isapi_stream *s, unsigned long long *bytes)
{
    *bytes = s->skipped_bytes;
    return s->skipped;
}

static void consume(struct isapi_stream *s, size_t n)
{
    memmove(s->buf, s->buf + n, s->len - n);
    s->len -= n;
}

/* Keeps only the last `keep` bytes (a delimiter may start in them). */
static void keep_tail(struct isapi_stream *s, size_t keep)
{
    if (s->len > keep)
        consume(s, s->len - keep);
}

/* The value of header `name` in the part's headers h[0..n), into out; 0 or -1. */
static int header(const char *h, size_t n, const char *name, char *out, size_t outn)
{
    size_t k = strlen(name);
    for (const char *line = h; line < h + n;) {
        const char *eol = find(line, (size_t)(h + n - line), "\r\n", 2);
        size_t ll = eol ? (size_t)(eol - line) : (size_t)(h + n - line);
        if (ll > k && strncasecmp(line, name, k) == 0 && line[k] == ':') {
            const char *v = line + k + 1;
            size_t vl = ll - k - 1;
            while (vl && (*v == ' ' || *v == '\t'))
                v++, vl--;
            snprintf(out, outn, "%.*s", (int)(vl < outn ? vl : outn - 1), v);
            return 0;
        }
        line += ll + 2;
    }
    return -1;
}

static enum kind kind_of(const char *ctype)
{
    if (!ctype[0])
        return K_SNIFF;
    if (strcasestr(ctype, "json"))
        return K_JSON;
    if (strcasestr(ctype, "xml"))
        return K_XML;
    return K_SKIP; /* image/jpeg and the rest: never kept */
}

/* A part's headers are in: what it is, how long, and where its bytes go. */
static void start_part(struct isapi_stream *s, const char *h, size_t n)
{
    char ctype[128] = "", cl[32];
    header(h, n, "content-type", ctype, sizeof ctype);
    s->kind = kind_of(ctype);
    bool has_len = header(h, n, "content-length", cl, sizeof cl) == 0 && cl[0] &&
                   strlen(cl) <= 12 && strspn(cl, "0123456789") == strlen(cl);
    s->want = has_len ? (size_t)strtoull(cl, NULL, 10) : 0;
    if (s->kind != K_SKIP && has_len && s->want > s->max_part) {
        problem(s, "a part of %zu bytes, over the %zu kept; skipped", s->want, s->max_part);
        s->kind = K_SKIP;
    }
    if (s->kind == K_SKIP)
        s->skipped++;
    if (has_len)
        s->st = s->kind == K_SKIP ? SKIP_LEN : BODY_LEN;
    else
        s->st = s->kind == K_SKIP ? SKIP_DELIM : BODY_DELIM;
}

static void emit(struct isapi_stream *s, const char *d, size_t n, isapi_part_fn fn, void *arg)
{
    size_t i = 0;
    while (i < n && (d[i] == ' ' || d[i] == '\r' || d[i] == '\n' || d[i] == '\t'))
        i++;
    enum kind k = s->kind;
    if (k == K_SNIFF)
        k = i < n && d[i] == '{' ? K_JSON : i < n && d[i] == '<' ? K_XML : K_SKIP;
    if (i == n)
        return; /* an empty part: a keep-alive */
    if (k == K_SKIP) {
        s->skipped++;
        s->skipped_bytes += n;
        return;
    }
    fn(arg, k == K_JSON ? ISAPI_PART_JSON : ISAPI_PART_XML, d, n);
}

/* Searches look no further than a limit, so that where the network cut the
 * stream never changes what a part is. */
static size_t lim(size_t len, size_t max)
{
    return len < max ? len : max;
}

/* One step from the buffer's front; false when it needs more bytes. */
static bool step(struct isapi_stream *s, isapi_part_fn fn, void *arg)
{
    const char *p;
    switch (s->st) {
    case SEEK:
        if (!(p = find(s->buf, s->len, s->delim, s->dn))) {
            keep_tail(s, s->dn - 1);
            return false;
        }
        consume(s, (size_t)(p - s->buf) + s->dn);
        s->st = DELIM_LINE;
        return true;
    case DELIM_LINE:
        if (s->len >= 2 && memcmp(s->buf, "--", 2) == 0) {
            consume(s, 2); /* the closing delimiter: whatever follows is not ours */
            s->st = SEEK;
            return true;
        }
        if (!(p = memchr(s->buf, '\n', lim(s->len, DELIM_LINE_MAX + 1)))) {
            if (s->len <= DELIM_LINE_MAX)
                return false;
            problem(s, "a delimiter line over %d bytes", DELIM_LINE_MAX);
            s->st = SEEK;
            return true;
        }
        consume(s, (size_t)(p - s->buf) + 1);
        s->st = HEADERS;
        return true;
    case HEADERS:
        if (s->len >= 2 && memcmp(s->buf, "\r\n", 2) == 0) {
            start_part(s, "", 0); /* no headers at all */
            consume(s, 2);
            return true;
        }
        if (!(p = find(s->buf, lim(s->len, ISAPI_MAX_PART_HEADERS + 4), "\r\n\r\n", 4))) {
            if (s->len < ISAPI_MAX_PART_HEADERS + 4)
                return false;
            problem(s, "part headers not ended in %d bytes", ISAPI_MAX_PART_HEADERS);
            s->st = SEEK;
            return true;
        }
        start_part(s, s->buf, (size_t)(p - s->buf));
        consume(s, (size_t)(p - s->buf) + 4);
        return true;
    case BODY_LEN:
        if (s->len < s->want)
            return false;
        emit(s, s->buf, s->want, fn, arg);
        consume(s, s->want);
        s->st = SEEK;
        return true;
    case BODY_DELIM:
        if ((p = find(s->buf, lim(s->len, s->max_part + s->cn), s->close, s->cn))) {
            emit(s, s->buf, (size_t)(p - s->buf), fn, arg);
            consume(s, (size_t)(p - s->buf) + 2);
            s->st = SEEK;
            return true;
        }
        if (s->len < s->max_part + s->cn)
            return false;
        problem(s, "a part without Content-Length over the %zu bytes kept; skipped",
                s->max_part);
        s->skipped++;
        s->st = SKIP_DELIM;
        return true;
    case SKIP_LEN: {
        size_t n = s->len < s->want ? s->len : s->want;
        consume(s, n);
        s->want -= n;
        s->skipped_bytes += n;
        if (s->want > 0)
            return false;
        s->st = SEEK;
        return true;
    }
    case SKIP_DELIM:
        if ((p = find(s->buf, s->len, s->close, s->cn))) {
            s->skipped_bytes += (size_t)(p - s->buf);
            consume(s, (size_t)(p - s->buf) + 2);
            s->st = SEEK;
            return true;
        }
        if (s->len >= s->cn) {
            s->skipped_bytes += s->len - (s->cn - 1);
            keep_tail(s, s->cn - 1);
        }
        return false;
    }
    return false;
}

int isapi_stream_feed(struct isapi_stream *s, const char *data, size_t len, isapi_part_fn fn,
                      void *arg, char *why, size_t why_len)
{
    s->problems = 0;
    s->why = why;
    s->why_len = why_len;
    while (len > 0) {
        if (s->st == SKIP_LEN && s->len == 0) { /* a picture: past it, never copied */
            size_t n = len < s->want ? len : s->want;
            data += n, len -= n;
            s->want -= n;
            s->skipped_bytes += n;
            if (s->want == 0)
                s->st = SEEK;
            continue;
        }
        size_t n = s->cap - s->len < len ? s->cap - s->len : len;
        memcpy(s->buf + s->len, data, n);
        s->len += n;
        data += n, len -= n;
        while (step(s, fn, arg))
            ;
    }
    s->why = NULL;
    return s->problems;
}
