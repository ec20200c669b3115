/* The outbox on a real SQLite ledger: summary revisions only for new facts, the
 * order (notices first, each kind in its own, retries blocking their kind, parked
 * rows skipped but holding back their day's later revisions), the lease (one
 * sender per row, expiry, release), the mark_* transitions,
 * --retry-parked, the notices' reconciliation (exactly once, a week back), the
 * upstream file checks, and the uploader's retry path and prompt stop against
 * local sockets that refuse or never answer. The HTTPS deliveries themselves are
 * tested against a real HTTPS receiver by the integration tests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "civil.h"
#include "config_load.h"
#include "ledger.h"
#include "ledger_outbox.h"
#include "log.h"
#include "uploader.h"
#include "upstream.h"

#include "clock.h"
#include "ledger_fixture.h"
#include "zone.h"

#define D0 "2024-03-04"
#define DAY_MS (24 * 3600 * 1000LL)
#define TEST_KEY "gatescreen test key 0123456789abcdef\n"
/* A self-signed CA certificate (its key thrown away): curl loads it, and no server
 * in these tests could ever present a certificate it signed. */
#define TEST_CA \
    "-----BEGIN CERTIFICATE-----\n" \
    "MIIBmzCCAUGgAwIBAgIUZLvuuH9rf3Y08cx1BHx9zBaGG9YwCgYIKoZIzj0EAwIw\n" \
    "IjEgMB4GA1UEAwwXZ2F0ZXNjcmVlbiB1bml0IHRlc3QgQ0EwIBcNMjYxMTI5MDYy\n" \
    "NzQwWhgPMjEyNjExMDUwNjI3NDBaMCIxIDAeBgNVBAMMF2dhdGVzY3JlZW4gdW5p\n" \
    "dCB0ZXN0IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJZEgbAUlG6lZIPh1\n" \
    "42lZCnqVlG3BwfHAgs/XDDkiJ68Ir9NIH9TYEFRC3SVYGW9OxKdll75nlQ3/49o1\n" \
    "3fmuRKNTMFEwHQYDVR0OBBYEFDrXhl2CN33RaaFMU9XY2uHnInhgMB8GA1UdIwQY\n" \
    "MBaAFDrXhl2CN33RaaFMU9XY2uHnInhgMA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZI\n" \
    "zj0EAwIDSAAwRQIgJsTT0xPHRor0kPLBvAzHE/dg0zLDvyUsBFA7IfHjOdcCIQDV\n" \
    "b1UxAsEdZ/E51WzK0IG2ySTH82/CpuMBVuYTt24I4g==\n" \
    "-----END CERTIFICATE-----\n"

/* ---- fixture ------------------------------------------------------------------------ */

static void in_dir(struct fx *f, const char *name, char *out, size_t n)
{
    snprintf(out, n, "%s/%s", f->dir, name);
}

/* The configuration with this url ([upstream] files in the fixture's folder). */
static struct config *config_with(struct fx *f, const char *url)
{
    char text[1024];
    int n = snprintf(text, sizeof text,
        "[school]\ncode = T001\nname = 测试学校\n"
        "[ledger]\ndatabase = ledger.db\n"
        "[windows]\nmorning = 07:00-08:30\nnoon = 11:30-13:00\n"
        "[upstream]\nurl = %s\nca_file = ca.pem\nsecret_file = pseudonym.key\n"
        "token_file = token\nconnect_timeout = 5s\ntimeout = 30s\nretry_min = 5s\n"
        "retry_max = 10min\n"
        "[bus gw]\ntcp = 127.0.0.1:1502\n[lane east-1]\ngate = 东门\n"
        "[device ir-1]\nbus = gw\nlane = east-1\n", url);
    return config_parse("test.conf", text, (size_t)n, f->dir, f->e);
}

static int setup(void **state)
{
    struct fx *f = fx_new("outbox");
    char p[128];
    if (!f)
        return -1;
    in_dir(f, "pseudonym.key", p, sizeof p);
    write_file(p, TEST_KEY, strlen(TEST_KEY), 0600);
    f->ps = pseudonym_open(p, f->e);
    in_dir(f, "token", p, sizeof p);
    write_file(p, "s3cret-token\n", 13, 0600);
    in_dir(f, "ca.pem", p, sizeof p);
    write_file(p, TEST_CA, strlen(TEST_CA), 0644);
    /* Port 1 on loopback: nothing listens, the connection is refused at once. */
    f->cfg = config_with(f, "https://127.0.0.1:1/gatescreen/v1");
    *state = f;
    return f->cfg && f->ps && zone_set(f->cfg->school.timezone) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
    return fx_free(*state);
}

