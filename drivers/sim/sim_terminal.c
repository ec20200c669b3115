/* gatescreen-sim's Hikvision terminals (sim_terminal.h). Bodies are shaped like
 * Hikvision's ISAPI examples as open-source receivers show them (README "HTTP
 * terminals", sources). Push: one thread posts the queued events with libcurl
 * from the terminal's address. Stream: one libmicrohttpd daemon per terminal,
 * a thread per connection, whose reader blocks on the terminal's queue of parts
 * and writes a heartbeat when nothing came for HEARTBEAT_MS. */
#include "sim_terminal.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "secret_file.h"
#include "textnum.h"

#define STREAM_PATH "/ISAPI/Event/notification/alertStream"
#define REALM "DS-K1T671TM-3XF"
#define HEARTBEAT_MS 1000
#define PENDING_MAX (1024 * 1024) /* stream bytes waiting for a reader */
#define JPEG_BYTES 3000
#define PUSH_ATTEMPTS 5
#define PUSH_RETRY_MS 1000

enum fmt { F_JSON, F_MULTIPART, F_XML };

struct job {
    struct job *next;
    int term;
    char *body;
    size_t len;
    const char *ctype;
    int attempts;
    int64_t due_ms;
};

struct term {
    struct sim_terms *st;
    const struct cfg_terminal *cfg;
    char *password;
    uint64_t next_serial;
    struct MHD_Daemon *mhd; /* stream mode */
    char *pending;          /* stream bytes not yet read by a connection */
    size_t plen;
    unsigned generation;    /* face-drop: connections of an older one end */
};

struct sim_terms {
    const struct config *cfg;
    struct term t[CFG_MAX_TERMINALS];
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* stream parts queued, a push job queued, or stop */
    bool stop;
    struct job *jobs;       /* push mode, in order */
    pthread_t pusher;
    bool pushing;
    unsigned char nonce_seed[32];
};

/* One stream connection. */
struct conn {
    struct term *t;
    unsigned generation;
    char *chunk;
    size_t len, off;
};

static int64_t deadline_ts(struct timespec *ts, int64_t ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    int64_t ns = ts->tv_nsec + ms * 1000000;
    ts->tv_sec += ns / 1000000000;
    ts->tv_nsec = ns % 1000000000;
    return ms;
}

/* ---- bodies --------------------------------------------------------------------------- */

static void now_text(char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%S+00:00", &tm);
}

struct face {
    const char *id;
    uint64_t card, serial;
    double temp;
    bool has_temp, abnormal;
};

static char *json_body(const struct cfg_terminal *t, const struct face *f)
{
    char when[40];
    now_text(when, sizeof when);
    json_t *ace = json_pack("{s:s, s:i, s:i, s:I, s:s, s:s, s:b, s:i}", "deviceName",
                            "Access Controller", "majorEventType", 5, "subEventType", 75,
                            "serialNo", (json_int_t)f->serial, "mask", "no", "thermometryUnit",
                            "celsius", "isAbnomalTemperature", f->abnormal, "picturesNumber", 1);
    if (ace && f->id)
        json_object_set_new(ace, "employeeNoString", json_string(f->id));
    if (ace && f->card) {
        char card[24];
        snprintf(card, sizeof card, "%llu", (unsigned long long)f->card);
        json_object_set_new(ace, "cardNo", json_string(card));
    }
    if (ace && f->has_temp)
        json_object_set_new(ace, "currTemperature", json_real(f->temp));
    json_t *root = json_pack("{s:s, s:i, s:s, s:s, s:i, s:s, s:s, s:o}", "ipAddress", t->address,
                             "portNo", 80, "protocol", "HTTP", "dateTime", when, "activePostCount",
                             1, "eventType", "AccessControllerEvent", "eventState", "active",
                             "AccessControllerEvent", ace);
    char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return text;
}

