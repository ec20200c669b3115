/* Logging: levels, printf-checked formats, errno variants, rate-limited repeats.
 * Writes to stderr; when stderr is the journal (JOURNAL_STREAM) or a pipe read by
 * systemd, each line carries a <N> syslog priority prefix instead of a timestamp.
 * Thread-safe: each message is one write(2). */
#ifndef GS_LOG_H
#define GS_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "errbuf.h"

enum log_level { LOG_LVL_CRIT = 2, LOG_LVL_ERR = 3, LOG_LVL_WARN = 4, LOG_LVL_NOTICE = 5, LOG_LVL_INFO = 6,
                 LOG_LVL_DEBUG = 7 };

#define GS_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Where lines go: stderr with a timestamp (or <N> prefixes under the journal), stderr
 * as "ident: message" (command-line tools), or syslog (a detached daemon). */
enum log_output { LOG_OUT_STDERR, LOG_OUT_PLAIN, LOG_OUT_SYSLOG };

void log_init(const char *ident, enum log_level max_level, enum log_output out);
void log_set_level(enum log_level max_level);
enum log_level log_get_level(void);
int log_parse_level(const char *name, enum log_level *out);

void log_msg(enum log_level lvl, const char *fmt, ...) GS_PRINTF(2, 3);
/* Appends ": strerror(err)". */
void log_errno(enum log_level lvl, int err, const char *fmt, ...) GS_PRINTF(3, 4);

/* Critical: the gate cannot do its job until a person acts (the ledger's file was
 * deleted). Always logged, whatever the configured level. */
#define log_crit(...) log_msg(LOG_LVL_CRIT, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/* A repeated error is logged at a decreasing rate: the 1st, 2nd, 4th, 8th, ...
 * occurrence, and at least once per `max_interval_ms` while it lasts, each time
 * with the number suppressed since. Reset when the condition clears. One per
 * source of errors, owned by one thread. */
struct log_limit {
    uint64_t count;      /* occurrences since the last reset */
    uint64_t next;       /* occurrence number that will be logged next */
    int64_t last_ms;     /* monotonic time of the last logged line */
    uint64_t suppressed; /* occurrences not logged since the last logged line */
};
/* Returns whether this occurrence was logged. */
bool log_limited(struct log_limit *lim, int64_t now_ms, int64_t max_interval_ms,
                 enum log_level lvl, const char *fmt, ...) GS_PRINTF(5, 6);
/* Returns how many occurrences the cleared condition had (0 if none). */
uint64_t log_limit_reset(struct log_limit *lim);

/* A FILE for functions that report problems on a `FILE *errs` (config loading,
 * the ledger's rules, the uploader's checks): closing it logs each line as an
 * error, since a detached daemon has no stderr. log_sink_open returns NULL when out
 * of memory (then use stderr). */
struct log_sink {
    struct errbuf b;
};
FILE *log_sink_open(struct log_sink *s);
void log_sink_close(struct log_sink *s);
/* The same, each line as PREFIX followed by the line. */
void log_sink_close_prefixed(struct log_sink *s, const char *prefix);

#endif
