"""Several collectors on one database (issue 15: a province scales out behind any HTTP
load balancer): two gatescreen-bureaud instances started at the same moment on an
empty database apply the migrations once between them (the advisory lock); then the
same upload sent to both at the same moment, for hundreds of documents of two schools,
is stored once (one 201 and one 200 per pair); the same key with two different bodies
at the same moment is stored once and the other kept in the quarantine (201 + 409);
two revisions of a day racing each other leave the higher one as the day's latest;
and the same retried upload spread over both instances by a balancer is one row."""
import os
import threading

import bureaulib as bl
import gslib
from gslib import check

PAIRS = 150


def at_once(jobs):
    """Runs the callables together (a barrier releases them at the same moment);
    their results in order."""
    barrier = threading.Barrier(len(jobs))
    out = [None] * len(jobs)

    def run(i, fn):
        barrier.wait()
        try:
            out[i] = fn()
        except Exception as e:  # noqa: BLE001 -- reported as the result
            out[i] = (0, {"error": repr(e)}, b"")
    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return out


def start_together(b):
    a, c = b.collector("bureau-a", start=False), b.collector("bureau-b", start=False)
    at_once([lambda: a.start(wait=False), lambda: c.start(wait=False)])
    ok = a.wait_ready() and c.wait_ready()
    check(ok, "two collectors started at the same moment on an empty database are ready")
    applied = a.text().count("applied migration") + c.text().count("applied migration")
    rows = b.sql("SELECT version FROM schema_migrations ORDER BY version")
    files = sorted(f for f in os.listdir(os.path.join(gslib.SOURCE, "sql", "bureau"))
                   if f.endswith(".sql"))
    want = [[str(int(f[:3]))] for f in files]
    check(applied == len(files) and rows == want,
          "each of the %d migrations was applied once between them (%d applied; "
          "schema_migrations %s)" % (len(files), applied, rows))
    return a, c


def day(n):
    return "2026-%02d-%02d" % (1 + n // 28, 1 + n % 28)


def same_upload(b, a, c, schools):
    statuses = []
    for n in range(PAIRS):
        s = schools[n % 2]
        doc = bl.summary_doc(s.code, day(n), 1, figure=n) if n % 3 else bl.notice_doc(s.code,
                                                                                       n + 1)
        r = at_once([lambda: bl.send(a, b, s, doc), lambda: bl.send(c, b, s, doc)])
        statuses.append(tuple(sorted(x[0] for x in r)))
    bad = [(i, st) for i, st in enumerate(statuses) if st != (200, 201)]
    check(not bad, "the same upload to both instances at the same moment, %d times: one 201 "
          "and one 200 each%s" % (PAIRS, "" if not bad else " (not: %s)" % bad[:5]))
    docs = b.sql("SELECT count(*), count(DISTINCT (school_code, idem_key)) FROM documents")
    check(docs == [[str(PAIRS), str(PAIRS)]], "%d documents stored, each once: %s"
          % (PAIRS, docs))
    sums = b.sql("SELECT count(*) FROM summaries")[0][0]
    notices = b.sql("SELECT count(*) FROM notices")[0][0]
    want_n = len([n for n in range(PAIRS) if n % 3 == 0])
    check(int(notices) == want_n and int(sums) == PAIRS - want_n,
          "summaries %s and notices %s, each once" % (sums, notices))
    by = b.sql("SELECT received_by, count(*) FROM documents GROUP BY 1 ORDER BY 1")
    check(len(by) == 2, "both instances stored some of them: %s" % by)


def conflicting_bodies(b, a, c, s):
    before = int(b.sql("SELECT count(*) FROM quarantine")[0][0])
    results = []
    for n in range(20):
        d1 = bl.summary_doc(s.code, "2027-01-%02d" % (n + 1), 1, figure=1)
        d2 = bl.summary_doc(s.code, "2027-01-%02d" % (n + 1), 1, figure=2)
        r = at_once([lambda: bl.send(a, b, s, d1), lambda: bl.send(c, b, s, d2)])
        results.append(tuple(sorted(x[0] for x in r)))
    bad = [st for st in results if st != (201, 409)]
    check(not bad, "one key, two bodies, to both at the same moment, 20 times: one 201, one "
          "409 each%s" % ("" if not bad else " (not: %s)" % bad[:5]))
    q = int(b.sql("SELECT count(*) FROM quarantine")[0][0])
    rows = b.sql("SELECT count(*) FROM summaries WHERE day >= '2027-01-01' AND "
                 "day <= '2027-01-20'")
    check(q == before + 20 and rows == [["20"]], "one stored per key (%s), the other body "
          "kept in the quarantine each time (%d)" % (rows[0][0], q - before))


def racing_revisions(b, a, c, s):
    for n in range(28):
        d = "2027-02-%02d" % (n + 1)
        low, high = bl.summary_doc(s.code, d, 4, 4), bl.summary_doc(s.code, d, 5, 5)
        jobs = [lambda: bl.send(a, b, s, low), lambda: bl.send(c, b, s, high)]
        at_once(jobs if n % 2 else jobs[::-1])
    latest = b.sql("SELECT DISTINCT revision FROM summary_latest WHERE school_code = '%s' AND "
                   "day BETWEEN '2027-02-01' AND '2027-02-28'" % s.code)
    both = b.sql("SELECT count(*) FROM summaries WHERE school_code = '%s' AND day BETWEEN "
                 "'2027-02-01' AND '2027-02-28'" % s.code)
    check(latest == [["5"]],
          "revisions 4 and 5 of a day racing on two instances: the latest is 5 for every day "
          "(%s)" % latest)
    check(int(both[0][0]) == 2 * 28, "and both revisions are kept for each of the 28 days "
          "(%s)" % both[0][0])


def retried_across(b, a, c, s):
    """A school's retry through a balancer lands on the other instance: 200, one row."""
    doc = bl.notice_doc(s.code, 9000)
    st1, ans1, _ = bl.send(a, b, s, doc)
    st2, ans2, _ = bl.send(c, b, s, doc)
    check(st1 == 201 and st2 == 200 and ans1["document"] == ans2["document"],
          "the retry on the other instance: %d then %d, the same document" % (st1, st2))


def main():
    # Hundreds of uploads from one school in seconds, on purpose: the rate limit
    # (tested in test_bureau_collector) is off here.
    with bl.Bureau(threads=4, rate_per_minute=0) as b:
        a, c = start_together(b)
        schools = [b.enrol("SO0001"), b.enrol("SO0002", uri=False)]
        same_upload(b, a, c, schools)
        conflicting_bodies(b, a, c, schools[0])
        racing_revisions(b, a, c, schools[1])
        retried_across(b, a, c, schools[0])
        for col in (a, c):
            rc, _ = col.stop()
            check(rc == 0, "%s stops cleanly" % col.name)
    gslib.finish()


if __name__ == "__main__":
    main()