static char *xml_body(const struct cfg_terminal *t, const struct face *f)
{
    char when[40], card[48] = "", temp[96] = "", id[112] = "";
    now_text(when, sizeof when);
    if (f->card)
        snprintf(card, sizeof card, "<cardNo>%llu</cardNo>", (unsigned long long)f->card);
    if (f->has_temp)
        snprintf(temp, sizeof temp, "<thermometryUnit>celsius</thermometryUnit>"
                 "<currTemperature>%.1f</currTemperature>", f->temp);
    if (f->id)
        snprintf(id, sizeof id, "<employeeNoString>%.64s</employeeNoString>", f->id);
    char *out = malloc(2048);
    if (out)
        snprintf(out, 2048,
                 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<EventNotificationAlert "
                 "version=\"2.0\" xmlns=\"http://www.isapi.org/ver20/XMLSchema\">\r\n"
                 "<ipAddress>%s</ipAddress>\r\n<dateTime>%s</dateTime>\r\n"
                 "<activePostCount>1</activePostCount>\r\n"
                 "<eventType>AccessControllerEvent</eventType>\r\n<eventState>active</eventState>\r\n"
                 "<AccessControllerEvent>\r\n<majorEventType>5</majorEventType>\r\n"
                 "<subEventType>75</subEventType>\r\n%s%s<serialNo>%llu</serialNo>\r\n"
                 "<mask>no</mask>\r\n%s<isAbnomalTemperature>%s</isAbnomalTemperature>\r\n"
                 "</AccessControllerEvent>\r\n</EventNotificationAlert>\r\n",
                 t->address, when, id, card, (unsigned long long)f->serial, temp,
                 f->abnormal ? "true" : "false");
    return out;
}

static void fake_jpeg(char *p)
{
    static const unsigned char soi[] = {0xff, 0xd8, 0xff, 0xe0}, eoi[] = {0xff, 0xd9};
    uint32_t x = 2463534242u;
    memcpy(p, soi, sizeof soi);
    for (size_t i = sizeof soi; i < JPEG_BYTES - 2; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* noise: a picture compresses badly */
        p[i] = (char)(x & 0xff);
    }
    memcpy(p + JPEG_BYTES - 2, eoi, sizeof eoi);
}

/* The event as multipart parts: `name` set, form-data (push); else alertStream parts. */
static char *parts(const char *boundary, const char *name, const char *ctype, const char *body,
                   bool closing, size_t *len)
{
    size_t bl = strlen(body), cap = bl + JPEG_BYTES + 512;
    char *out = malloc(cap), disp[96] = "", jdisp[96] = "";
    if (!out)
        return NULL;
    if (name) {
        snprintf(jdisp, sizeof jdisp, "Content-Disposition: form-data; name=\"%s\"\r\n", name);
        snprintf(disp, sizeof disp, "Content-Disposition: form-data; name=\"Picture\"; "
                 "filename=\"Picture.jpg\"\r\n");
    }
    int n = snprintf(out, cap, "--%s\r\n%sContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s\r\n"
                     "--%s\r\n%sContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n",
                     boundary, jdisp, ctype, bl, body, boundary, disp, JPEG_BYTES);
    fake_jpeg(out + n);
    n += JPEG_BYTES;
    n += snprintf(out + n, cap - (size_t)n, closing ? "\r\n--%s--\r\n" : "\r\n", boundary);
    *len = (size_t)n;
    return out;
}

/* ---- stream mode ------------------------------------------------------------------------ */

static char *heartbeat(const struct term *t, size_t *len)
{
    char when[40], xml[640];
    now_text(when, sizeof when);
    int n = snprintf(xml, sizeof xml,
                     "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<EventNotificationAlert "
                     "version=\"2.0\" xmlns=\"http://www.hikvision.com/ver20/XMLSchema\">\r\n"
                     "<ipAddress>%s</ipAddress>\r\n<portNo>%d</portNo>\r\n<protocol>HTTP"
                     "</protocol>\r\n<channelID>1</channelID>\r\n<dateTime>%s</dateTime>\r\n"
                     "<activePostCount>0</activePostCount>\r\n<eventType>videoloss</eventType>"
                     "\r\n<eventState>inactive</eventState>\r\n<eventDescription>videoloss "
                     "alarm</eventDescription>\r\n</EventNotificationAlert>\r\n",
                     t->cfg->address, t->cfg->isapi_port, when);
    char *out = malloc(sizeof xml + 128);
    if (out)
        *len = (size_t)snprintf(out, sizeof xml + 128,
                                "--boundary\r\nContent-Type: application/xml; charset=\"UTF-8\""
                                "\r\nContent-Length: %d\r\n\r\n%s\r\n", n, xml);
    return out;
}

