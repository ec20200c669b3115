/* ingest_load: the load of the collector's ingest benchmark (issue 15, "Performance";
 * tests/bench/bench_ingest.py drives it, tests/bench/README.md has the figures).
 *
 *   ingest_load enrol --ca-cert FILE --ca-key FILE --prefix S --count N [--first 1]
 *                     [--width 6] --keys OUT --csv OUT
 *   ingest_load run --port P --server-ca FILE --keys FILE --uploads FILE
 *                   --mode fresh|keepalive [--conns 32] [--verify 1] [--timeout 600]
 *
 * enrol issues N schools (codes PREFIX + the number, zero-padded to --width) a
 * credential from the bureau's CA exactly as `gatescreen-bureau school enrol` does
 * (bureau/enrol: a new EC P-256 key, the certificate of school_cert.h, a token), and
 * writes their certificates, keys and tokens to --keys (0600) and the bureau's rows
 * (code, serial, certificate and token SHA-256, not_after, issued_by) as CSV to --csv,
 * for COPY into `credentials`. 10,000 schools take seconds, not 20,000 openssl processes.
 *
 * run sends every upload of --uploads (lines "CODE<TAB>KEY<TAB>BODY", summaries as a
 * school's gatescreen sends them) to the collector at 127.0.0.1:P over HTTPS with the
 * school's client certificate and bearer token, --conns connections at once, on one
 * thread with GnuTLS in non-blocking mode (a school's uploader sends one request at a
 * time on a connection, so does this):
 *   fresh      a new TCP connection and a full TLS handshake (client certificate and
 *              all) for every upload, "Connection: close";
 *   keepalive  one connection per school, carrying all of that school's uploads one
 *              after the other (a certificate names one school: a connection cannot
 *              carry another's), then the next school.
 * An upload that fails in transit, or gets 5xx or 429, is sent again with the same key
 * (at most 5 times), as the school's outbox does; the collector then answers 200 for
 * one it had stored. Latency: from the connect (fresh) or from the request's first
 * byte (keepalive) to the answer's last byte. Prints one JSON object: counts by
 * status, failures, retries, seconds, uploads per second, p50/p99/max in ms, the
 * handshakes made and this process's CPU seconds.
 *
 * --verify 0 skips checking the server's certificate (the school's side checks it;
 * this only saves the load's CPU on a shared machine). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "enrol.h"
#include "textnum.h"

#define MAX_TRIES 5
#define CONN_TIMEOUT_US (30 * 1000000LL)
#define RESP_MAX 4096
#define CODE_MAX 32
#define TOKEN_MAX 600

/* ---- files ---------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f) {
        fprintf(stderr, "ingest_load: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = cap ? cap * 2 : 1 << 20;
            char *b = realloc(buf, cap);
            if (!b)
                goto fail;
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f))
        goto fail;
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
fail:
    fprintf(stderr, "ingest_load: cannot read %s\n", path);
    fclose(f);
    free(buf);
    return NULL;
}

/* ---- enrol ----------------------------------------------------------------------------- */

struct enrol_opts {
    const char *ca_cert, *ca_key, *prefix, *keys, *csv;
    long first, count, width;
};

static FILE *open_secret(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        fprintf(stderr, "ingest_load: %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
    }
    return f;
}

static void write_record(FILE *keys, FILE *csv, const struct enrol_credential *c)
{
    const struct enrol_record *r = enrol_record(c);
    char until[32];
    time_t t = (time_t)r->not_after;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(until, sizeof until, "%Y-%m-%d %H:%M:%S+00", &tm);
    fprintf(keys, "school %s %s\n%s%s", r->code, enrol_token(c), enrol_cert_pem(c),
            enrol_key_pem(c));
    fprintf(csv, "%s,%s,%s,%s,%s,ingest_load\n", r->code, r->cert_serial, r->cert_sha256,
            r->token_sha256, until);
}

