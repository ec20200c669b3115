/* The simulated ADMS terminal (sim_adms.h). Its HTTP is the least a terminal's
 * firmware needs: one request per connection, "Connection: close", the answer
 * read to the end. */
#include "sim_adms.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "civil.h"
#include "clock.h"
#include "log.h"
#include "textnum.h"

#define QUEUE_MAX 64
#define LINE_BYTES 256
#define RETRY_MS 500
#define IO_TIMEOUT_S 5

struct punch {
    char line[LINE_BYTES];
    bool dup;                    /* send it again after its 200 */
};

struct sim_adms {
    const struct config *cfg;
    const struct cfg_terminal *t;
    int64_t heartbeat_ms;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, silent;           /* under lock */
    struct punch queue[QUEUE_MAX];
    int nqueue;                  /* under lock */
};

union addr {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
};

static int fill_addr(const char *host, int port, union addr *a, socklen_t *len)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, host, &a->v4.sin_addr) == 1) {
        a->v4.sin_family = AF_INET;
        a->v4.sin_port = htons((uint16_t)port);
        *len = sizeof a->v4;
        return 0;
    }
    a->v6.sin6_family = AF_INET6;
    a->v6.sin6_port = htons((uint16_t)port);
    *len = sizeof a->v6;
    return inet_pton(AF_INET6, host, &a->v6.sin6_addr) == 1 ? 0 : -1;
}

