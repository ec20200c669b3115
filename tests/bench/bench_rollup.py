#!/usr/bin/env python3
"""The bureau's roll-ups (issue 15, "Performance"): a county roll-up of one day and a
30-day city trend through the pull API, with 10,000 schools x 365 days of figures.

    python3 tests/bench/bench_rollup.py [--build DIR] [--schools 10000] [--days 365]
                                        [--counties 20] [--repeat 200]

Needs a build (make build, or --build DIR) and postgresql-15 (the tests' private server,
tests/integration/pglib.py). The stand is the tests' (bureaulib): a private PostgreSQL,
the real gatescreen-bureaud over TLS, a [pull] token. The database is loaded with SQL
generate_series, not through uploads (that is the ingest benchmark's job): the schools in
--counties counties, one tiny document, one summary revision, its summary_latest row
and its summary_figures row per school and day, written day after day as uploads would
write them, and each day's sum for the city (summary_city_day); then VACUUM ANALYZE. The
figures vary by school and day.

Measured: the time of whole pull requests (HTTPS on one keep-alive connection, the
token checked, the statement, the JSON written and read), --repeat of each after a few
to warm up, days picked at random:

  county-day     GET /v1/rollup?from=D&to=D&level=county   (every county, one day)
  one-county-day GET /v1/rollup?from=D&to=D&level=county&county=C
  schools-day    GET /v1/rollup?from=D&to=D&level=school&county=C  (one county's schools)
  city-30        GET /v1/rollup?from=D&to=D+29             (the city, 30 days)
  county-30      GET /v1/rollup?from=D&to=D+29&level=county

Targets: county-day p99 <= 100 ms; city-30 <= 300 ms. Prints p50, p99 and max in ms,
and the command that was run. Figures go to tests/bench/README.md by hand.
"""
import argparse
import datetime
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

TOKEN = "bench-pull-token-" + "x" * 24
FIRST_DAY = datetime.date(2025, 12, 1)


# summary_figures' figure columns, in order (sql/bureau/003_rollups.sql).
FIGURES = (
    "population_student population_teacher population_staff population_total expected on_leave "
    "morning_done morning_expected morning_all noon_done noon_expected noon_all fever_screens "
    "fever_confirmed fever_cleared fever_open referrals_opened referrals_sent_home "
    "referrals_hospital referrals_returned_to_class referrals_pending absences_all "
    "absences_illness absences_personal absences_other absences_late absences_unexplained "
    "symptom_fever symptom_cough symptom_sore_throat symptom_diarrhoea symptom_vomiting "
    "symptom_rash symptom_conjunctivitis symptom_other returns_after_illness "
    "certificates_recorded alerts_opened alerts_open lanes lanes_known").split()


ARRIVAL = "day + time '17:00'"


def load_sql(schools, days, counties, arrival=ARRIVAL):
    """The whole load: schools, then per day documents, summaries, summary_latest and
    summary_figures for every school (document ids day * schools + school), and each
    day's city sum (what the uploads keep in summary_city_day, here in one row a day).
    arrival: each school-day's first report (SQL of day, i: the school, k: the day;
    bench_bureau_page.py spreads them around the morning deadline)."""
    first = FIRST_DAY.isoformat()
    return """
SET synchronous_commit = off;
INSERT INTO schools (code, name, county, kind, enrolment)
SELECT 'S' || lpad(i::text, 6, '0'), '学校' || i, '县' || lpad((i %% %(c)d)::text, 2, '0'),
       '小学', 800 FROM generate_series(1, %(n)d) i;
CREATE TEMP TABLE g AS
SELECT k, date '%(first)s' + k AS day, i, 'S' || lpad(i::text, 6, '0') AS code,
       k::bigint * %(n)d + i AS id
  FROM generate_series(0, %(d)d - 1) k, generate_series(1, %(n)d) i;
INSERT INTO documents (id, school_code, kind, idem_key, body_sha256, body, doc, received_by)
SELECT id, code, 'summary', code || '/' || day || '/1', repeat('0', 64), '{}', '{}', 'bench'
  FROM g ORDER BY id;
INSERT INTO summaries (school_code, day, revision, document_id, generated_at, received_at)
SELECT code, day, 1, id, day + time '17:00', day + time '17:00' FROM g ORDER BY id;
INSERT INTO summary_latest (school_code, day, revision, document_id, first_received_at,
                            received_at)
SELECT code, day, 1, id, %(arrival)s, %(arrival)s FROM g ORDER BY id;
INSERT INTO summary_figures
SELECT code, day, 1, id,
       700 + i %% 50, 60, 40, 800 + i %% 50, 790 + i %% 50 - k %% 7, k %% 7,
       780 - (i + k) %% 11, 790 + i %% 50 - k %% 7, 785,
       CASE WHEN i %% 3 = 0 THEN NULL ELSE 700 END,
       CASE WHEN i %% 3 = 0 THEN NULL ELSE 720 END,
       CASE WHEN i %% 3 = 0 THEN NULL ELSE 705 END,
       (i + k) %% 5, (i + k) %% 2, i %% 2, k %% 2,
       (i + k) %% 2, 0, k %% 2, i %% 2, 0,
       10 + (i + k) %% 4, 3, 2, 1, 1, 3 + (i + k) %% 4,
       1, (i * k) %% 3, 0, 0, k %% 2, 0, 0, 1,
       i %% 3, i %% 2, 0, ((i + k) %% 97 = 0)::int,
       4, 4 - (i %% 5 = 0)::int, 3.9 - (i %% 5 = 0)::int * 0.95
  FROM g ORDER BY id;
INSERT INTO summary_city_day
SELECT day, 0, count(*), count(noon_done), %(sums)s, sum(availability_sum)
  FROM summary_figures GROUP BY day;
""" % {"n": schools, "d": days, "c": counties, "first": first, "arrival": arrival,
       "sums": ", ".join("coalesce(sum(%s), 0)" % c for c in FIGURES)}