static int enrol_all(const struct enrol_opts *o)
{
    int64_t now = (int64_t)time(NULL);
    struct enrol_ca *ca = enrol_ca_load(o->ca_cert, o->ca_key, now, stderr);
    FILE *keys = ca ? open_secret(o->keys) : NULL;
    FILE *csv = keys ? fopen(o->csv, "w") : NULL;
    int rc = csv ? 0 : 1;
    for (long i = o->first; rc == 0 && i < o->first + o->count; i++) {
        char code[CODE_MAX];
        snprintf(code, sizeof code, "%s%0*ld", o->prefix, (int)o->width, i);
        struct enrol_credential *c = enrol_issue(ca, code, 365, now, stderr);
        if (!c) {
            rc = 1;
            break;
        }
        write_record(keys, csv, c);
        enrol_credential_free(c);
    }
    if (keys && fclose(keys) != 0)
        rc = 1;
    if (csv && fclose(csv) != 0)
        rc = 1;
    enrol_ca_free(ca);
    return rc;
}

static int number(const char *text, long min, long max, long *out, const char *what)
{
    if (tn_long(text, min, max, out) == 0)
        return 0;
    fprintf(stderr, "ingest_load: %s '%s': a number from %ld to %ld\n", what, text, min, max);
    return -1;
}

static int cmd_enrol(int argc, char **argv)
{
    static const struct option lo[] = {
        {"ca-cert", required_argument, NULL, 'c'}, {"ca-key", required_argument, NULL, 'k'},
        {"prefix", required_argument, NULL, 'p'},  {"first", required_argument, NULL, 'f'},
        {"count", required_argument, NULL, 'n'},   {"width", required_argument, NULL, 'w'},
        {"keys", required_argument, NULL, 'K'},    {"csv", required_argument, NULL, 'C'},
        {NULL, 0, NULL, 0}};
    struct enrol_opts o = {.prefix = "S", .first = 1, .width = 6};
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'c')
            o.ca_cert = optarg;
        else if (c == 'k')
            o.ca_key = optarg;
        else if (c == 'p')
            o.prefix = optarg;
        else if (c == 'K')
            o.keys = optarg;
        else if (c == 'C')
            o.csv = optarg;
        else if ((c == 'f' && number(optarg, 0, 99999999, &o.first, "--first") == 0) ||
                 (c == 'n' && number(optarg, 1, 1000000, &o.count, "--count") == 0) ||
                 (c == 'w' && number(optarg, 1, 12, &o.width, "--width") == 0))
            continue;
        else
            return 2;
    }
    if (!o.ca_cert || !o.ca_key || !o.keys || !o.csv || !o.count) {
        fprintf(stderr, "ingest_load enrol: --ca-cert, --ca-key, --count, --keys and --csv "
                        "are needed\n");
        return 2;
    }
    return enrol_all(&o);
}

/* ---- the schools and the uploads of a run --------------------------------------------- */

struct school {
    char code[CODE_MAX];
    char token[TOKEN_MAX];
    const char *cert, *key; /* PEM, NUL-ended, in the keys file's buffer */
    size_t cert_len, key_len;
    gnutls_certificate_credentials_t cred; /* made for the schools that upload */
};

struct upload {
    int school;
    const char *key, *body;
    size_t body_len;
    int tries;
};

/* What a connection carries: one upload (fresh) or one school's (keepalive). */
struct group {
    int *items;
    int n, pos;
};

struct run {
    struct school *schools;
    int nschools;
    struct upload *uploads;
    int nuploads;
    struct group *groups;
    int ngroups;
    int *ring; /* groups waiting for a connection */
    int ring_head, ring_len;
    char *keys_buf, *uploads_buf;
    const char *server_ca;
    long port, conns, verify, timeout_s;
    bool keepalive;
    /* results */
    int64_t *lat_us;
    long nlat, status[600], failed, retries, handshakes, transport_errors;
};

/* The PEM block from `begin` up to and including its END line's newline. */
static char *pem_block(char *p, const char *begin, const char *end, size_t *len, char **next)
{
    char *b = strstr(p, begin), *e = b ? strstr(b, end) : NULL;
    char *nl = e ? strchr(e, '\n') : NULL;
    if (!nl)
        return NULL;
    *len = (size_t)(nl + 1 - b);
    *next = nl + 1;
    return b;
}