/* A confirmed fever and its referral, opened at opened_ms; returns the referral id. */
static long long referral(struct fx *f, const char *who, long long opened_ms)
{
    sql(f, "INSERT INTO flags (person_id, opened_ms, day, screen_centi, threshold_centi, state, "
           "recheck_centi, recheck_instrument, recheck_by, recheck_ms) VALUES ((SELECT id FROM "
           "people WHERE external_id = '%s'), %lld, '" D0 "', 3790, 3730, 'confirmed', 3800, "
           "'ear', 'nurse', %lld)", who, opened_ms, opened_ms);
    sql(f, "INSERT INTO referrals (flag_id, person_id, opened_ms, day) VALUES (%lld, "
           "(SELECT id FROM people WHERE external_id = '%s'), %lld, '" D0 "')",
        (long long)sqlite3_last_insert_rowid(f->db), who, opened_ms);
    return (long long)sqlite3_last_insert_rowid(f->db);
}

static long long alert(struct fx *f, const char *cls, long long opened_ms)
{
    sql(f, "INSERT INTO alerts (class, rule, day, opened_ms, cases) VALUES ('%s', 'day', '" D0
           "', %lld, 3)", cls, opened_ms);
    long long id = (long long)sqlite3_last_insert_rowid(f->db);
    sql(f, "INSERT INTO alert_cases (alert_id, person_id, case_kind, day) SELECT %lld, id, "
           "'illness_absence', '" D0 "' FROM people WHERE class = '%s'", id, cls);
    return id;
}

static void enqueue(struct fx *f, const char *key, int64_t at)
{
    bool added = false;
    assert_int_equal(outbox_enqueue(f->l, OUTBOX_NOTICE, key, "{}", at, &added), 0);
    assert_true(added);
}

#define HOLDER "test[1]/0"

/* outbox_next_due for HOLDER with a minute's lease; *wait = the wait it gives. */
static int next_due(struct fx *f, int64_t now, struct outbox_item *it, int64_t *wait)
{
    struct outbox_lease lease = {HOLDER, 60000};
    struct outbox_wait w;
    int rc = outbox_next_due(f->l, now, &lease, it, &w);
    *wait = w.wait_ms;
    return rc;
}

/* ---- summaries ------------------------------------------------------------------------ */

static void test_summary_revisions(void **state)
{
    struct fx *f = *state;
    int64_t now = clock_wall_ms();
    int rev = -1;
    bool queued = false;
    student(f, "S1", "1班");
    assert_int_equal(outbox_queue_summary(f->l, f->cfg, D0, now, &rev, &queued), 0);
    assert_true(queued);
    assert_int_equal(rev, 1);
    /* The same facts again (a restart, a second window close): no new revision. */
    assert_int_equal(outbox_queue_summary(f->l, f->cfg, D0, now + 60000, &rev, &queued), 0);
    assert_false(queued);
    assert_int_equal(rev, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM summaries"), 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM outbox"), 1);
    assert_string_equal(qtext(f, "SELECT idempotency_key FROM outbox"), "T001/" D0 "/1");
    assert_string_equal(qtext(f, "SELECT kind FROM outbox"), "summary");
    /* The outbox holds exactly the stored revision. */
    assert_int_equal(qint(f, "SELECT count(*) FROM outbox o JOIN summaries s ON s.body = o.body "
                             "AND s.revision = 1"), 1);

    student(f, "S2", "1班"); /* a new fact */
    assert_int_equal(outbox_queue_summary(f->l, f->cfg, D0, now + 120000, &rev, &queued), 0);
    assert_true(queued);
    assert_int_equal(rev, 2);
    assert_string_equal(qtext(f, "SELECT idempotency_key FROM outbox ORDER BY id DESC"),
                        "T001/" D0 "/2");
    assert_non_null(strstr(qtext(f, "SELECT body FROM summaries WHERE revision = 2"),
                           "\"revision\":2"));
    /* Another day has its own revisions. */
    assert_int_equal(outbox_queue_summary(f->l, f->cfg, "2024-03-05", now, &rev, &queued), 0);
    assert_true(queued);
    assert_int_equal(rev, 1);
    assert_int_equal(qint(f, "SELECT count(*) FROM outbox"), 3);
}

