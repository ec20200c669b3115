/* Queueing the bureau's documents into the outbox (upstream.h): the summary
 * revisions and the urgent notices. The documents are built here; the rows are
 * written by the ledger (ledger_outbox.c), whose unique keys make it exactly once. */
#include "upstream.h"

#include <inttypes.h>
#include <stdlib.h>

#include "ledger_outbox.h"
#include "log.h"

#define DAY_MS (24 * 3600 * 1000LL)
/* Another writer stored a revision between our read and our write: build again
 * on top of it. Two writers at once is rare; more rounds than this is a bug. */
#define SUMMARY_ROUNDS 3

/* ---- summaries ------------------------------------------------------------------------ */

static int summary_key(const struct config *cfg, const char *day, int revision,
                       char key[OUTBOX_KEY_MAX])
{
    int n = snprintf(key, OUTBOX_KEY_MAX, "%s/%s/%d", cfg->school.code, day, revision);
    return n > 0 && n < OUTBOX_KEY_MAX ? 0 : -1;
}

/* One round: read the latest, build the next, compare, store. */
static int summary_round(struct ledger *l, const struct config *cfg, const char *day,
                         int64_t now_ms, int *revision, bool *queued, bool *raced)
{
    char *latest = NULL, *next = NULL, key[OUTBOX_KEY_MAX];
    bool same = false;
    *raced = false;
    int rc = ledger_latest_summary(l, day, revision, &latest);
    if (rc == 0)
        rc = summary_build(l, cfg, day, *revision + 1, now_ms, &next);
    if (rc == 0 && latest)
        rc = summary_same_facts(latest, next, &same);
    if (rc == 0 && !same)
        rc = summary_key(cfg, day, *revision + 1, key);
    if (rc == 0 && !same)
        rc = ledger_store_summary(l, key, day, *revision + 1, now_ms, next, raced);
    if (rc == 0 && !same && !*raced) {
        *revision += 1;
        *queued = true;
    }
    free(latest);
    free(next);
    return rc;
}

int outbox_queue_summary(struct ledger *l, const struct config *cfg, const char *day,
                         int64_t now_ms, int *revision, bool *queued)
{
    bool raced = true;
    *queued = false;
    *revision = 0;
    for (int round = 0; raced && round < SUMMARY_ROUNDS; round++)
        if (summary_round(l, cfg, day, now_ms, revision, queued, &raced) < 0)
            return -1;
    if (raced)
        log_err("summary %s: other writers kept storing revisions; not queued", day);
    return raced ? -1 : 0;
}

/* ---- notices -------------------------------------------------------------------------- */

struct missing {
    int n, cap;
    struct missing_notice {
        bool alert;
        int64_t id;
    } *v;
};

static int missing_add(bool alert, int64_t id, void *arg)
{
    struct missing *m = arg;
    if (m->n == m->cap) {
        int cap = m->cap ? m->cap * 2 : 16;
        void *v = realloc(m->v, (size_t)cap * sizeof *m->v);
        if (!v)
            return -1;
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = (struct missing_notice){alert, id};
    return 0;
}

/* Builds and queues one notice; *added when it is new (another process may have
 * queued it since the list was read). The key is built as notice_head builds the
 * notice_id. */
static int queue_notice(struct ledger *l, const struct config *cfg, const struct pseudonym *ps,
                        const struct missing_notice *n, int64_t now_ms, bool *added)
{
    char key[OUTBOX_KEY_MAX], *json = NULL;
    const char *what = n->alert ? "alert" : "referral";
    int len = snprintf(key, sizeof key, "%s/%s/%" PRId64, cfg->school.code, what, n->id);
    int rc = len > 0 && len < (int)sizeof key ? 0 : -1;
    if (rc == 0)
        rc = n->alert ? notice_build_alert(l, cfg, ps, n->id, now_ms, &json)
                      : notice_build_referral(l, cfg, ps, n->id, now_ms, &json);
    if (rc == 0)
        rc = outbox_enqueue(l, OUTBOX_NOTICE, key, json, now_ms, added);
    if (rc < 0)
        log_err("notice %s: not queued (see above); tried again on the next pass", key);
    free(json);
    return rc;
}

int outbox_queue_notices(struct ledger *l, const struct config *cfg, const struct pseudonym *ps,
                         int64_t now_ms, int *queued)
{
    struct missing m = {0};
    int failed = 0;
    int rc = ledger_missing_notices(l, cfg->school.code, now_ms - OUTBOX_NOTICE_DAYS * DAY_MS,
                                    missing_add, &m);
    *queued = 0;
    for (int i = 0; rc == 0 && i < m.n; i++) {
        bool added = false;
        /* One notice that cannot be built must not hold back the others. */
        failed += queue_notice(l, cfg, ps, &m.v[i], now_ms, &added) < 0;
        *queued += added;
    }
    free(m.v);
    return rc < 0 || failed ? -1 : 0;
}