static int parse_keys(struct run *r, const char *path)
{
    size_t len;
    if (!(r->keys_buf = slurp(path, &len)))
        return -1;
    for (char *p = r->keys_buf; (p = strstr(p, "school ")) != NULL;) {
        struct school s = {0};
        char *next;
        if (sscanf(p, "school %31s %599s", s.code, s.token) != 2 ||
            !(s.cert = pem_block(p, "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----",
                                 &s.cert_len, &next)) ||
            !(s.key = pem_block(next, "-----BEGIN", "-----END", &s.key_len, &next))) {
            fprintf(stderr, "ingest_load: %s: a broken record near \"%.40s\"\n", path, p);
            return -1;
        }
        if (r->nschools % 1024 == 0) {
            struct school *n = realloc(r->schools, (size_t)(r->nschools + 1024) * sizeof *n);
            if (!n)
                return -1;
            r->schools = n;
        }
        r->schools[r->nschools++] = s;
        p = next;
    }
    return r->nschools ? 0 : -1;
}

static int compare_codes(const void *a, const void *b)
{
    return strcmp(((const struct school *)a)->code, ((const struct school *)b)->code);
}

static int school_index(const struct run *r, const char *code)
{
    struct school key;
    snprintf(key.code, sizeof key.code, "%s", code);
    const struct school *s = bsearch(&key, r->schools, (size_t)r->nschools, sizeof key,
                                     compare_codes);
    return s ? (int)(s - r->schools) : -1;
}

static int parse_uploads(struct run *r, const char *path)
{
    size_t len;
    if (!(r->uploads_buf = slurp(path, &len)))
        return -1;
    long lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += r->uploads_buf[i] == '\n';
    if (!(r->uploads = calloc((size_t)lines + 1, sizeof *r->uploads)))
        return -1;
    for (char *p = r->uploads_buf, *nl; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
        *nl = '\0';
        char *t1 = strchr(p, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) {
            fprintf(stderr, "ingest_load: %s: not CODE<TAB>KEY<TAB>BODY: %.60s\n", path, p);
            return -1;
        }
        *t1 = *t2 = '\0';
        struct upload *u = &r->uploads[r->nuploads];
        if ((u->school = school_index(r, p)) < 0) {
            fprintf(stderr, "ingest_load: %s: school %s is not in the keys file\n", path, p);
            return -1;
        }
        u->key = t1 + 1;
        u->body = t2 + 1;
        u->body_len = strlen(u->body);
        r->nuploads++;
    }
    return r->nuploads ? 0 : -1;
}

/* fresh: one group per upload in the file's order; keepalive: one per school, in the
 * order of each school's first upload, its uploads in the file's order. */
static int make_groups(struct run *r)
{
    int *of_school = malloc((size_t)r->nschools * sizeof *of_school);
    r->groups = calloc((size_t)r->nuploads, sizeof *r->groups);
    r->ring = malloc((size_t)r->nuploads * sizeof *r->ring);
    int *items = malloc((size_t)r->nuploads * sizeof *items);
    if (!of_school || !r->groups || !r->ring || !items) {
        free(of_school);
        free(items);
        return -1;
    }
    for (int i = 0; i < r->nschools; i++)
        of_school[i] = -1;
    int *count = calloc((size_t)r->nuploads, sizeof *count);
    for (int i = 0; count && i < r->nuploads; i++) {
        int s = r->uploads[i].school;
        if (!r->keepalive || of_school[s] < 0)
            of_school[s] = r->ngroups++;
        count[of_school[s]]++;
    }
    for (int g = 0, at = 0; count && g < r->ngroups; at += count[g], g++)
        r->groups[g].items = items + at;
    for (int i = 0; i < r->nschools; i++)
        of_school[i] = -1;
    for (int i = 0, g = 0; count && i < r->nuploads; i++) {
        int s = r->uploads[i].school;
        if (!r->keepalive || of_school[s] < 0)
            of_school[s] = g++;
        struct group *gr = &r->groups[of_school[s]];
        gr->items[gr->n++] = i;
    }
    for (int g = 0; g < r->ngroups; g++)
        r->ring[g] = g;
    r->ring_len = r->ngroups;
    free(of_school);
    free(count);
    return count ? 0 : -1;
}