/* A revision stored by another writer (the CLI while the daemon builds) is built
 * upon, never overwritten or duplicated. */
static void test_summary_other_writer(void **state)
{
    struct fx *f = *state;
    int64_t now = clock_wall_ms();
    int rev = 0;
    bool queued = false;
    student(f, "S1", "1班");
    sql(f, "INSERT INTO summaries (day, revision, generated_ms, body) VALUES ('" D0 "', 1, 0, "
           "'{\"revision\":1,\"generated_at\":\"x\",\"old\":true}')");
    assert_int_equal(outbox_queue_summary(f->l, f->cfg, D0, now, &rev, &queued), 0);
    assert_true(queued);
    assert_int_equal(rev, 2);
    assert_string_equal(qtext(f, "SELECT idempotency_key FROM outbox"), "T001/" D0 "/2");
}

/* ---- order and transitions ------------------------------------------------------------ */

static void test_due_in_order(void **state)
{
    struct fx *f = *state;
    struct outbox_item it;
    int64_t wait = 0, t = 1000000;
    assert_int_equal(next_due(f, t, &it, &wait), 0);
    assert_int_equal(wait, -1);
    enqueue(f, "T001/a", t);
    enqueue(f, "T001/b", t);
    enqueue(f, "T001/c", t);
    assert_int_equal(next_due(f, t, &it, &wait), 1);
    assert_string_equal(it.key, "T001/a");
    assert_string_equal(it.body, "{}");
    assert_int_equal(it.kind, OUTBOX_NOTICE);
    assert_int_equal(it.attempts, 0);
    int64_t a = it.id;
    outbox_item_clear(&it);

    /* a waits for its retry: b and c wait behind it. */
    assert_int_equal(outbox_mark_retry(f->l, a, HOLDER, 1, t + 5000, "HTTP 503 from x: busy"), 0);
    assert_int_equal(next_due(f, t + 4999, &it, &wait), 0);
    assert_int_equal(wait, 1);
    assert_null(it.body);
    assert_int_equal(next_due(f, t + 5000, &it, &wait), 1);
    assert_int_equal(it.id, a);
    assert_int_equal(it.attempts, 1);
    outbox_item_clear(&it);

    /* Parked: skipped, b is next. */
    assert_int_equal(outbox_mark_parked(f->l, a, HOLDER, "HTTP 400 from x: bad schema"), 0);
    assert_int_equal(next_due(f, t + 5000, &it, &wait), 1);
    assert_string_equal(it.key, "T001/b");
    assert_int_equal(outbox_mark_sent(f->l, it.id, t + 6000), 0);
    outbox_item_clear(&it);
    assert_int_equal(next_due(f, t + 6000, &it, &wait), 1);
    assert_string_equal(it.key, "T001/c");
    assert_int_equal(outbox_mark_sent(f->l, it.id, t + 7000), 0);
    outbox_item_clear(&it);
    assert_int_equal(next_due(f, t + 7000, &it, &wait), 0);
    assert_int_equal(wait, -1); /* the parked row waits for nobody */

    assert_string_equal(qtext(f, "SELECT state || ' ' || attempts || ' ' || last_error FROM "
                                 "outbox WHERE idempotency_key = 'T001/a'"),
                        "parked 2 HTTP 400 from x: bad schema");
    assert_string_equal(qtext(f, "SELECT state || ' ' || attempts || ' ' || sent_ms || ' [' || "
                                 "last_error || ']' FROM outbox WHERE idempotency_key = "
                                 "'T001/b'"), "sent 1 1006000 []");
}