/* Waits for parts (or the heartbeat's time); false when the stream is to end. */
static bool refill(struct conn *c)
{
    struct term *t = c->t;
    struct sim_terms *st = t->st;
    struct timespec until;
    deadline_ts(&until, HEARTBEAT_MS);
    free(c->chunk);
    c->chunk = NULL;
    c->len = c->off = 0;
    pthread_mutex_lock(&st->mu);
    while (!st->stop && t->generation == c->generation && t->plen == 0 &&
           pthread_cond_timedwait(&st->cv, &st->mu, &until) == 0)
        ;
    bool live = !st->stop && t->generation == c->generation;
    if (live && t->plen > 0) {
        c->chunk = t->pending;
        c->len = t->plen;
        t->pending = NULL;
        t->plen = 0;
    }
    pthread_mutex_unlock(&st->mu);
    if (live && !c->chunk)
        c->chunk = heartbeat(t, &c->len);
    return live && c->chunk;
}

static ssize_t read_stream(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    struct conn *c = cls;
    if (c->off == c->len && !refill(c))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t n = c->len - c->off < max ? c->len - c->off : max;
    memcpy(buf, c->chunk + c->off, n);
    c->off += n;
    return (ssize_t)n;
}

static void free_conn(void *cls)
{
    struct conn *c = cls;
    free(c->chunk);
    free(c);
}

static enum MHD_Result serve_stream(void *cls, struct MHD_Connection *mc, const char *url,
                                    const char *method, const char *version,
                                    const char *upload, size_t *upload_size, void **con_cls)
{
    (void)version, (void)upload, (void)upload_size, (void)con_cls;
    struct term *t = cls;
    struct MHD_Response *r;
    enum MHD_Result ret;
    if (strcmp(method, "GET") != 0 || strcmp(url, STREAM_PATH) != 0) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_response(mc, MHD_HTTP_NOT_FOUND, r);
        MHD_destroy_response(r);
        return ret;
    }
    if (MHD_digest_auth_check2(mc, REALM, t->cfg->user, t->password, 300, MHD_DIGEST_ALG_MD5) !=
        MHD_YES) {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        ret = MHD_queue_auth_fail_response2(mc, REALM, "sim", r, MHD_NO, MHD_DIGEST_ALG_MD5);
        MHD_destroy_response(r);
        return ret;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return MHD_NO;
    c->t = t;
    pthread_mutex_lock(&t->st->mu);
    c->generation = t->generation;
    pthread_mutex_unlock(&t->st->mu);
    r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 8192, read_stream, c, free_conn);
    if (!r) {
        free(c);
        return MHD_NO;
    }
    MHD_add_response_header(r, "MIME-Version", "1.0");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "multipart/mixed; boundary=boundary");
    log_notice("terminal %s: alertStream opened", t->cfg->name);
    ret = MHD_queue_response(mc, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

static int start_stream(struct term *t)
{
    union {
        struct sockaddr sa;
        struct sockaddr_in v4;
        struct sockaddr_in6 v6;
    } a = {0};
    bool v6 = inet_pton(AF_INET, t->cfg->address, &a.v4.sin_addr) != 1;
    if (v6) {
        a.v6.sin6_family = AF_INET6;
        a.v6.sin6_port = htons((uint16_t)t->cfg->isapi_port);
        inet_pton(AF_INET6, t->cfg->address, &a.v6.sin6_addr);
    } else {
        a.v4.sin_family = AF_INET;
        a.v4.sin_port = htons((uint16_t)t->cfg->isapi_port);
    }
    t->mhd = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                                  (v6 ? MHD_USE_IPv6 : 0),
                              (uint16_t)t->cfg->isapi_port, NULL, NULL, serve_stream, t,
                              MHD_OPTION_SOCK_ADDR, &a.sa, MHD_OPTION_DIGEST_AUTH_RANDOM,
                              sizeof t->st->nonce_seed, t->st->nonce_seed, MHD_OPTION_END);
    if (!t->mhd) {
        log_err("terminal %s: cannot serve its alertStream on %s port %d", t->cfg->name,
                t->cfg->address, t->cfg->isapi_port);
        return -1;
    }
    log_notice("terminal %s: alertStream on %s port %d", t->cfg->name, t->cfg->address,
               t->cfg->isapi_port);
    return 0;
}

