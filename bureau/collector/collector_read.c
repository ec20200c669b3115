/* The read API's common part (collector_private.h): the pull tokens and the
 * deadlines, replaced whole on reload while request threads read them (one mutex,
 * held for a token check and a copy), and the gate each read route passes before it
 * touches the database: GET only, then a pull token (pull_auth.h). */
#include "collector_private.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

static void log_state(const char *when, const struct collector *c)
{
    const struct bcfg_deadlines *d = &c->deadlines;
    log_notice("collector: %s: deadlines morning %02d:%02d, day %02d:%02d (%s); %d pull "
               "token%s%s", when, d->morning / 60, d->morning % 60, d->day / 60, d->day % 60,
               d->timezone, pull_auth_count(c->pull), pull_auth_count(c->pull) == 1 ? "" : "s",
               pull_auth_count(c->pull) ? "" : " (the read API answers 403)");
}

int collector_read_start(struct collector *c, const struct bconfig *cfg, FILE *errs)
{
    if (!(c->pull = pull_auth_load(cfg->pull.token_file, errs)))
        return -1;
    pthread_mutex_init(&c->read_lock, NULL);
    c->deadlines = cfg->deadlines;
    log_state("read API", c);
    return 0;
}

void collector_read_reload(struct collector *c, const struct bconfig *cfg)
{
    struct log_sink sink;
    FILE *errs = log_sink_open(&sink);
    struct pull_auth *next = pull_auth_load(cfg->pull.token_file, errs ? errs : stderr);
    log_sink_close(&sink);
    pthread_mutex_lock(&c->read_lock);
    struct pull_auth *old = next ? c->pull : NULL;
    if (next)
        c->pull = next;
    c->deadlines = cfg->deadlines;
    pthread_mutex_unlock(&c->read_lock);
    pull_auth_free(old);
    if (!next)
        log_err("reload: the pull token file has errors; keeping the tokens in force");
    log_state("reload", c);
}

void collector_read_stop(struct collector *c)
{
    if (!c->pull)
        return; /* never started */
    pull_auth_free(c->pull);
    c->pull = NULL;
    pthread_mutex_destroy(&c->read_lock);
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static int refuse(struct canswer *a, int status, const char *why)
{
    struct intake_verdict v;
    intake_refuse(&v, status, "%s", why);
    a->status = status;
    a->json = intake_verdict_json(&v);
    a->challenge = status == 401;
    return -1;
}

int collector_read_gate(struct creq *r, struct MHD_Connection *conn, struct canswer *a,
                        char reader[PULL_READER_LEN], struct bcfg_deadlines *deadlines)
{
    char why[200];
    if (strcmp(r->method, "GET") != 0) {
        snprintf(why, sizeof why, "%s is not allowed here (GET only)", r->method);
        return refuse(a, 405, why);
    }
    pthread_mutex_lock(&r->c->read_lock);
    int status = pull_auth_check(r->c->pull, header(conn, "Authorization"), reader, why,
                                 sizeof why);
    *deadlines = r->c->deadlines;
    pthread_mutex_unlock(&r->c->read_lock);
    if (status != 0) {
        log_notice("collector: %s %s %s -> %d %s", r->peer_addr, r->method, r->path, status,
                   why);
        return refuse(a, status, why);
    }
    return 0;
}