def load_args(ap):
    """The build and the load's size (bench_bureau_page.py takes the same)."""
    ap.add_argument("--build", default=os.environ.get("GS_BUILD_DIR", "build"))
    ap.add_argument("--schools", type=int, default=10000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--counties", type=int, default=20)
    return ap


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * len(s) + 0.5)) - 1))]


class Puller:
    """One keep-alive HTTPS connection to the collector, without a client certificate."""

    def __init__(self, bl, b, c):
        self.conn = http.client.HTTPSConnection("127.0.0.1", c.port, context=bl.tls_context(b),
                                                timeout=120)

    def get(self, params):
        url = "/v1/rollup?" + urllib.parse.urlencode(params)
        t0 = time.perf_counter()
        self.conn.request("GET", url, headers={"Authorization": "Bearer " + TOKEN})
        r = self.conn.getresponse()
        body = r.read()
        ms = (time.perf_counter() - t0) * 1000.0
        if r.status != 200:
            sys.exit("bench_rollup: %s -> %d %s" % (url, r.status, body[:300]))
        return ms, body


def measure(puller, name, make_params, repeat, rng):
    for _ in range(3):
        puller.get(make_params(rng))
    times, size = [], 0
    for _ in range(repeat):
        ms, body = puller.get(make_params(rng))
        times.append(ms)
        size = len(body)
    print("%-15s n=%-4d p50 %7.1f ms   p99 %7.1f ms   max %7.1f ms   (%d bytes)"
          % (name, repeat, statistics.median(times), pct(times, 99), max(times), size))
    sys.stdout.flush()
    return times


def main():
    ap = load_args(argparse.ArgumentParser())
    ap.add_argument("--repeat", type=int, default=200)
    a = ap.parse_args()
    os.environ["GS_BUILD_DIR"] = os.path.abspath(a.build)
    import bureaulib as bl  # after GS_BUILD_DIR: it names the programs at import
    print("command: python3 tests/bench/bench_rollup.py " + " ".join(sys.argv[1:]))
    rng = random.Random(15)
    with bl.Bureau(threads=2) as b:
        path = os.path.join(b.dir, "pull.token")
        with open(path, "w") as f:
            f.write(TOKEN + "\n")
        os.chmod(path, 0o600)
        with open(b.conf, "a", encoding="utf-8") as f:
            f.write("\n[pull]\ntoken_files = %s\n" % path)
        c = b.collector()
        t0 = time.monotonic()
        b.sql(load_sql(a.schools, a.days, a.counties))
        b.sql("VACUUM ANALYZE")
        n = b.sql("SELECT count(*), pg_size_pretty(pg_total_relation_size('summary_figures')) "
                  "FROM summary_figures")[0]
        print("loaded %s school-days (%d schools x %d days, %d counties) in %.0f s; "
              "summary_figures %s" % (n[0], a.schools, a.days, a.counties,
                                      time.monotonic() - t0, n[1]))
        days = [FIRST_DAY + datetime.timedelta(days=k) for k in range(a.days)]
        counties = ["县%02d" % i for i in range(a.counties)]

        def day(r):
            return r.choice(days).isoformat()

        def window(r):
            d = r.choice(days[:-29])
            return d.isoformat(), (d + datetime.timedelta(days=29)).isoformat()
        p = Puller(bl, b, c)
        res = {}
        res["county-day"] = measure(p, "county-day", lambda r: (lambda d: {
            "from": d, "to": d, "level": "county"})(day(r)), a.repeat, rng)
        measure(p, "one-county-day", lambda r: (lambda d: {
            "from": d, "to": d, "level": "county", "county": r.choice(counties)})(day(r)),
            a.repeat, rng)
        measure(p, "schools-day", lambda r: (lambda d: {
            "from": d, "to": d, "level": "school", "county": r.choice(counties)})(day(r)),
            max(20, a.repeat // 4), rng)
        res["city-30"] = measure(p, "city-30", lambda r: (lambda w: {
            "from": w[0], "to": w[1]})(window(r)), max(20, a.repeat // 2), rng)
        measure(p, "county-30", lambda r: (lambda w: {
            "from": w[0], "to": w[1], "level": "county"})(window(r)), max(20, a.repeat // 4), rng)
        mid = days[len(days) // 2].isoformat()
        r = subprocess.run([bl.BCLI, "-c", b.conf, "report", "--day", mid, "--level", "county",
                            "--json"], capture_output=True)
        api = p.get({"from": mid, "to": mid, "level": "county"})[1]
        print("gatescreen-bureau report --level county --json equals the API's answer: %s"
              % (r.stdout == api))
        city = json.loads(p.get({"from": mid, "to": mid})[1])["rows"][0]
        by_county = json.loads(api)["rows"]
        print("the city's day (summary_city_day) is the sum of its counties' (summary_figures): %s"
              % all(city[k][f] == sum(row[k][f] for row in by_county)
                    for k, f in (("population", "total"), ("absences", "all"),
                                 ("schools", "reported"), ("fevers", "screens"))))
        ok = pct(res["county-day"], 99) <= 100 and pct(res["city-30"], 99) <= 300
        print("targets (county-day p99 <= 100 ms, city-30 p99 <= 300 ms): %s"
              % ("met" if ok else "NOT met"))
        c.stop()


if __name__ == "__main__":
    main()
