/* The helpers of web_private.h that the route handlers call: JSON answers and
 * errors, the body's object with its allowed keys, the query, the request's ledger
 * connection, an extra header, and whether a user may see a class. Split from
 * web_server.c, which serves (TLS, routing, the checks at the headers). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "textnum.h"
#include "web_private.h"

/* SQLite's busy timeout on a request's connection: how long a statement waits for
 * the writer lock (the gate's commits, the day's jobs). */
#define LEDGER_BUSY_MS 2000

static void set_body(struct web_response *rs, int status, char *body, size_t len)
{
    free(rs->body);
    rs->body = body;
    rs->len = len;
    rs->status = status;
    rs->content_type = NULL;
}

void web_json(struct web_response *rs, int status, json_t *j)
{
    if (status == 204) { /* No Content: no body at all */
        json_decref(j);
        set_body(rs, status, NULL, 0);
        return;
    }
    if (!j)
        j = json_object();
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text) {
        log_err("web: out of memory for a response");
        text = strdup("{\"error\":\"out of memory\"}");
        status = 500;
    }
    set_body(rs, status, text, text ? strlen(text) : 0);
}

void web_error(struct web_response *rs, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tn_utf8_scrub(msg, '?'); /* JSON strings must be valid UTF-8 */
    json_t *j = json_pack("{s:s}", "error", msg);
    if (!j)
        j = json_pack("{s:s}", "error", "error");
    web_json(rs, status, j);
}

static bool key_allowed(const char *key, const char *const *allowed)
{
    for (int i = 0; allowed && allowed[i]; i++)
        if (strcmp(allowed[i], key) == 0)
            return true;
    return false;
}

json_t *web_body_object(struct web_request *rq, struct web_response *rs,
                        const char *const *allowed)
{
    json_error_t err;
    if (rq->body_len == 0) {
        web_error(rs, 400, "the request needs a JSON object as its body");
        return NULL;
    }
    json_t *j = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        web_error(rs, 400, "bad JSON at line %d:%d: %s", err.line, err.column, err.text);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        web_error(rs, 400, "the body must be a JSON object");
        return NULL;
    }
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (!key_allowed(key, allowed)) {
            web_error(rs, 400, "unknown field \"%s\"", key);
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

const char *web_query(struct web_request *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

struct ledger *web_ledger(struct web_request *rq, struct web_response *rs)
{
    if (rq->ledger)
        return rq->ledger;
    /* The daemon migrated the ledger at start: a request never changes its schema. */
    struct ledger_opts o = {.no_migrate = true, .busy_timeout_ms = LEDGER_BUSY_MS};
    if (ledger_open(rq->cfg->ledger.database, &o, &rq->ledger) < 0) {
        rq->ledger = NULL;
        web_error(rs, 503, "the ledger cannot be opened now; try again");
        return NULL;
    }
    return rq->ledger;
}

void web_header(struct web_response *rs, const char *name, const char *value)
{
    if (rs->nheaders >= 2 || strlen(name) >= sizeof rs->header_name[0] ||
        strlen(value) >= sizeof rs->header_value[0]) {
        log_err("web: header %s dropped (at most 2 headers of bounded size)", name);
        return;
    }
    snprintf(rs->header_name[rs->nheaders], sizeof rs->header_name[0], "%s", name);
    snprintf(rs->header_value[rs->nheaders], sizeof rs->header_value[0], "%s", value);
    rs->nheaders++;
}

bool web_may_see_class(const struct web_user *u, const char *class_name)
{
    if (!u)
        return false;
    switch (u->role) {
    case ROLE_NURSE:
    case ROLE_ADMIN:
        return true;
    case ROLE_TEACHER:
        return class_name && u->class_name[0] && strcmp(u->class_name, class_name) == 0;
    default:
        return false;
    }
}
