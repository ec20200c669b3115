#!/usr/bin/env python3
"""The bureau's page under load (issue 17, "Benchmark"): the deadline view and a
county's 30-day trend with 50 bureau users at once, 10,000 schools x 365 days loaded.

    python3 tests/bench/bench_bureau_page.py [--build DIR] [--schools 10000] [--days 365]
        [--counties 20] [--users 50] [--city-users 10] [--seconds 60] [--think-ms 500:2000]
        [--page-threads 8]

On demand, not in make test. Needs a build and postgresql-15 (tests/integration/pglib.py).
The stand is the tests' (bureaulib): a private PostgreSQL, the real gatescreen-bureaud with
[page] over TLS, PostgreSQL's shared_buffers set to --shared-buffers (2GB: a bureau's
database server has more than the tests' 128MB). The database is loaded with bench_rollup.py's SQL (generate_series, one
summary revision, its summary_latest and summary_figures rows per school and day, the city's
days), the first reports spread over 07:00-10:00 in the bureau's zone with one school-day in
33 three hours later (late for the morning deadline); then VACUUM ANALYZE.

The users: --users sessions, each its own keep-alive HTTPS connection from an address of
its own (127.0.1.N) and its own login,
--city-users of them city officers (their deadline view has every county), the others
county officers of the first counties (four sessions each at most: the page allows 16). Each
user in a loop: the deadline view of a random day (GET /api/v1/today?day=D&deadline=morning),
a pause, its county's 30-day trend up to a random day (GET /api/v1/trends?to=D; a city
officer: of a random county), a pause; pauses drawn from --think-ms (a person reads the
page between clicks). Measured: each request's whole time (sent to body read). Prints p50,
p99 and max per view and role, the requests per second, and whether p99 <= 150 ms.
"""
import argparse
import datetime
import http.client
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)

import bench_rollup  # noqa: E402  (its load and percentile: one place)

PASSWORD = "bench-password-1"
# 07:00-09:59 local, one school-day in 33 at +3 h (10:00-12:59: late for the morning)
ARRIVAL = ("((day + time '07:00' + ((i * 7 + k * 13) % 180) * interval '1 minute' "
           "+ CASE WHEN (i + k) % 33 = 0 THEN interval '3 hours' ELSE interval '0' END) "
           "AT TIME ZONE 'Asia/Shanghai')")


class User:
    """One logged-in session on its own keep-alive connection."""

    def __init__(self, bl, b, port, name, source):
        self.ctx = bl.tls_context(b)
        self.port, self.source = port, source
        self.conn = self.connect()
        st, body, h = self.request("POST", "/api/v1/login",
                                   '{"name": "%s", "password": "%s"}' % (name, PASSWORD))
        if st != 200:
            sys.exit("bench_bureau_page: login %s: %d %s" % (name, st, body[:200]))
        self.cookie = h["Set-Cookie"].split(";")[0]

    def connect(self):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                           timeout=60, source_address=(self.source, 0))

    def request(self, method, path, body=None):
        h = {"Content-Type": "application/json"} if body else {}
        if getattr(self, "cookie", None):
            h["Cookie"] = self.cookie
        self.conn.request(method, path, body=body, headers=h)
        r = self.conn.getresponse()
        return r.status, r.read(), dict(r.getheaders())

    def get(self, path):
        t0 = time.perf_counter()
        st, body, _ = self.request("GET", path)
        ms = (time.perf_counter() - t0) * 1000.0
        if st != 200:
            raise RuntimeError("%s -> %d %s" % (path, st, body[:200]))
        return ms, len(body)


def add_users(bl, b, names):
    for name, role, county in names:
        args = [bl.BCLI, "-c", b.conf, "user", "add", name, "--role", role]
        args += ["--county", county] if county else []
        subprocess.run(args, input=PASSWORD + "\n", text=True, check=True, capture_output=True)


def run_user(u, role, county, counties, days, a, until, out, rng):
    lo, hi = (int(x) for x in a.think_ms.split(":"))
    while time.monotonic() < until:
        d = rng.choice(days).isoformat()
        ms, n = u.get("/api/v1/today?deadline=morning&day=" + d)
        out.append(("today", role, ms, n))
        time.sleep(rng.uniform(lo, hi) / 1000.0)
        q = {"to": rng.choice(days[29:]).isoformat()}
        if role == "city":
            q.update(level="county", county=rng.choice(counties))
        ms, n = u.get("/api/v1/trends?" + urllib.parse.urlencode(q))
        out.append(("trend-30", role, ms, n))
        time.sleep(rng.uniform(lo, hi) / 1000.0)