static int school_cred(struct run *r, struct school *s, const gnutls_datum_t *ca)
{
    gnutls_datum_t cert = {(unsigned char *)(uintptr_t)s->cert, (unsigned)s->cert_len};
    gnutls_datum_t key = {(unsigned char *)(uintptr_t)s->key, (unsigned)s->key_len};
    int rc = gnutls_certificate_allocate_credentials(&s->cred);
    if (rc == 0)
        rc = gnutls_certificate_set_x509_key_mem(s->cred, &cert, &key, GNUTLS_X509_FMT_PEM);
    if (rc == 0 && r->verify)
        rc = gnutls_certificate_set_x509_trust_mem(s->cred, ca, GNUTLS_X509_FMT_PEM) > 0
                 ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
    if (rc < 0)
        fprintf(stderr, "ingest_load: school %s's credential: %s\n", s->code, gnutls_strerror(rc));
    return rc < 0 ? -1 : 0;
}

/* Credentials of the schools that upload, made before the clock starts. */
static int make_creds(struct run *r)
{
    size_t len;
    char *ca_pem = slurp(r->server_ca, &len);
    if (!ca_pem)
        return -1;
    gnutls_datum_t ca = {(unsigned char *)ca_pem, (unsigned)len};
    int rc = 0;
    for (int i = 0; rc == 0 && i < r->nuploads; i++) {
        struct school *s = &r->schools[r->uploads[i].school];
        if (!s->cred)
            rc = school_cred(r, s, &ca);
    }
    free(ca_pem);
    return rc;
}

/* ---- connections --------------------------------------------------------------------- */

enum slot_state { S_IDLE, S_CONNECT, S_HANDSHAKE, S_SEND, S_RECV };

struct slot {
    enum slot_state state;
    int fd, group, upload;
    gnutls_session_t tls;
    char *req;
    size_t req_len, req_off, req_cap;
    char resp[RESP_MAX + 1];
    size_t resp_len;
    int64_t t0_us, deadline_us;
};

static int ep = -1;

static void want(struct slot *s, unsigned events)
{
    struct epoll_event ev = {.events = events, .data.ptr = s};
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

static void want_tls(struct slot *s)
{
    want(s, gnutls_record_get_direction(s->tls) ? EPOLLOUT : EPOLLIN);
}

static void slot_close(struct slot *s)
{
    if (s->tls) {
        gnutls_bye(s->tls, GNUTLS_SHUT_WR); /* one try; the answer is in already */
        gnutls_deinit(s->tls);
        s->tls = NULL;
    }
    if (s->fd >= 0)
        close(s->fd); /* also leaves the epoll set */
    s->fd = -1;
    s->state = S_IDLE;
}

static void ring_push(struct run *r, int g)
{
    r->ring[(r->ring_head + r->ring_len++) % r->ngroups] = g;
}

static int ring_pop(struct run *r)
{
    int g = r->ring[r->ring_head];
    r->ring_head = (r->ring_head + 1) % r->ngroups;
    r->ring_len--;
    return g;
}

/* The upload in flight did not get its answer, or got 5xx/429: the connection is
 * dropped and the upload goes back in line, unless it has had its tries. */
static void slot_fail(struct run *r, struct slot *s, bool transport)
{
    struct upload *u = &r->uploads[s->upload];
    struct group *g = &r->groups[s->group];
    r->transport_errors += transport;
    slot_close(s);
    if (++u->tries < MAX_TRIES) {
        r->retries++;
        g->pos--; /* the same upload again, first */
    } else {
        r->failed++;
    }
    if (g->pos < g->n)
        ring_push(r, s->group);
}

static int build_request(struct run *r, struct slot *s)
{
    const struct upload *u = &r->uploads[s->upload];
    const struct school *sc = &r->schools[u->school];
    size_t need = u->body_len + 1024 + strlen(u->key) + strlen(sc->token);
    if (need > s->req_cap) {
        char *b = realloc(s->req, need);
        if (!b)
            return -1;
        s->req = b;
        s->req_cap = need;
    }
    int n = snprintf(s->req, s->req_cap,
                     "POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1:%ld\r\n"
                     "Content-Type: application/json; charset=utf-8\r\n"
                     "Idempotency-Key: %s\r\nX-Gatescreen-Kind: summary\r\n"
                     "Authorization: Bearer %s\r\nContent-Length: %zu\r\n%s\r\n",
                     r->port, u->key, sc->token, u->body_len,
                     r->keepalive ? "" : "Connection: close\r\n");
    if (n < 0 || (size_t)n + u->body_len >= s->req_cap)
        return -1;
    memcpy(s->req + n, u->body, u->body_len);
    s->req_len = (size_t)n + u->body_len;
    s->req_off = 0;
    s->resp_len = 0;
    s->state = S_SEND;
    return 0;
}

/* The group's next upload; false when it has none left. */
static bool next_upload(struct run *r, struct slot *s)
{
    struct group *g = &r->groups[s->group];
    if (g->pos >= g->n)
        return false;
    s->upload = g->items[g->pos++];
    return true;
}

static void slot_start(struct run *r, struct slot *s)
{
    static const struct sockaddr_in to0 = {.sin_family = AF_INET};
    struct sockaddr_in to = to0;
    int one = 1;
    s->group = ring_pop(r);
    next_upload(r, s);
    s->t0_us = clock_mono_us();
    s->deadline_us = s->t0_us + CONN_TIMEOUT_US;
    to.sin_port = htons((uint16_t)r->port);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0) {
        slot_fail(r, s, true);
        return;
    }
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = s};
    s->state = S_CONNECT;
    if ((connect(s->fd, (const struct sockaddr *)&to, sizeof to) < 0 && errno != EINPROGRESS) ||
        epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev) < 0)
        slot_fail(r, s, true);
}

