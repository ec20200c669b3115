/* The in-memory error collector: functions that report problems on a `FILE *errs`
 * (config loading, the ledger's rules, the uploader's checks) write into a memory
 * stream, and the caller decides where the lines go (the log, stderr, a web answer).
 * The one copy of this for the daemon, the CLI and the web. */
#ifndef GS_ERRBUF_H
#define GS_ERRBUF_H

#include <stddef.h>
#include <stdio.h>

struct errbuf {
    char *text;
    size_t len;
    FILE *f;
};

/* The FILE to pass as `errs`; `fallback` (stderr, or NULL) when out of memory. */
FILE *errbuf_open(struct errbuf *e, FILE *fallback);
/* Ends the stream; returns what was written without trailing newlines ("" when
 * nothing), valid until errbuf_free. */
const char *errbuf_text(struct errbuf *e);
/* errbuf_text with its lines joined by `sep` (one message for a one-line answer). */
const char *errbuf_joined(struct errbuf *e, char sep);
/* Calls fn once per non-empty line of errbuf_text, then frees. */
void errbuf_drain(struct errbuf *e, void (*fn)(const char *line, void *arg), void *arg);
void errbuf_free(struct errbuf *e);

#endif