def report(results, seconds):
    pct = bench_rollup.pct
    ok = True
    for view in ("today", "trend-30"):
        for role in ("county", "city", None):
            t = [ms for v, r, ms, _ in results if v == view and (role is None or r == role)]
            if not t:
                continue
            size = statistics.median(n for v, r, _, n in results if v == view and
                                     (role is None or r == role))
            print("%-9s %-7s n=%-5d p50 %6.1f ms   p99 %6.1f ms   max %6.1f ms   (%d bytes)"
                  % (view, role or "all", len(t), statistics.median(t), pct(t, 99), max(t),
                     size))
            ok = ok and (role is not None or pct(t, 99) <= 150)
    print("%.1f requests/s" % (len(results) / seconds))
    print("target (p99 <= 150 ms for both views): %s" % ("met" if ok else "NOT met"))


def main():
    ap = bench_rollup.load_args(argparse.ArgumentParser())
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--city-users", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--think-ms", default="500:2000")
    ap.add_argument("--page-threads", type=int, default=8)
    ap.add_argument("--shared-buffers", default="2GB",
                    help="PostgreSQL's (the tests' server has 128MB; a bureau's server more)")
    a = ap.parse_args()
    os.environ["GS_BUILD_DIR"] = os.path.abspath(a.build)
    import bureaulib as bl  # after GS_BUILD_DIR: it names the programs at import
    print("command: python3 tests/bench/bench_bureau_page.py " + " ".join(sys.argv[1:]))
    rng = random.Random(17)
    counties = ["县%02d" % i for i in range(a.counties)]
    n_county = a.users - a.city_users
    officers = [("officer%02d" % i, "county", counties[i % a.counties])
                for i in range((n_county + 3) // 4)]
    with bl.Bureau(threads=2) as b:
        b.sql("ALTER SYSTEM SET shared_buffers = '%s'" % a.shared_buffers)
        b.pg.restart()
        port = bl.free_port()
        with open(b.conf, "a", encoding="utf-8") as f:
            f.write("\n[page]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\nthreads = %d\n"
                    % (port, b.certs["server"], b.certs["server.key"], a.page_threads))
        c = b.collector()  # its migrations make the tables
        t0 = time.monotonic()
        b.sql(bench_rollup.load_sql(a.schools, a.days, a.counties, arrival=ARRIVAL))
        b.sql("VACUUM ANALYZE")
        print("loaded %d schools x %d days (%d counties) in %.0f s" % (
            a.schools, a.days, a.counties, time.monotonic() - t0))
        add_users(bl, b, officers + [("city-officer", "city", None)])
        roles = ["city"] * a.city_users + ["county"] * n_county
        users = []
        for k, role in enumerate(roles):
            name, _, county = officers[(k - a.city_users) // 4] if role == "county" else \
                ("city-officer", "city", None)
            # each user from an address of its own, as people are (the page takes
            # at most 32 connections from one address)
            users.append((User(bl, b, port, name, "127.0.1.%d" % (k + 1)), role, county))
        days = [bench_rollup.FIRST_DAY + datetime.timedelta(days=k) for k in range(a.days)]
        for u, _, _ in users[:3]:  # warm up: plans, caches
            for d in days[:3]:
                u.get("/api/v1/today?deadline=morning&day=" + d.isoformat())
        results = []
        until = time.monotonic() + a.seconds
        threads = [threading.Thread(target=run_user, args=(u, role, county, counties, days, a,
                                                           until, results,
                                                           random.Random(k)))
                   for k, (u, role, county) in enumerate(users)]
        t1 = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print("%d users (%d city officers) for %.0f s, pauses %s ms, [page] threads %d, "
              "shared_buffers %s; load average %.1f" % (
                  a.users, a.city_users, a.seconds, a.think_ms, a.page_threads,
                  b.sql("SHOW shared_buffers")[0][0], os.getloadavg()[0]))
        report(results, time.monotonic() - t1)
        c.stop()


if __name__ == "__main__":
    main()