static int tls_start(struct run *r, struct slot *s)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err)
        return -1;
    struct school *sc = &r->schools[r->uploads[s->upload].school];
    if (gnutls_init(&s->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0) {
        s->tls = NULL;
        return -1;
    }
    gnutls_set_default_priority(s->tls);
    gnutls_credentials_set(s->tls, GNUTLS_CRD_CERTIFICATE, sc->cred);
    if (r->verify)
        gnutls_session_set_verify_cert(s->tls, "127.0.0.1", 0);
    gnutls_transport_set_int(s->tls, s->fd);
    s->state = S_HANDSHAKE;
    return 0;
}

/* The answer is complete: its status, 0; not yet, 1; broken, -1. */
static int answer_status(struct slot *s, int *status, bool *close_after)
{
    s->resp[s->resp_len] = '\0';
    char *end = strstr(s->resp, "\r\n\r\n");
    if (!end)
        return s->resp_len >= RESP_MAX ? -1 : 1;
    long cl = 0;
    *close_after = false;
    for (char *h = strstr(s->resp, "\r\n"); h && h < end; h = strstr(h + 2, "\r\n")) {
        if (strncasecmp(h + 2, "Content-Length:", 15) == 0)
            cl = strtol(h + 17, NULL, 10);
        else if (strncasecmp(h + 2, "Connection: close", 17) == 0)
            *close_after = true;
    }
    if ((size_t)(end + 4 - s->resp) + (size_t)cl > s->resp_len)
        return 1;
    if (sscanf(s->resp, "HTTP/1.%*d %d", status) != 1 || *status < 100 || *status > 599)
        return -1;
    return 0;
}

static void step_send(struct run *r, struct slot *s);

static void record(struct run *r, struct slot *s, int status)
{
    r->status[status]++;
    if (status / 100 == 2)
        r->lat_us[r->nlat++] = clock_mono_us() - s->t0_us;
}

/* An answer is in: the next upload on this connection (keepalive), or the end of it. */
static void answered(struct run *r, struct slot *s, int status, bool close_after)
{
    if (status >= 500 || status == 429) {
        r->status[status]++;
        slot_fail(r, s, false);
        return;
    }
    record(r, s, status);
    if (!r->keepalive || close_after || !next_upload(r, s)) {
        struct group *g = &r->groups[s->group];
        slot_close(s);
        if (g->pos < g->n) /* the server closed a keep-alive connection: a new one */
            ring_push(r, s->group);
        return;
    }
    s->t0_us = clock_mono_us();
    s->deadline_us = s->t0_us + CONN_TIMEOUT_US;
    if (build_request(r, s) < 0)
        slot_fail(r, s, true);
    else
        step_send(r, s); /* the socket takes it: no need to wait for a wake-up */
}