static int queue_stream(struct term *t, char *bytes, size_t len, int repeat)
{
    struct sim_terms *st = t->st;
    int rc = 0;
    pthread_mutex_lock(&st->mu);
    for (int i = 0; i < repeat && rc == 0; i++) {
        char *p = t->plen + len <= PENDING_MAX ? realloc(t->pending, t->plen + len) : NULL;
        if (!p) {
            rc = -1;
            break;
        }
        memcpy(p + t->plen, bytes, len);
        t->pending = p;
        t->plen += len;
    }
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    free(bytes);
    return rc;
}

/* ---- push mode -------------------------------------------------------------------------- */

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p, (void)arg;
    return size * n;
}

/* One POST as the terminal; its HTTP status, 0 when there was none. */
static long post(struct sim_terms *st, const struct job *j)
{
    const struct term *t = &st->t[j->term];
    const char *host = st->cfg->terminals.listen;
    char url[160], iface[80], ctype[120];
    if (strcmp(host, "0.0.0.0") == 0)
        host = "127.0.0.1";
    else if (strcmp(host, "::") == 0)
        host = "::1";
    bool v6 = strchr(host, ':') != NULL;
    snprintf(url, sizeof url, "http://%s%s%s:%d/gatescreen/event", v6 ? "[" : "", host,
             v6 ? "]" : "", st->cfg->terminals.port);
    snprintf(iface, sizeof iface, "host!%s", t->cfg->address);
    snprintf(ctype, sizeof ctype, "Content-Type: %s", j->ctype);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, ctype);
    long code = 0;
    if (c && h) {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_INTERFACE, iface);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)j->len);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        if (t->password) {
            curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_DIGEST);
            curl_easy_setopt(c, CURLOPT_USERNAME, t->cfg->user);
            curl_easy_setopt(c, CURLOPT_PASSWORD, t->password);
        }
        if (curl_easy_perform(c) == CURLE_OK)
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    }
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return code;
}

/* The first job that is due, taken off the list; NULL with *wait_ms otherwise. */
static struct job *take_due(struct sim_terms *st, int64_t *wait_ms)
{
    int64_t now = clock_mono_ms();
    *wait_ms = 1000;
    for (struct job **p = &st->jobs; *p; p = &(*p)->next) {
        struct job *j = *p;
        if (j->due_ms <= now) {
            *p = j->next;
            return j;
        }
        if (j->due_ms - now < *wait_ms)
            *wait_ms = j->due_ms - now;
    }
    return NULL;
}

static void *push_thread(void *arg)
{
    struct sim_terms *st = arg;
    pthread_mutex_lock(&st->mu);
    while (!st->stop) {
        int64_t wait;
        struct job *j = take_due(st, &wait);
        if (!j) {
            struct timespec until;
            deadline_ts(&until, wait);
            pthread_cond_timedwait(&st->cv, &st->mu, &until);
            continue;
        }
        pthread_mutex_unlock(&st->mu);
        long code = post(st, j);
        const char *name = st->t[j->term].cfg->name;
        bool again = (code < 200 || code > 299) && ++j->attempts < PUSH_ATTEMPTS;
        if (code < 200 || code > 299)
            log_warn("terminal %s: push answered %ld; %s", name, code,
                     again ? "sending it again in 1 s" : "given up");
        pthread_mutex_lock(&st->mu);
        if (again) {
            j->due_ms = clock_mono_ms() + PUSH_RETRY_MS;
            j->next = st->jobs;
            st->jobs = j;
        } else {
            free(j->body);
            free(j);
        }
    }
    pthread_mutex_unlock(&st->mu);
    return NULL;
}