/* A connection from the terminal's own address to the listener; -1 on failure. */
static int dial(const struct sim_adms *a)
{
    const struct cfg_terminals *ts = &a->cfg->terminals;
    bool any = strcmp(ts->listen, "0.0.0.0") == 0 || strcmp(ts->listen, "::") == 0;
    const char *host = any ? (strchr(a->t->address, ':') ? "::1" : "127.0.0.1") : ts->listen;
    union addr to, from;
    socklen_t tolen, fromlen;
    struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
    if (fill_addr(host, ts->port, &to, &tolen) < 0 || fill_addr(a->t->address, 0, &from, &fromlen) < 0)
        return -1;
    int fd = socket(to.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if ((from.sa.sa_family == to.sa.sa_family && bind(fd, &from.sa, fromlen) < 0) ||
        connect(fd, &to.sa, tolen) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* One request; the status (-1: no answer) and the answer's body into `body`. */
static int http(const struct sim_adms *a, const char *method, const char *path,
                const char *payload, char *body, size_t body_len)
{
    char head[512], answer[2048];
    size_t got = 0, plen = payload ? strlen(payload) : 0;
    int fd = dial(a), status = -1;
    if (body_len > 0)
        body[0] = '\0'; /* no answer: no stale text in the log */
    if (fd < 0)
        return -1;
    int h = snprintf(head, sizeof head,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: iClock Proxy/1.09\r\n"
                     "Connection: close\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n",
                     method, path, a->cfg->terminals.listen, plen);
    if (h > 0 && (size_t)h < sizeof head && send_all(fd, head, (size_t)h) == 0 &&
        send_all(fd, payload ? payload : "", plen) == 0) {
        ssize_t r;
        while (got + 1 < sizeof answer && (r = recv(fd, answer + got, sizeof answer - 1 - got, 0)) > 0)
            got += (size_t)r;
        answer[got] = '\0';
        const char *sp = strchr(answer, ' '), *end = strstr(answer, "\r\n\r\n");
        char code[4] = {0};
        long st;
        if (strncmp(answer, "HTTP/1.", 7) == 0 && sp && end && end - sp > 3) {
            memcpy(code, sp + 1, 3);
            status = tn_long(code, 100, 599, &st) == 0 ? (int)st : -1;
            snprintf(body, body_len, "%s", end + 4);
        }
    }
    close(fd);
    return status;
}

/* Delay from the options block: how often the terminal says it is there. */
static void read_delay(struct sim_adms *a, const char *options)
{
    const char *d = strstr(options, "\nDelay=");
    long s;
    char text[8] = {0};
    if (a->heartbeat_ms > 0 || !d)
        return;
    snprintf(text, sizeof text, "%.*s", (int)strcspn(d + 7, "\r\n"), d + 7);
    a->heartbeat_ms = tn_long(text, 1, 3600, &s) == 0 ? s * 1000 : 10000;
}

static bool handshake(struct sim_adms *a)
{
    char path[160], body[1024];
    snprintf(path, sizeof path, "/iclock/cdata?SN=%s&options=all&pushver=2.4.1&language=69",
             a->t->serial);
    int st = http(a, "GET", path, NULL, body, sizeof body);
    log_info("adms %s: handshake answered %d", a->t->name, st);
    if (st != 200)
        return false;
    read_delay(a, body);
    return true;
}

/* Sends what is queued as one upload; on 200 it leaves the queue (and a `dup`
 * punch goes once more, alone, as a terminal that missed the answer sends it). */
static void upload(struct sim_adms *a)
{
    static char text[QUEUE_MAX * LINE_BYTES];
    struct punch sent[QUEUE_MAX];
    char path[160], body[256];
    pthread_mutex_lock(&a->lock);
    int n = a->nqueue;
    memcpy(sent, a->queue, sizeof sent[0] * (size_t)n);
    pthread_mutex_unlock(&a->lock);
    text[0] = '\0';
    for (int i = 0; i < n; i++)
        tn_append(text, sizeof text, "%s\n", sent[i].line);
    snprintf(path, sizeof path, "/iclock/cdata?SN=%s&table=ATTLOG&Stamp=%lld", a->t->serial,
             (long long)(clock_wall_ms() / 1000));
    int st = http(a, "POST", path, text, body, sizeof body);
    body[strcspn(body, "\r\n")] = '\0';
    log_info("adms %s: uploaded %d line(s): %d %s", a->t->name, n, st, body);
    if (st != 200)
        return; /* queued still: sent again, with whatever comes meanwhile */
    pthread_mutex_lock(&a->lock);
    a->nqueue -= n;
    memmove(a->queue, a->queue + n, sizeof a->queue[0] * (size_t)a->nqueue);
    pthread_mutex_unlock(&a->lock);
    for (int i = 0; i < n; i++)
        if (sent[i].dup) {
            text[0] = '\0';
            tn_append(text, sizeof text, "%s\n", sent[i].line);
            st = http(a, "POST", path, text, body, sizeof body);
            body[strcspn(body, "\r\n")] = '\0';
            log_info("adms %s: sent a line again: %d %s", a->t->name, st, body);
        }
}

static void heartbeat(struct sim_adms *a)
{
    char path[160], body[256];
    snprintf(path, sizeof path, "/iclock/getrequest?SN=%s", a->t->serial);
    int st = http(a, "GET", path, NULL, body, sizeof body);
    log_debug("adms %s: heartbeat answered %d", a->t->name, st);
}

static void *run(void *arg)
{
    struct sim_adms *a = arg;
    bool shaken = false;
    int64_t next_beat = 0;
    pthread_mutex_lock(&a->lock);
    while (!a->stop) {
        bool silent = a->silent, queued = a->nqueue > 0;
        pthread_mutex_unlock(&a->lock);
        int64_t now = clock_mono_ms(), wait = RETRY_MS;
        if (!silent && !shaken)
            shaken = handshake(a);
        else if (!silent && queued)
            upload(a);
        else if (!silent && now >= next_beat) {
            heartbeat(a);
            next_beat = now + (a->heartbeat_ms > 0 ? a->heartbeat_ms : 10000);
        }
        if (shaken && !silent && next_beat > now && next_beat - now < wait)
            wait = next_beat - now;
        struct timespec until = clock_mono_deadline((int)wait);
        pthread_mutex_lock(&a->lock);
        if (!a->stop && (a->nqueue == 0 || a->silent || !shaken))
            pthread_cond_timedwait(&a->wake, &a->lock, &until);
    }
    pthread_mutex_unlock(&a->lock);
    return NULL;
}

struct sim_adms *sim_adms_start(const struct config *cfg, const char *name, int64_t heartbeat_ms,
                                char *why, size_t why_len)
{
    const struct cfg_terminal *t = NULL;
    for (int i = 0; i < cfg->nterminals && !t; i++)
        if (strcmp(cfg->terminal[i].name, name) == 0)
            t = &cfg->terminal[i];
    if (!t || t->kind != CFG_TERM_ZKTECO_ADMS || !cfg->terminals.enabled) {
        snprintf(why, why_len, "--adms %s: no [terminal %s] of kind zkteco-adms with "
                               "[terminals] listen in the config", name, name);
        return NULL;
    }
    struct sim_adms *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(why, why_len, "out of memory");
        return NULL;
    }
    *a = (struct sim_adms){.cfg = cfg, .t = t, .heartbeat_ms = heartbeat_ms};
    pthread_mutex_init(&a->lock, NULL);
    clock_cond_init(&a->wake);
    if (pthread_create(&a->thread, NULL, run, a) != 0) {
        snprintf(why, why_len, "cannot start a thread");
        sim_adms_stop(a);
        return NULL;
    }
    a->started = true;
    return a;
}

void sim_adms_stop(struct sim_adms *a)
{
    if (!a)
        return;
    pthread_mutex_lock(&a->lock);
    a->stop = true;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    if (a->started)
        pthread_join(a->thread, NULL);
    pthread_cond_destroy(&a->wake);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* ---- commands ---------------------------------------------------------------- */

/* The line as its [terminal]'s firmware writes it: PIN, local time, status 0,
 * verify 15 (face), workcode and reserved 0, the mask and temperature in their
 * configured columns, scale and unit. */
static int format_line(const struct cfg_terminal *t, const char *pin, const char *temp,
                       int mask, long skew_s, char *out, size_t n)
{
    char when[CIVIL_TEXT_LEN], cols[32][24];
    int ncol = 9;
    ncol = t->temperature_column > ncol ? t->temperature_column : ncol;
    ncol = t->mask_column > ncol ? t->mask_column : ncol;
    for (int i = 0; i < ncol; i++)
        snprintf(cols[i], sizeof cols[i], "%s", i == 2 ? "0" : i == 3 ? "15" : "0");
    if (t->temperature_column > 0) {
        double c;
        if (temp && tn_double(temp, 20.0, 45.0, &c) < 0)
            return -1;
        double v = !temp ? 0.0 : t->temperature_unit == 1 ? c * 9.0 / 5.0 + 32.0 : c;
        snprintf(cols[t->temperature_column - 1], sizeof cols[0], t->temperature_scale > 1 ? "%.0f" : "%.1f",
                 v * t->temperature_scale);
    }
    if (t->mask_column > 0)
        snprintf(cols[t->mask_column - 1], sizeof cols[0], "%d", mask > 0);
    civil_local_text(clock_wall_ms() + skew_s * 1000, CIVIL_DAY_HHMMSS, "", when, sizeof when);
    snprintf(out, n, "%s\t%s", pin, when);
    for (int i = 2; i < ncol; i++)
        tn_append(out, n, "\t%s", cols[i]);
    return 0;
}

static struct sim_adms *find(struct sim_adms *const *all, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(all[i]->t->name, name) == 0)
            return all[i];
    return NULL;
}

static int punch(struct sim_adms *a, char **words, int nwords, char *why, size_t why_len)
{
    const char *temp = NULL;
    int mask = -1;
    long skew = 0;
    bool dup = false;
    for (int i = 3; i < nwords; i++) {
        long m;
        if (strncmp(words[i], "mask=", 5) == 0 && tn_long(words[i] + 5, 0, 1, &m) == 0)
            mask = (int)m;
        else if (strncmp(words[i], "skew=", 5) == 0 && tn_long(words[i] + 5, -86400, 86400, &skew) == 0)
            ;
        else if (strcmp(words[i], "dup") == 0)
            dup = true;
        else if (i == 3)
            temp = words[i];
        else
            return snprintf(why, why_len, "punch: '%s' is not TEMP, mask=0|1, skew=S or dup", words[i]), -1;
    }
    struct punch p = {.dup = dup};
    if (strlen(words[2]) > 32 || format_line(a->t, words[2], temp, mask, skew, p.line, sizeof p.line) < 0)
        return snprintf(why, why_len, "punch: PIN of 1..32 characters and TEMP 20..45 °C"), -1;
    pthread_mutex_lock(&a->lock);
    bool room = a->nqueue < QUEUE_MAX;
    if (room)
        a->queue[a->nqueue++] = p;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    return room ? 1 : (snprintf(why, why_len, "punch: %d punches queued already", QUEUE_MAX), -1);
}

int sim_adms_command(struct sim_adms *const *all, int n, const char *line, char *why,
                     size_t why_len)
{
    char copy[512], *words[8], *save = NULL;
    int nwords = 0;
    snprintf(copy, sizeof copy, "%s", line);
    for (char *w = strtok_r(copy, " \t\r\n", &save); w && nwords < 8; w = strtok_r(NULL, " \t\r\n", &save))
        words[nwords++] = w;
    if (nwords == 0 || (strcmp(words[0], "punch") != 0 && strcmp(words[0], "silent") != 0))
        return 0;
    struct sim_adms *a = nwords > 1 ? find(all, n, words[1]) : NULL;
    if (!a && strcmp(words[0], "silent") == 0)
        return 0; /* a device's silent (scenario.c) */
    if (!a)
        return snprintf(why, why_len, "punch: no --adms terminal '%s'",
                        nwords > 1 ? words[1] : ""), -1;
    if (strcmp(words[0], "punch") == 0)
        return nwords < 3 ? (snprintf(why, why_len, "punch NAME PIN [TEMP] [mask=0|1] [skew=S] [dup]"), -1)
                          : punch(a, words, nwords, why, why_len);
    bool on = nwords == 3 && strcmp(words[2], "on") == 0;
    if (nwords != 3 || (!on && strcmp(words[2], "off") != 0))
        return snprintf(why, why_len, "silent NAME on|off"), -1;
    pthread_mutex_lock(&a->lock);
    a->silent = on;
    pthread_cond_signal(&a->wake);
    pthread_mutex_unlock(&a->lock);
    return 1;
}