static void step_recv(struct run *r, struct slot *s)
{
    for (;;) {
        ssize_t n = gnutls_record_recv(s->tls, s->resp + s->resp_len, RESP_MAX - s->resp_len);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
            want(s, EPOLLIN);
            return;
        }
        if (n <= 0) {
            slot_fail(r, s, true);
            return;
        }
        s->resp_len += (size_t)n;
        int status = 0;
        bool close_after = false;
        int done = answer_status(s, &status, &close_after);
        if (done < 0) {
            slot_fail(r, s, true);
            return;
        }
        if (done == 0) {
            answered(r, s, status, close_after);
            return;
        }
    }
}

static void step_send(struct run *r, struct slot *s)
{
    while (s->req_off < s->req_len) {
        ssize_t n = gnutls_record_send(s->tls, s->req + s->req_off, s->req_len - s->req_off);
        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
            want_tls(s);
            return;
        }
        if (n < 0) {
            slot_fail(r, s, true);
            return;
        }
        s->req_off += (size_t)n;
    }
    s->state = S_RECV;
    step_recv(r, s);
}

static void step(struct run *r, struct slot *s)
{
    if (s->state == S_CONNECT && tls_start(r, s) < 0) {
        slot_fail(r, s, true);
        return;
    }
    if (s->state == S_HANDSHAKE) {
        int rc = gnutls_handshake(s->tls);
        if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED) {
            want_tls(s);
            return;
        }
        if (rc < 0) {
            fprintf(stderr, "ingest_load: handshake: %s\n", gnutls_strerror(rc));
            slot_fail(r, s, true);
            return;
        }
        r->handshakes++;
        if (build_request(r, s) < 0) {
            slot_fail(r, s, true);
            return;
        }
    }
    if (s->state == S_SEND)
        step_send(r, s);
    else if (s->state == S_RECV)
        step_recv(r, s);
}

static void check_timeouts(struct run *r, struct slot *slots, long n)
{
    int64_t now = clock_mono_us();
    for (long i = 0; i < n; i++)
        if (slots[i].state != S_IDLE && now > slots[i].deadline_us)
            slot_fail(r, &slots[i], true);
}

/* ---- the run ---------------------------------------------------------------------------- */

