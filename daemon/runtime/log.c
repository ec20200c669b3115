#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

static const char *log_ident = "gatescreen";
/* Atomic: a reload sets it on the main thread while every thread logs. */
static atomic_int log_max = LOG_LVL_INFO;
static int log_journal; /* prefix <N> instead of a timestamp */
static enum log_output log_out = LOG_OUT_STDERR;

static const char *const level_names[] = {
    [LOG_LVL_CRIT] = "critical", [LOG_LVL_ERR] = "error", [LOG_LVL_WARN] = "warning",
    [LOG_LVL_NOTICE] = "notice", [LOG_LVL_INFO] = "info", [LOG_LVL_DEBUG] = "debug",
};

void log_init(const char *ident, enum log_level max_level, enum log_output out)
{
    log_ident = ident;
    log_max = max_level;
    log_out = out;
    if (out == LOG_OUT_SYSLOG)
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    /* systemd sets JOURNAL_STREAM when stderr is connected to the journal. */
    log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void log_set_level(enum log_level max_level) { log_max = max_level; }
enum log_level log_get_level(void) { return (enum log_level)log_max; }

int log_parse_level(const char *name, enum log_level *out)
{
    for (int i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

static void log_vwrite(enum log_level lvl, int err, const char *fmt, va_list ap)
{
    char line[1024];
    size_t n = 0;
    if (log_out == LOG_OUT_SYSLOG) {
        vsnprintf(line, sizeof line, fmt, ap);
        if (err)
            syslog((int)lvl, "%s: %s", line, strerror(err));
        else
            syslog((int)lvl, "%s", line);
        return;
    }
    if (log_out == LOG_OUT_PLAIN) {
        n = (size_t)snprintf(line, sizeof line, "%s: ", log_ident);
    } else if (log_journal) {
        n = (size_t)snprintf(line, sizeof line, "<%d>", (int)lvl);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
        n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld %s[%d] %s: ",
                              ts.tv_nsec / 1000000L, log_ident, (int)getpid(), level_names[lvl]);
    }
    if (n < sizeof line) {
        int w = vsnprintf(line + n, sizeof line - n, fmt, ap);
        n = w < 0 ? n : n + (size_t)w;
    }
    if (err && n < sizeof line)
        n += (size_t)snprintf(line + n, sizeof line - n, ": %s", strerror(err));
    if (n > sizeof line - 2)
        n = sizeof line - 2; /* truncated: keep the newline */
    line[n++] = '\n';
    /* One write per message so lines from several threads never interleave. */
    ssize_t unused = write(STDERR_FILENO, line, n);
    (void)unused;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    if ((int)lvl > log_max)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(lvl, 0, fmt, ap);
    va_end(ap);
}

void log_errno(enum log_level lvl, int err, const char *fmt, ...)
{
    if ((int)lvl > log_max)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(lvl, err, fmt, ap);
    va_end(ap);
}

bool log_limited(struct log_limit *lim, int64_t now_ms, int64_t max_interval_ms,
                 enum log_level lvl, const char *fmt, ...)
{
    lim->count++;
    int due = lim->count >= lim->next || now_ms - lim->last_ms >= max_interval_ms;
    if (!due) {
        lim->suppressed++;
        return false;
    }
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (lim->suppressed)
        log_msg(lvl, "%s (%llu more since last logged)", msg,
                (unsigned long long)lim->suppressed);
    else
        log_msg(lvl, "%s", msg);
    lim->suppressed = 0;
    lim->last_ms = now_ms;
    lim->next = lim->count * 2;
    return true;
}

uint64_t log_limit_reset(struct log_limit *lim)
{
    uint64_t n = lim->count;
    *lim = (struct log_limit){0};
    return n;
}

FILE *log_sink_open(struct log_sink *s)
{
    return errbuf_open(&s->b, NULL);
}

static void log_line(const char *line, void *prefix)
{
    log_err("%s%s", (const char *)prefix, line);
}

void log_sink_close(struct log_sink *s)
{
    errbuf_drain(&s->b, log_line, "");
}

void log_sink_close_prefixed(struct log_sink *s, const char *prefix)
{
    errbuf_drain(&s->b, log_line, (void *)prefix);
}
