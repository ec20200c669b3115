#!/usr/bin/env python3
"""The missing-schools list's latency (issue 15: `missing` <= 50 ms) with 10,000
schools and a year of summary_latest rows, on a private PostgreSQL:

    python3 tests/bench/bench_missing.py [--build DIR] [--schools 10000] [--days 365]
                                         [--requests 300] [--cli 60]

Loads the data directly in SQL with generate_series (not through the collector: the
ingest has its own benchmark), then times, side by side in one run:

- api: GET /v1/missing?day=D&deadline=morning from the real gatescreen-bureaud over
  HTTPS, one keep-alive connection, a pull token (what the bureau's page and a
  province's dashboard do): from sending the request to the last byte of the answer;
- server: the same requests as the collector saw them, from reading the request to
  queueing the answer (its debug log's "-> 200 (N ms)", whole milliseconds): api
  less the client's side (Python's TLS and HTTP, on the same 2 cores);
- api-county: the same for one county (?county=C);
- cli: `gatescreen-bureau missing --day D --csv`, the whole process (start, config,
  connect, schema check, the query, the CSV), as a person or a cron job runs it;
- sql: the statements alone, server side: the durations PostgreSQL logs for them
  (log_min_duration_statement = 0 for one pass of the api requests), per request.

Days are drawn at random from the year's school days; every request is a different
day or the same day again, as it comes. p50 and p99 of each are printed. The data:
schools in 10 counties; per school day a summary_latest row for 97% of schools, its
first arrival between 07:00 and 09:59 for 95% of them and between 10:00 and 16:00 for
the rest (late); weekends without rows; 国庆 as holidays and one county closed one
day. summary_latest.document_id points at one placeholder document (the list never
reads documents: writing 3.65 M full documents would only make the load slow).
VACUUM ANALYZE after the load, as autovacuum would have done on a real database.
"""
import argparse
import http.client
import os
import random
import re
import ssl
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOKEN = "bench-pull-token-0123456789abcdef"


def args_of():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.environ.get("GS_BUILD_DIR",
                                                      os.path.join(HERE, "..", "..", "build")))
    ap.add_argument("--schools", type=int, default=10000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--requests", type=int, default=300)
    ap.add_argument("--cli", type=int, default=60)
    return ap.parse_args()


ARGS = args_of()
os.environ["GS_BUILD_DIR"] = os.path.abspath(ARGS.build)
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import bureaulib as bl  # noqa: E402

FIRST_DAY = "2026-01-01"

LOAD = """
SELECT setseed(0.42);
INSERT INTO schools (code, name, county, kind, enrolment, contact_name, contact_phone)
SELECT 'S' || lpad(i::text, 5, '0'), '学校' || i, '区县' || (i %% 10), '小学', 800,
       '老师' || i, '0374-' || lpad(i::text, 7, '0')
FROM generate_series(1, %(schools)d) AS i;
INSERT INTO documents (school_code, kind, idem_key, body_sha256, body, doc, received_by)
VALUES ('S00001', 'summary', 'placeholder', repeat('0', 64), '{}', '{}', 'bench');
INSERT INTO summary_latest (school_code, day, revision, document_id, first_received_at,
                            received_at)
SELECT x.code, x.day, 1, (SELECT id FROM documents), y.t, y.t + interval '2 hours'
FROM (SELECT s.code, d::date AS day, random() AS r, random() AS late, random() AS u
      FROM generate_series(DATE '%(first)s', DATE '%(first)s' + %(days)d - 1,
                           interval '1 day') AS d
      CROSS JOIN schools s) x
CROSS JOIN LATERAL (SELECT (x.day + time '07:00'
        + CASE WHEN x.late < 0.05 THEN interval '3 hours' + x.u * interval '6 hours'
               ELSE x.u * interval '179 minutes' END) AT TIME ZONE 'Asia/Shanghai' AS t) y
WHERE x.r < 0.97
ORDER BY x.day, x.code;
INSERT INTO calendar_days (day, kind, name, set_by)
SELECT d::date, 'holiday', '国庆', 'bench'
FROM generate_series(DATE '2026-10-01', DATE '2026-10-07', interval '1 day') AS d;
INSERT INTO closures (day, county, reason, created_by) VALUES ('2026-07-20', '区县3', '暴雨', 'bench');
"""


def pct(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100.0 * (len(v) - 1))))]


def line(name, ms):
    print("  %-11s n=%4d  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms" % (
        name, len(ms), statistics.median(ms), pct(ms, 99), max(ms)))


def school_days(b):
    rows = b.sql("SELECT to_char(d, 'YYYY-MM-DD') FROM generate_series(DATE '%s', DATE '%s' + "
                 "%d - 1, interval '1 day') AS d WHERE extract(isodow FROM d) < 6 AND d::date "
                 "NOT IN (SELECT day FROM calendar_days)" % (FIRST_DAY, FIRST_DAY, ARGS.days))
    return [r[0] for r in rows]