/* `upload --now`: rows waiting for their retry become due; sent and parked stay. */
static void test_make_due(void **state)
{
    struct fx *f = *state;
    int n = -1;
    enqueue(f, "T001/a", 10);
    enqueue(f, "T001/b", 10);
    enqueue(f, "T001/c", 10);
    assert_int_equal(outbox_mark_retry(f->l, 1, "", 3, 90000, "down"), 0);
    assert_int_equal(outbox_mark_parked(f->l, 2, "", "HTTP 400 from x: no"), 0);
    assert_int_equal(outbox_make_due(f->l, 500, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(qtext(f, "SELECT group_concat(state || ' ' || attempts || ' ' || "
                                 "next_attempt_ms, '|') FROM outbox"),
                        "pending 3 500|parked 1 10|pending 0 10");
}

static void test_enqueue_idempotent(void **state)
{
    struct fx *f = *state;
    bool added = true;
    enqueue(f, "T001/x", 1);
    assert_int_equal(outbox_enqueue(f->l, OUTBOX_SUMMARY, "T001/x", "{\"other\":1}", 2, &added), 0);
    assert_false(added);
    assert_int_equal(qint(f, "SELECT count(*) FROM outbox"), 1);
    assert_string_equal(qtext(f, "SELECT kind || body || created_ms FROM outbox"), "notice{}1");
}

static void test_mark_transitions(void **state)
{
    struct fx *f = *state;
    struct outbox_item it;
    int64_t wait;
    enqueue(f, "T001/a", 10);
    assert_int_equal(next_due(f, 10, &it, &wait), 1);
    int64_t id = it.id;
    outbox_item_clear(&it);
    /* Sent by another process meanwhile: a late failure does not undo it. */
    assert_int_equal(outbox_mark_sent(f->l, id, 20), 0);
    assert_int_equal(outbox_mark_retry(f->l, id, HOLDER, 7, 99, "late"), 0);
    assert_int_equal(outbox_mark_parked(f->l, id, HOLDER, "late"), 0);
    assert_string_equal(qtext(f, "SELECT state || attempts || last_error FROM outbox"), "sent1");
    /* Parked, then acknowledged (a send from the CLI that raced): sent wins. */
    enqueue(f, "T001/b", 10);
    sql(f, "UPDATE outbox SET state = 'parked' WHERE idempotency_key = 'T001/b'");
    assert_int_equal(outbox_mark_sent(f->l, id + 1, 30), 0);
    assert_string_equal(qtext(f, "SELECT state FROM outbox WHERE id = %lld", (long long)id + 1),
                        "sent");
    /* last_error is bounded, and cut on a character boundary. */
    char big[1200] = "";
    for (int i = 0; i < 300; i++)
        strcat(big, "中");
    enqueue(f, "T001/c", 10);
    assert_int_equal(outbox_mark_retry(f->l, id + 2, "", 1, 50, big), 0);
    const char *e = qtext(f, "SELECT last_error FROM outbox WHERE id = %lld", (long long)id + 2);
    assert_true(strlen(e) < OUTBOX_ERROR_MAX);
    assert_int_equal(strlen(e) % 3, 0);
    assert_int_equal(strncmp(e, big, strlen(e)), 0);
}

static void test_retry_parked(void **state)
{
    struct fx *f = *state;
    int n = -1;
    enqueue(f, "T001/a", 10);
    enqueue(f, "T001/b", 10);
    enqueue(f, "T001/c", 10);
    assert_int_equal(outbox_mark_parked(f->l, 1, "", "HTTP 400 from x: one"), 0);
    assert_int_equal(outbox_mark_parked(f->l, 2, "", "HTTP 422 from x: two"), 0);
    assert_int_equal(outbox_mark_sent(f->l, 3, 40), 0);
    assert_int_equal(outbox_retry_parked(f->l, 5000, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(qtext(f, "SELECT group_concat(state || ' ' || attempts || ' ' || "
                                 "next_attempt_ms || ' ' || last_error, '|') FROM outbox"),
                        "pending 1 5000 HTTP 400 from x: one|pending 1 5000 HTTP 422 from x: "
                        "two|sent 1 10 ");
    assert_int_equal(outbox_retry_parked(f->l, 6000, &n), 0);
    assert_int_equal(n, 0);
}

/* ---- one sender per row, and the order of each kind (issue 16) ----------------------- */

static int64_t take(struct fx *f, const char *holder, int64_t now, struct outbox_wait *w)
{
    struct outbox_lease lease = {holder, 10000};
    struct outbox_item it;
    int rc = outbox_next_due(f->l, now, &lease, &it, w);
    int64_t id = rc == 1 ? it.id : rc; /* the row taken; 0 none, -1 an error */
    outbox_item_clear(&it);
    return id;
}

static void test_lease(void **state)
{
    struct fx *f = *state;
    struct outbox_wait w;
    enqueue(f, "T001/referral/1", 10);
    enqueue(f, "T001/referral/2", 10);
    assert_int_equal(take(f, "daemon", 100, &w), 1);
    /* The CLI meanwhile: the head is the daemon's, and the notice after it waits. */
    assert_int_equal(take(f, "cli", 200, &w), 0);
    assert_string_equal(w.busy_key, "T001/referral/1");
    assert_string_equal(w.busy_holder, "daemon");
    assert_int_equal(w.busy_until_ms, 10100);
    assert_int_equal(w.wait_ms, 9900);
    /* Only the holder's verdict counts; the lease ends with it. */
    assert_int_equal(outbox_mark_retry(f->l, 1, "cli", 1, 300, "not mine"), 0);
    assert_string_equal(qtext(f, "SELECT attempts || lease_holder FROM outbox WHERE id = 1"),
                        "0daemon");
    assert_int_equal(outbox_mark_retry(f->l, 1, "daemon", 1, 300, "HTTP 500"), 0);
    assert_int_equal(take(f, "cli", 300, &w), 1);
    /* A holder that died: its lease ends when it expires. */
    assert_int_equal(take(f, "daemon", 400, &w), 0);
    assert_int_equal(take(f, "daemon", 10300, &w), 1);
    /* Given back untouched (a stop): free at once, attempts unchanged. */
    assert_int_equal(outbox_release(f->l, 1, "daemon"), 0);
    assert_int_equal(take(f, "cli", 10400, &w), 1);
    assert_int_equal(outbox_mark_sent(f->l, 1, 10500), 0);
    assert_string_equal(qtext(f, "SELECT state || attempts || lease_until_ms || lease_holder "
                                 "FROM outbox WHERE id = 1"), "sent20");
    assert_int_equal(take(f, "cli", 10600, &w), 2);
}

static void store(struct fx *f, const char *day, int rev)
{
    char key[64];
    bool raced = true;
    snprintf(key, sizeof key, "T001/%s/%d", day, rev);
    assert_int_equal(ledger_store_summary(f->l, key, day, rev, 10, "{}", &raced), 0);
    assert_false(raced);
}

static void test_kinds_and_days(void **state)
{
    struct fx *f = *state;
    struct outbox_wait w;
    store(f, D0, 1);                   /* id 1 */
    enqueue(f, "T001/referral/1", 10); /* id 2 */
    store(f, D0, 2);                   /* id 3 */
    store(f, "2024-03-05", 1);         /* id 4 */
    assert_string_equal(qtext(f, "SELECT group_concat(coalesce(day, '-'), ' ') FROM outbox"),
                        D0 " - " D0 " 2024-03-05");
    /* The notice first, though queued after the summary. */
    assert_int_equal(take(f, "a", 100, &w), 2);
    assert_int_equal(outbox_mark_sent(f->l, 2, 100), 0);
    /* A failing summary holds back its kind only; a notice queued later goes. */
    assert_int_equal(take(f, "a", 100, &w), 1);
    assert_int_equal(outbox_mark_retry(f->l, 1, "a", 1, 5000, "HTTP 500"), 0);
    enqueue(f, "T001/referral/2", 200); /* id 5 */
    assert_int_equal(take(f, "a", 200, &w), 5);
    assert_int_equal(outbox_mark_sent(f->l, 5, 200), 0);
    assert_int_equal(take(f, "a", 200, &w), 0);
    assert_int_equal(w.wait_ms, 4800);
    /* Parked: its day's later revision waits; another day's goes. */
    assert_int_equal(take(f, "a", 5000, &w), 1);
    assert_int_equal(outbox_mark_parked(f->l, 1, "a", "HTTP 400"), 0);
    assert_int_equal(take(f, "a", 5000, &w), 4);
    assert_int_equal(outbox_mark_sent(f->l, 4, 5000), 0);
    assert_int_equal(take(f, "a", 5000, &w), 0);
    assert_int_equal(w.held, 1);
    assert_int_equal(w.wait_ms, -1);
    /* Retried: revision 1, then 2. */
    int n = 0;
    assert_int_equal(outbox_retry_parked(f->l, 6000, &n), 0);
    assert_int_equal(take(f, "a", 6000, &w), 1);
    assert_int_equal(outbox_mark_sent(f->l, 1, 6000), 0);
    assert_int_equal(take(f, "a", 6000, &w), 3);
}

static void test_notice_waiting(void **state)
{
    struct fx *f = *state;
    bool waiting = true;
    assert_int_equal(outbox_notice_waiting(f->l, "T001", 0, 1000, &waiting), 0);
    assert_false(waiting);
    student(f, "S1", "1班");
    referral(f, "S1", 500);
    assert_int_equal(outbox_notice_waiting(f->l, "T001", 0, 1000, &waiting), 0);
    assert_true(waiting); /* opened, no notice yet */
    assert_int_equal(outbox_notice_waiting(f->l, "T001", 600, 1000, &waiting), 0);
    assert_false(waiting); /* older than since */
    enqueue(f, "T001/referral/1", 700);
    assert_int_equal(outbox_mark_retry(f->l, 1, "", 1, 2000, "HTTP 500"), 0);
    assert_int_equal(outbox_notice_waiting(f->l, "T001", 0, 1000, &waiting), 0);
    assert_false(waiting); /* queued, waiting for its retry */
    enqueue(f, "T001/referral/9", 800); /* due, but behind the head that waits */
    assert_int_equal(outbox_notice_waiting(f->l, "T001", 600, 1000, &waiting), 0);
    assert_false(waiting);
    assert_int_equal(outbox_notice_waiting(f->l, "T001", 0, 2000, &waiting), 0);
    assert_true(waiting); /* due */
}

/* ---- notices ------------------------------------------------------------------------- */

static void test_notices_exactly_once(void **state)
{
    struct fx *f = *state;
    int64_t now = clock_wall_ms();
    int n = -1;
    for (const char *const *who = (const char *const[]){"S1", "S2", "S3", NULL}; *who; who++)
        student(f, *who, "3班");
    student(f, "S9", "1班");
    long long old = referral(f, "S9", now - 8 * DAY_MS); /* a week and more: not urgent now */
    long long r = referral(f, "S1", now - 2 * DAY_MS);
    long long a = alert(f, "3班", now - 60000);
    assert_int_equal(outbox_queue_notices(f->l, f->cfg, f->ps, now, &n), 0);
    assert_int_equal(n, 2);
    /* Again, and from a second connection (the CLI while the daemon runs): nothing. */
    struct ledger *l2 = NULL;
    assert_int_equal(ledger_open(f->path, NULL, &l2), 0);
    assert_int_equal(outbox_queue_notices(l2, f->cfg, f->ps, now + 1000, &n), 0);
    assert_int_equal(n, 0);
    ledger_close(l2);
    assert_int_equal(outbox_queue_notices(f->l, f->cfg, f->ps, now + 1000, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM outbox"), 2);
    /* Oldest first; the key is the document's notice_id. */
    assert_string_equal(qtext(f, "SELECT group_concat(idempotency_key, ' ') FROM outbox "
                                 "ORDER BY id"),
                        qtext(f, "SELECT 'T001/referral/%lld T001/alert/%lld'", r, a));
    assert_non_null(strstr(qtext(f, "SELECT body FROM outbox WHERE id = 1"),
                           qtext(f, "SELECT '\"notice_id\":\"T001/referral/%lld\"'", r)));
    assert_int_equal(qint(f, "SELECT count(*) FROM outbox WHERE kind = 'notice' AND "
                             "idempotency_key = 'T001/referral/%lld'", old), 0);
    assert_null(strstr(qtext(f, "SELECT group_concat(body) FROM outbox"), "学生"));
    /* Sent or parked, a notice is never queued again. */
    sql(f, "UPDATE outbox SET state = 'sent'");
    long long r2 = referral(f, "S2", now);
    assert_int_equal(outbox_queue_notices(f->l, f->cfg, f->ps, now + 2000, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(qtext(f, "SELECT idempotency_key FROM outbox WHERE state = 'pending'"),
                        qtext(f, "SELECT 'T001/referral/%lld'", r2));
    assert_string_equal(errs(f), "");
}

/* Without the pseudonym key no notice can be built: nothing is queued, and it is
 * not forgotten either. */
static void test_notices_without_key(void **state)
{
    struct fx *f = *state;
    int64_t now = clock_wall_ms();
    int n = -1;
    student(f, "S1", "1班");
    referral(f, "S1", now);
    log_set_level(LOG_LVL_ERR - 1); /* the expected error, not on the test's output */
    assert_int_equal(outbox_queue_notices(f->l, f->cfg, NULL, now, &n), -1);
    log_set_level(LOG_LVL_WARN);
    assert_int_equal(n, 0);
    assert_int_equal(qint(f, "SELECT count(*) FROM outbox"), 0);
    assert_int_equal(outbox_queue_notices(f->l, f->cfg, f->ps, now, &n), 0);
    assert_int_equal(n, 1);
}

/* ---- files --------------------------------------------------------------------------- */

static void test_check_files(void **state)
{
    struct fx *f = *state;
    char token[128], want[256];
    in_dir(f, "token", token, sizeof token);
    assert_int_equal(uploader_check_files(f->cfg, f->e), 0);
    assert_string_equal(errs(f), "");

    assert_int_equal(chmod(token, 0644), 0);
    assert_int_equal(uploader_check_files(f->cfg, f->e), -1);
    snprintf(want, sizeof want, "%s: mode 0644 lets group or others read it; chmod 600 it\n",
             token);
    assert_string_equal(errs(f), want);
    assert_int_equal(chmod(token, 0640), 0);
    assert_int_equal(uploader_check_files(f->cfg, f->e), -1);
    assert_non_null(strstr(errs(f), "mode 0640 lets group or others read it"));

    write_file(token, "", 0, 0600);
    assert_int_equal(uploader_check_files(f->cfg, f->e), -1);
    snprintf(want, sizeof want, "%s: the token file is empty\n", token);
    assert_string_equal(errs(f), want);
    write_file(token, "\n", 1, 0600);
    assert_int_equal(uploader_check_files(f->cfg, f->e), -1);
    assert_string_equal(errs(f), want);
    write_file(token, "two\nlines\n", 10, 0600);
    assert_int_equal(uploader_check_files(f->cfg, f->e), -1);
    assert_non_null(strstr(errs(f), "the token must be one line"));

    unlink(token);
    assert_int_equal(uploader_check_files(f->cfg, f->e), -1);
    snprintf(want, sizeof want, "%s: cannot open the token file: No such file or directory\n",
             token);
    assert_string_equal(errs(f), want);

    /* Every problem is reported, not just the first. */
    char ca[128];
    in_dir(f, "ca.pem", ca, sizeof ca);
    unlink(ca);
    assert_int_equal(uploader_check_files(f->cfg, f->e), -1);
    const char *e = errs(f);
    assert_non_null(strstr(e, "token: cannot open the token file"));
    assert_non_null(strstr(e, "ca.pem: cannot read the CA file: No such file"));
    /* A start with such files is refused. */
    assert_null(uploader_start(f->cfg, f->e));
    assert_non_null(strstr(errs(f), "ca.pem: cannot read the CA file"));
}

/* ---- the uploader against sockets ---------------------------------------------------- */

static void test_run_once_refused(void **state)
{
    struct fx *f = *state;
    int sent = -1, failed = -1;
    char *text = NULL;
    size_t len = 0;
    enqueue(f, "T001/a", 1);
    enqueue(f, "T001/b", 1);
    FILE *out = open_memstream(&text, &len);
    int64_t before = clock_wall_ms();
    assert_int_equal(uploader_run_once(f->cfg, f->l, &sent, &failed, out), 0);
    fclose(out);
    assert_int_equal(sent, 0);
    assert_int_equal(failed, 1); /* a waits for its retry, b waits behind it */
    assert_non_null(strstr(text, "retry T001/a: https://127.0.0.1:1/gatescreen/v1: "));
    free(text);
    const char *e = qtext(f, "SELECT last_error FROM outbox WHERE id = 1");
    if (!strstr(e, "https://127.0.0.1:1/gatescreen/v1: ") || !strstr(e, "onnect"))
        fail_msg("last_error: %s", e);
    assert_int_equal(qint(f, "SELECT attempts FROM outbox WHERE id = 1"), 1);
    assert_int_equal(qint(f, "SELECT attempts FROM outbox WHERE id = 2"), 0);
    /* retry_min 5s with jitter 0.8..1.2. */
    long long next = qint(f, "SELECT next_attempt_ms FROM outbox WHERE id = 1");
    assert_true(next >= before + 4000 && next <= clock_wall_ms() + 6000);
    log_set_level(LOG_LVL_ERR); /* the expected retries are logged as warnings */
    /* Nothing is due now. */
    assert_int_equal(uploader_run_once(f->cfg, f->l, &sent, &failed, NULL), 0);
    assert_int_equal(sent + failed, 0);

    /* The backoff follows the row's attempts: the 5th failure waits 5s * 2^4. */
    sql(f, "UPDATE outbox SET attempts = 4, next_attempt_ms = 0 WHERE id = 1");
    before = clock_wall_ms();
    assert_int_equal(uploader_run_once(f->cfg, f->l, &sent, &failed, NULL), 0);
    next = qint(f, "SELECT next_attempt_ms FROM outbox WHERE id = 1") - before;
    assert_int_equal(qint(f, "SELECT attempts FROM outbox WHERE id = 1"), 5);
    assert_true(next >= 64000 && next <= 97000);
    /* ... capped at retry_max. */
    sql(f, "UPDATE outbox SET attempts = 40, next_attempt_ms = 0 WHERE id = 1");
    before = clock_wall_ms();
    assert_int_equal(uploader_run_once(f->cfg, f->l, &sent, &failed, NULL), 0);
    next = qint(f, "SELECT next_attempt_ms FROM outbox WHERE id = 1") - before;
    assert_true(next >= 480000 && next <= 721000);
    log_set_level(LOG_LVL_WARN);
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A loopback port that takes connections (the kernel completes the handshake)
 * and never answers: a TLS handshake to it hangs until curl's timeout. */
static int silent_server(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fd, 8), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static long long wait_for(struct fx *f, const char *query, long long want, int ms)
{
    long long v = -1;
    for (int64_t end = mono_ms() + ms; mono_ms() < end; usleep(20000))
        if ((v = qint(f, "%s", query)) == want)
            break;
    return v;
}

/* The thread queues what it is asked to, and stops at once, also in the middle of
 * a transfer; the row it was sending stays pending, attempts untouched. */
static void test_thread_stop_mid_transfer(void **state)
{
    struct fx *f = *state;
    char url[64];
    int port;
    int fd = silent_server(&port);
    snprintf(url, sizeof url, "https://127.0.0.1:%d/v1", port);
    struct config *cfg = config_with(f, url);
    assert_non_null(cfg);
    student(f, "S1", "1班");
    struct uploader *u = uploader_start(cfg, f->e);
    assert_non_null(u);
    config_free(cfg); /* the uploader has its own copy */
    log_set_level(LOG_LVL_ERR - 1);
    assert_int_equal(uploader_queue_summary(u, D0), 0);
    assert_int_equal(uploader_queue_summary(u, "not-a-day"), -1);
    log_set_level(LOG_LVL_WARN);
    assert_int_equal(wait_for(f, "SELECT count(*) FROM outbox", 1, 3000), 1);
    usleep(300000); /* the POST is now stuck in the handshake */
    int64_t t0 = mono_ms();
    uploader_stop(u);
    int64_t took = mono_ms() - t0;
    if (took > 1000)
        fail_msg("uploader_stop took %lld ms", (long long)took);
    assert_string_equal(qtext(f, "SELECT state || ' ' || attempts FROM outbox"), "pending 0");
    assert_string_equal(qtext(f, "SELECT idempotency_key FROM outbox"), "T001/" D0 "/1");
    close(fd);
    uploader_stop(NULL);
}

/* Woken, a started uploader sends at once (here: refused, so a retry is noted). */
static void test_thread_wake_and_reconfigure(void **state)
{
    struct fx *f = *state;
    struct uploader *u = uploader_start(f->cfg, f->e);
    assert_non_null(u);
    log_set_level(LOG_LVL_ERR);
    usleep(100000);
    enqueue(f, "T001/a", clock_wall_ms());
    uploader_wake(u);
    assert_int_equal(wait_for(f, "SELECT attempts FROM outbox", 1, 1500), 1);
    /* A reload whose token is refused keeps the running settings (and logs why). */
    char token[128];
    in_dir(f, "token", token, sizeof token);
    assert_int_equal(chmod(token, 0644), 0);
    log_set_level(LOG_LVL_ERR - 1);
    uploader_reconfigure(u, f->cfg);
    usleep(200000);
    log_set_level(LOG_LVL_WARN);
    uploader_stop(u);
    assert_string_equal(errs(f), "");
}

int main(void)
{
    log_init("test_outbox", LOG_LVL_WARN, LOG_OUT_PLAIN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_summary_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_summary_other_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_due_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_make_due, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enqueue_idempotent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_transitions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retry_parked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lease, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kinds_and_days, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notice_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notices_exactly_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notices_without_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_check_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_run_once_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_stop_mid_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thread_wake_and_reconfigure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