static int queue_push(struct sim_terms *st, int term, char *body, size_t len, bool multipart,
                      int repeat)
{
    struct job *first = NULL, **tail = &first;
    for (int i = 0; i < repeat; i++) {
        struct job *j = calloc(1, sizeof *j);
        char *copy = malloc(len + 1);
        if (!j || !copy) {
            free(j);
            free(copy);
            break;
        }
        memcpy(copy, body, len);
        *j = (struct job){.term = term, .body = copy, .len = len,
                          .ctype = multipart ? "multipart/form-data; boundary=MIME_boundary"
                                             : "application/json"};
        *tail = j;
        tail = &j->next;
    }
    free(body);
    pthread_mutex_lock(&st->mu);
    struct job **end = &st->jobs;
    while (*end)
        end = &(*end)->next;
    *end = first;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return first ? 0 : -1;
}

/* ---- commands --------------------------------------------------------------------------- */

int sim_terms_is_command(const char *line)
{
    line += strspn(line, " \t");
    return strncmp(line, "face ", 5) == 0 || strncmp(line, "face-drop ", 10) == 0;
}

static struct term *find_term(struct sim_terms *st, const char *name)
{
    for (int i = 0; st && i < st->cfg->nterminals; i++)
        if (st->t[i].cfg && strcmp(st->t[i].cfg->name, name) == 0)
            return &st->t[i];
    return NULL;
}

static int fail(char *err, size_t n, const char *what, const char *word)
{
    snprintf(err, n, "%s: %.60s", what, word);
    return -1;
}

static int face_word(char *w, struct face *f, enum fmt *fmt, long *repeat, char *err, size_t n)
{
    long v;
    int64_t card;
    if (strncmp(w, "id=", 3) == 0 && w[3] && strlen(w + 3) < 33)
        f->id = w + 3;
    else if (strncmp(w, "temp=", 5) == 0 && tn_double(w + 5, 20.0, 50.0, &f->temp) == 0)
        f->has_temp = true;
    else if (strncmp(w, "card=", 5) == 0 && tn_int64(w + 5, 1, UINT32_MAX, &card) == 0)
        f->card = (uint64_t)card;
    else if (strncmp(w, "serial=", 7) == 0 && tn_long(w + 7, 1, 2000000000L, &v) == 0)
        f->serial = (uint64_t)v;
    else if (strncmp(w, "repeat=", 7) == 0 && tn_long(w + 7, 1, 20, repeat) == 0)
        ;
    else if (strcmp(w, "abnormal") == 0)
        f->abnormal = true;
    else if (strcmp(w, "as=json") == 0 || strcmp(w, "as=multipart") == 0 || strcmp(w, "as=xml") == 0)
        *fmt = w[3] == 'j' ? F_JSON : w[3] == 'm' ? F_MULTIPART : F_XML;
    else
        return fail(err, n, "expected id=ID temp=C card=N serial=N repeat=N abnormal "
                            "as=json|multipart|xml, not", w);
    return 0;
}