static int compare_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double pct_ms(const struct run *r, double p)
{
    if (!r->nlat)
        return -1;
    long i = (long)(p / 100.0 * (double)r->nlat + 0.5) - 1;
    i = i < 0 ? 0 : i >= r->nlat ? r->nlat - 1 : i;
    return (double)r->lat_us[i] / 1000.0;
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static void report(struct run *r, double seconds, double cpu)
{
    qsort(r->lat_us, (size_t)r->nlat, sizeof *r->lat_us, compare_i64);
    printf("{\"mode\":\"%s\",\"uploads\":%d,\"groups\":%d,\"conns\":%ld,\"ok\":%ld,"
           "\"status\":{", r->keepalive ? "keepalive" : "fresh", r->nuploads, r->ngroups,
           r->conns, r->nlat);
    const char *sep = "";
    for (int i = 0; i < 600; i++)
        if (r->status[i]) {
            printf("%s\"%d\":%ld", sep, i, r->status[i]);
            sep = ",";
        }
    printf("},\"failed\":%ld,\"retries\":%ld,\"transport_errors\":%ld,\"handshakes\":%ld,"
           "\"seconds\":%.3f,\"rate\":%.1f,\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
           "\"cpu_s\":%.3f}\n", r->failed, r->retries, r->transport_errors, r->handshakes,
           seconds, (double)r->nlat / seconds, pct_ms(r, 50), pct_ms(r, 99), pct_ms(r, 100),
           cpu);
}

static int drive(struct run *r)
{
    struct slot *slots = calloc((size_t)r->conns, sizeof *slots);
    struct epoll_event evs[64];
    if (!slots || (ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
        return -1;
    for (long i = 0; i < r->conns; i++)
        slots[i].fd = -1;
    int64_t t0 = clock_mono_us(), end = t0 + r->timeout_s * 1000000LL, last_check = t0;
    double cpu0 = cpu_seconds();
    long busy;
    do {
        busy = 0;
        for (long i = 0; i < r->conns; i++) {
            if (slots[i].state == S_IDLE && r->ring_len > 0)
                slot_start(r, &slots[i]);
            busy += slots[i].state != S_IDLE;
        }
        int n = busy ? epoll_wait(ep, evs, 64, 100) : 0;
        for (int i = 0; i < n; i++)
            step(r, evs[i].data.ptr);
        int64_t now = clock_mono_us();
        if (now - last_check > 100000) {
            check_timeouts(r, slots, r->conns);
            last_check = now;
        }
        if (now > end) {
            fprintf(stderr, "ingest_load: --timeout %ld s reached\n", r->timeout_s);
            break;
        }
    } while (busy || r->ring_len > 0);
    double seconds = (double)(clock_mono_us() - t0) / 1e6;
    report(r, seconds, cpu_seconds() - cpu0);
    for (long i = 0; i < r->conns; i++) {
        slot_close(&slots[i]);
        free(slots[i].req);
    }
    free(slots);
    close(ep);
    return r->failed || busy ? 1 : 0;
}

static int cmd_run(int argc, char **argv)
{
    static const struct option lo[] = {
        {"port", required_argument, NULL, 'p'},    {"server-ca", required_argument, NULL, 's'},
        {"keys", required_argument, NULL, 'k'},    {"uploads", required_argument, NULL, 'u'},
        {"mode", required_argument, NULL, 'm'},    {"conns", required_argument, NULL, 'c'},
        {"verify", required_argument, NULL, 'v'},  {"timeout", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0}};
    static struct run r = {.conns = 32, .verify = 1, .timeout_s = 600};
    const char *keys = NULL, *uploads = NULL, *mode = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 's')
            r.server_ca = optarg;
        else if (c == 'k')
            keys = optarg;
        else if (c == 'u')
            uploads = optarg;
        else if (c == 'm')
            mode = optarg;
        else if ((c == 'p' && number(optarg, 1, 65535, &r.port, "--port") == 0) ||
                 (c == 'c' && number(optarg, 1, 4096, &r.conns, "--conns") == 0) ||
                 (c == 'v' && number(optarg, 0, 1, &r.verify, "--verify") == 0) ||
                 (c == 't' && number(optarg, 1, 86400, &r.timeout_s, "--timeout") == 0))
            continue;
        else
            return 2;
    }
    if (!r.port || !r.server_ca || !keys || !uploads || !mode ||
        (strcmp(mode, "fresh") != 0 && strcmp(mode, "keepalive") != 0)) {
        fprintf(stderr, "ingest_load run: --port, --server-ca, --keys, --uploads and --mode "
                        "fresh|keepalive are needed\n");
        return 2;
    }
    r.keepalive = strcmp(mode, "keepalive") == 0;
    if (parse_keys(&r, keys) < 0)
        return 1;
    qsort(r.schools, (size_t)r.nschools, sizeof *r.schools, compare_codes);
    if (parse_uploads(&r, uploads) < 0 || make_groups(&r) < 0 || make_creds(&r) < 0 ||
        !(r.lat_us = calloc((size_t)r.nuploads, sizeof *r.lat_us)))
        return 1;
    return drive(&r);
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN); /* a connection the server closed is an error, not a death */
    if (argc >= 2 && strcmp(argv[1], "enrol") == 0)
        return cmd_enrol(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "run") == 0) {
        if (gnutls_global_init() < 0)
            return 1;
        return cmd_run(argc - 1, argv + 1);
    }
    fputs("usage: ingest_load enrol --ca-cert F --ca-key F --count N --keys OUT --csv OUT\n"
          "       ingest_load run --port P --server-ca F --keys F --uploads F "
          "--mode fresh|keepalive [--conns N] [--verify 0|1] [--timeout S]\n", stderr);
    return 2;
}