def load(b):
    t0 = time.monotonic()
    b.pg.psql(LOAD % {"schools": ARGS.schools, "days": ARGS.days, "first": FIRST_DAY}, "bureau")
    t1 = time.monotonic()
    b.pg.psql("VACUUM ANALYZE", "bureau")
    n = b.sql("SELECT count(*), pg_size_pretty(pg_total_relation_size('summary_latest')) "
              "FROM summary_latest")[0]
    print("loaded %d schools, %s summary_latest rows (%s with its indexes) in %.0f s, "
          "VACUUM ANALYZE %.0f s" % (ARGS.schools, n[0], n[1], t1 - t0,
                                     time.monotonic() - t1))


class Reader:
    """One keep-alive HTTPS connection to the collector, as a dashboard keeps."""

    def __init__(self, b, c):
        ctx = ssl.create_default_context(cafile=b.certs["ca"])
        self.conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=ctx, timeout=30)

    def get(self, query):
        t0 = time.perf_counter()
        self.conn.request("GET", "/v1/missing?" + query,
                          headers={"Authorization": "Bearer " + TOKEN})
        r = self.conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000
        if r.status != 200:
            raise RuntimeError("%d %s" % (r.status, body[:200]))
        return ms, body


def server_ms(c, start):
    """The collector's own times of the requests logged after offset `start`."""
    with open(c.log_path, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        return [float(x) for x in re.findall(r"GET /v1/missing -> 200 \((\d+) ms\)", f.read())]


def api(b, c, days, county=None):
    reader = Reader(b, c)
    reader.get("day=%s&deadline=morning" % days[0])  # the handshake, not timed
    out, sizes = [], []
    for i in range(ARGS.requests):
        q = "day=%s&deadline=morning" % days[i % len(days)]
        if county:
            q += "&county=" + county
        ms, body = reader.get(q)
        out.append(ms)
        sizes.append(len(body))
    return out, statistics.median(sizes)


def cli(b, days):
    out = []
    for i in range(ARGS.cli):
        t0 = time.perf_counter()
        r = subprocess.run([bl.BCLI, "-c", b.conf, "missing", "--day", days[i % len(days)],
                            "--deadline", "morning", "--csv"], capture_output=True)
        out.append((time.perf_counter() - t0) * 1000)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode())
    return out


def sql_side(b, c, days):
    """Server-side durations of one pass of api requests: each request is BEGIN, SET
    TRANSACTION, four statements, COMMIT; their logged durations summed."""
    b.pg.psql("ALTER SYSTEM SET log_min_duration_statement = 0")
    b.pg.psql("SELECT pg_reload_conf()")
    time.sleep(0.5)
    start = os.path.getsize(b.pg.log)
    reader = Reader(b, c)
    for i in range(ARGS.requests):
        reader.get("day=%s&deadline=morning" % days[i % len(days)])
    b.pg.psql("ALTER SYSTEM RESET log_min_duration_statement")
    b.pg.psql("SELECT pg_reload_conf()")
    with open(b.pg.log, encoding="utf-8", errors="replace") as f:
        f.seek(start)
        text = f.read()
    # One request: everything from its BEGIN to its COMMIT, parse, bind and execute.
    per, cur = [], None
    for m in re.finditer(r"duration: ([0-9.]+) ms\s+(?:(parse|bind|execute) [^:]*: |statement: )"
                         r"(\S+)", text):
        ms, word = float(m.group(1)), m.group(3)
        if word == "BEGIN" and m.group(2) in (None, "parse"):
            cur = 0.0
        if cur is not None:
            cur += ms
        if word == "COMMIT" and m.group(2) in (None, "execute") and cur is not None:
            per.append(cur)
            cur = None
    return per


def main():
    print("python3 tests/bench/bench_missing.py " + " ".join(sys.argv[1:]))
    with bl.Bureau() as b:
        path = os.path.join(b.dir, "bench.token")
        with open(path, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(path, 0o600)
        with open(b.conf, "a") as f:
            f.write("\n[pull]\ntoken_files = %s\n" % path)
        r = b.cli("db", "check")
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        load(b)
        c = b.collector(start=False)
        c.start(extra=("-v",))  # debug: a line with its time per request
        days = school_days(b)
        random.Random(7).shuffle(days)
        print("%d school days; requests on them in a shuffled order; deadline morning" % len(days))
        start = os.path.getsize(c.log_path)
        a, size = api(b, c, days)
        srv = server_ms(c, start)[1:]  # not the untimed first
        ac, _ = api(b, c, days, county="%E5%8C%BA%E5%8E%BF3")  # 区县3
        cl = cli(b, days)
        sq = sql_side(b, c, days)
        print("answer: median %d bytes of JSON (the late and missing schools of the day); "
              "load average %.2f (1 min) on %d CPUs" % (size, os.getloadavg()[0],
                                                        os.cpu_count()))
        line("api", a)
        line("server", srv)
        line("api-county", ac)
        line("cli", cl)
        if sq:
            line("sql", sq)
        target = pct(a, 99) <= 50 and pct(cl, 99) <= 50
        print("target missing <= 50 ms (p99 of api and cli): %s" % ("met" if target else
                                                                  "NOT met"))


if __name__ == "__main__":
    main()