/* face NAME id=S1 temp=36.5 [card=N] [serial=N] [abnormal] [as=...] [repeat=N] */
static int face(struct sim_terms *st, struct term *t, char *args, char *err, size_t n)
{
    struct face f = {0};
    bool stream = t->cfg->mode == CFG_TERM_STREAM;
    enum fmt fmt = stream ? F_JSON : F_MULTIPART;
    long repeat = 1;
    for (char *save = NULL, *w = strtok_r(args, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
        if (face_word(w, &f, &fmt, &repeat, err, n) < 0)
            return -1;
    if (!f.id && !f.card)
        return fail(err, n, "a face event needs id= or card=", t->cfg->name);
    if (!stream && fmt == F_XML)
        return fail(err, n, "as=xml is for stream terminals; push is json or multipart",
                    t->cfg->name);
    pthread_mutex_lock(&st->mu);
    f.serial = f.serial ? f.serial : t->next_serial++;
    pthread_mutex_unlock(&st->mu);
    char *body = fmt == F_XML ? xml_body(t->cfg, &f) : json_body(t->cfg, &f), *all;
    size_t len = 0;
    if (!body)
        return fail(err, n, "out of memory", t->cfg->name);
    if (stream)
        all = parts("boundary", NULL, fmt == F_XML ? "application/xml; charset=\"UTF-8\""
                                                   : "application/json; charset=\"UTF-8\"",
                    body, false, &len);
    else if (fmt == F_MULTIPART)
        all = parts("MIME_boundary", "AccessControllerEvent", "application/json", body, true,
                    &len);
    else
        all = strdup(body), len = strlen(body);
    free(body);
    if (!all)
        return fail(err, n, "out of memory", t->cfg->name);
    if ((stream ? queue_stream(t, all, len, (int)repeat)
                : queue_push(st, (int)(t - st->t), all, len, fmt == F_MULTIPART, (int)repeat)) < 0)
        return fail(err, n, "too much queued for", t->cfg->name);
    return 0;
}

int sim_terms_command(struct sim_terms *st, char *line, char *err, size_t errlen)
{
    char *save = NULL, *verb = strtok_r(line, " \t", &save), *name = strtok_r(NULL, " \t", &save);
    struct term *t = name ? find_term(st, name) : NULL;
    if (!t)
        return fail(err, errlen, "no Hikvision [terminal] named", name ? name : "(none)");
    if (strcmp(verb, "face") == 0)
        return face(st, t, save ? save : (char *)"", err, errlen);
    if (t->cfg->mode != CFG_TERM_STREAM)
        return fail(err, errlen, "face-drop is for stream terminals, not", name);
    pthread_mutex_lock(&st->mu);
    t->generation++; /* its connections end at their next read */
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    return 0;
}

/* ---- start and stop --------------------------------------------------------------------- */

void sim_terms_stop(struct sim_terms *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&st->mu);
    st->stop = true;
    pthread_cond_broadcast(&st->cv);
    pthread_mutex_unlock(&st->mu);
    if (st->pushing)
        pthread_join(st->pusher, NULL);
    for (int i = 0; i < CFG_MAX_TERMINALS; i++) {
        if (st->t[i].mhd)
            MHD_stop_daemon(st->t[i].mhd);
        free(st->t[i].password);
        free(st->t[i].pending);
    }
    while (st->jobs) {
        struct job *j = st->jobs;
        st->jobs = j->next;
        free(j->body);
        free(j);
    }
    pthread_cond_destroy(&st->cv);
    pthread_mutex_destroy(&st->mu);
    free(st);
}

static int start_term(struct sim_terms *st, int i, bool *push)
{
    struct term *t = &st->t[i];
    t->st = st;
    t->cfg = &st->cfg->terminal[i];
    /* Serials go on from where a previous run left off, as a terminal's do. */
    t->next_serial = (uint64_t)time(NULL) % 100000000 * 10;
    if (t->cfg->password_file[0] &&
        secret_file_read_line(t->cfg->password_file, "terminal password file", 256,
                              &t->password, stderr) < 0)
        return -1;
    if (t->cfg->mode == CFG_TERM_STREAM)
        return start_stream(t);
    *push = true;
    return 0;
}

struct sim_terms *sim_terms_start(const struct config *cfg, int *failed)
{
    *failed = 0;
    if (cfg->nterminals == 0)
        return NULL;
    struct sim_terms *st = calloc(1, sizeof *st);
    if (!st || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        free(st);
        *failed = 1;
        return NULL;
    }
    st->cfg = cfg;
    pthread_mutex_init(&st->mu, NULL);
    pthread_cond_init(&st->cv, NULL);
    FILE *rnd = fopen("/dev/urandom", "rb");
    if (!rnd || fread(st->nonce_seed, sizeof st->nonce_seed, 1, rnd) != 1)
        *failed = 1;
    if (rnd)
        fclose(rnd);
    bool push = false;
    for (int i = 0; i < cfg->nterminals && !*failed; i++)
        if (cfg->terminal[i].kind == CFG_TERM_HIKVISION_ISAPI && start_term(st, i, &push) < 0)
            *failed = 1;
    if (!*failed && push)
        st->pushing = pthread_create(&st->pusher, NULL, push_thread, st) == 0;
    if (*failed || (push && !st->pushing)) {
        *failed = 1;
        sim_terms_stop(st);
        return NULL;
    }
    return st;
}
