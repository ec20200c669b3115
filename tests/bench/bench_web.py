#!/usr/bin/env python3
"""Web page benchmark (issue 7): server time of the Today API and the Person page with a
school of 5,000 people and 120 days of history, alone and with 50 concurrent sessions
while four lanes are busy; and whether that load changes the lanes' decision latency.

    python3 tests/bench/bench_web.py [--seconds 20] [--repeat 3] [--people 5000] [--days 120]

Needs a build (make build, or --build DIR) and wrk (apt-get install wrk). Everything runs on
127.0.0.1: the real gatescreend with [web] on plain HTTP (loopback), the test indicator
(its latency_us is reading-received to lights-set, as in bench_gate), gatescreen-sim's
random morning at four lanes, and wrk as the HTTP load. Rounds alternate "lanes only" and
"lanes + web load" side by side; medians over the rounds are printed. Figures go to
tests/bench/README.md by hand.
"""
import argparse
import datetime
import os
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import gslib  # noqa: E402

PASSWORD = "bench-password-1"


def config(port, web_port, zone, now):
    start = now - datetime.timedelta(minutes=30)
    end = now + datetime.timedelta(minutes=90)
    lanes = "".join("""
[lane l%d]
gate = 东门
identity = device
indicator = test
[device ir-%d]
bus = gw
unit = %d
lane = l%d
poll = 50ms
""" % (i, i, i, i) for i in range(1, 5))
    return """\
[school]
code = BENCH
name = 基准学校
timezone = %s
[ledger]
database = ledger.db
[daemon]
indicator_log = lights.log
log_level = notice
[windows]
morning = %s-%s
days = mon-sun
[screening]
pair_window = 2s
hold_admit = 300ms
[web]
enabled = yes
listen = 127.0.0.1
port = %d
[bus gw]
tcp = 127.0.0.1:%d
""" % (zone, gslib.hhmm(start), gslib.hhmm(end), web_port, port) + lanes


def make_school(d, conf, people, days):
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        subprocess.run([sys.executable, os.path.join(HERE, "..", "tools", "make_roster.py"),
                        "--students", str(people - 100), "--staff", "100", "--classes", "100",
                        "--seed", "5", "--all-cards"], stdout=f, check=True)
    r = gslib.cli(conf, "roster", "import", roster)
    if r.returncode != 0:
        sys.exit("roster import: " + r.stderr)
    for name, role, extra in (("nurse", "nurse", ()), ("teacher", "teacher", ("--class", "一年级1班"))):
        r = gslib.cli(conf, "user", "add", name, "--role", role, *extra, input_text=PASSWORD + "\n")
        if r.returncode != 0:
            sys.exit("user add: " + r.stderr)
    # The lanes and devices rows come from the daemon's first start.
    dm = gslib.Daemon(conf)
    dm.wait_for("ready:")
    dm.stop()
    history(os.path.join(d, "ledger.db"), days)
    return roster


def history(db, days):
    """One gate reading and morning check per person per school day, 2% absences (some
    illness), a fever flag now and then: what 120 days of a school leave behind."""
    con = sqlite3.connect(db)
    rng = random.Random(7)
    people = [r[0] for r in con.execute("SELECT id FROM people WHERE active = 1")]
    lane = con.execute("SELECT id FROM lanes ORDER BY id LIMIT 1").fetchone()[0]
    today = datetime.date.today()
    t0 = time.monotonic()
    for back in range(days, 0, -1):
        day = today - datetime.timedelta(days=back)
        ds = day.isoformat()
        base = int(datetime.datetime(day.year, day.month, day.day, 0, 0).timestamp() * 1000)
        readings, checks, absences, flags = [], [], [], []
        for i, pid in enumerate(people):
            if rng.random() < 0.02:
                cause = rng.choice(["illness", "personal", "unknown"])
                absences.append((pid, ds, cause, "fever" if cause == "illness" else "", base))
                continue
            at = base + 7 * 3600000 + i * 700
            body = rng.randint(3600, 3710)
            readings.append((at, lane, pid, body, body, ds, at))
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO readings (at_ms, lane_id, person_id, raw_centi, body_centi, quality,"
            " threshold_centi, outcome, day) VALUES (?, ?, ?, ?, ?, 'valid', 3730, 'admit', ?)",
            [r[:6] for r in readings])
        first = con.execute("SELECT max(id) FROM readings").fetchone()[0] - len(readings) + 1
        for k, r in enumerate(readings):
            checks.append((r[2], ds, r[3], first + k, r[0]))
            if rng.random() < 0.003:
                flags.append((r[2], r[0], ds, 3750, 3730))
        con.executemany(
            "INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi,"
            " instrument, reading_id, at_ms) VALUES (?, ?, 'morning', ?, 3730, 'gate', ?, ?)",
            checks)
        con.executemany(
            "INSERT INTO absences (person_id, day, cause, symptoms, recorded_ms)"
            " VALUES (?, ?, ?, ?, ?)", absences)
        con.executemany(
            "INSERT INTO flags (person_id, opened_ms, day, screen_centi, threshold_centi,"
            " state, recheck_centi, recheck_instrument) VALUES (?, ?, ?, ?, ?, 'cleared', 3650,"
            " 'ear')", flags)
        con.execute("COMMIT")
    con.execute("ANALYZE")
    con.close()
    print("bench_web: %d people, %d days of history in %.0f s" %
          (len(people), days, time.monotonic() - t0), flush=True)


def login(port):
    import http.client
    import json
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("POST", "/api/v1/login", json.dumps({"name": "nurse", "password": PASSWORD}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    body = r.read()
    cookie = r.getheader("Set-Cookie") or ""
    m = re.search(r"gs_session=([^;]+)", cookie)
    if r.status != 200 or not m:
        sys.exit("login: %d %s" % (r.status, body[:200]))
    return m.group(1)


WRK_SCRIPT = """
local cookies = {%s}
local paths = {%s}
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1],
                    {["Cookie"] = "gs_session=" .. cookies[(n %% #cookies) + 1]})
end
"""


def wrk(port, cookies, paths, conns, seconds, d):
    script = os.path.join(d, "load.lua")
    with open(script, "w") as f:
        f.write(WRK_SCRIPT % (", ".join('"%s"' % c for c in cookies),
                              ", ".join('"%s"' % p for p in paths)))
    p = subprocess.run(["wrk", "-t", "2" if conns > 1 else "1", "-c", str(conns), "-d",
                        "%ds" % seconds, "--latency", "-s", script,
                        "http://127.0.0.1:%d" % port], capture_output=True, text=True)
    lat = {}
    for pct, val, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", p.stdout, re.M):
        lat[pct] = float(val) * {"us": 0.001, "ms": 1, "s": 1000}[unit]
    rps = re.search(r"Requests/sec:\s+([\d.]+)", p.stdout)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", p.stdout)
    if errors or "p50" in lat or not lat:
        print(p.stdout, p.stderr)
    return {"p50": lat.get("50", -1), "p99": lat.get("99", -1),
            "rps": float(rps.group(1)) if rps else 0, "errors": int(errors.group(1)) if errors else 0}


def sessions_load(port, cookies, paths, seconds, period):
    """Each session a person at the page: one request every `period` s (jittered), on its
    own keep-alive connection, for `seconds`. Returns latencies (ms) and failures."""
    import http.client
    import threading
    lat, failures, lock = [], [0], threading.Lock()

    def user(k):
        rng = random.Random(k)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        end = time.monotonic() + seconds
        time.sleep(rng.random() * period)
        while time.monotonic() < end:
            path = paths[rng.randrange(len(paths))]
            t = time.monotonic()
            c.request("GET", path, headers={"Cookie": "gs_session=" + cookies[k]})
            r = c.getresponse()
            r.read()
            ms = (time.monotonic() - t) * 1000
            with lock:
                lat.append(ms)
                failures[0] += r.status != 200
            time.sleep(max(0.0, period * (0.5 + rng.random()) - ms / 1000))
    threads = [threading.Thread(target=user, args=(k,)) for k in range(len(cookies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat.sort()
    return {"p50": lat[len(lat) // 2], "p99": lat[int(len(lat) * 0.99) - 1], "rps": len(lat) / seconds,
            "errors": failures[0]}


def lane_latency(lights, t_from, t_to):
    """p50/p99 (ms) of the lanes' decision latency from the test indicator's lines."""
    vals = []
    for ln in gslib.read_lights(lights):
        us = int(ln.get("latency_us", "-1"))
        at = int(ln.get("mono_us", "0")) / 1e6
        if us >= 0 and t_from <= at <= t_to:
            vals.append(us / 1000)
    if len(vals) < 10:
        return {"n": len(vals), "p50": -1, "p99": -1}
    vals.sort()
    return {"n": len(vals), "p50": vals[len(vals) // 2], "p99": vals[int(len(vals) * 0.99) - 1]}


def mono():
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.environ.get("GS_BUILD_DIR", "build"))
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--people", type=int, default=5000)
    ap.add_argument("--days", type=int, default=120)
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--period", type=float, default=1.0,
                    help="seconds between a session's requests (a person clicking, a page refreshing)")
    a = ap.parse_args()
    gslib.BUILD = os.path.abspath(a.build)
    gslib.DAEMON = os.path.join(gslib.BUILD, "gatescreend")
    gslib.CLI = os.path.join(gslib.BUILD, "gatescreen")
    gslib.SIM = os.path.join(gslib.BUILD, "gatescreen-sim")
    if subprocess.run(["which", "wrk"], capture_output=True).returncode != 0:
        sys.exit("bench_web: needs wrk (apt-get install wrk)")
    zone, now = gslib.school_zone(9)
    d = tempfile.mkdtemp(prefix="gs-bench-web-")
    port, web_port = gslib.free_port(), gslib.free_port()
    conf = os.path.join(d, "gatescreen.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(config(port, web_port, zone, now))
    roster = make_school(d, conf, a.people, a.days)
    ids = [ln.split(",")[0] for ln in open(roster, encoding="utf-8").read().splitlines()[1:]]
    person_paths = ["/api/v1/people/%s" % i for i in random.Random(3).sample(ids, 200)]
    sim = subprocess.Popen([gslib.SIM, "-c", conf, "--random", "11", "--roster", roster,
                            "--rate", "60", "--duration", "3600"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    dm = gslib.Daemon(conf)
    if not dm.wait_for("ready:", timeout=60):
        sys.exit("daemon did not start:\n" + dm.text()[-3000:])
    cookies = [login(web_port) for _ in range(a.sessions)]
    lights = os.path.join(d, "lights.log")
    rows = {k: [] for k in ("today1", "person1", "sessions", "saturate", "lanes_quiet",
                            "lanes_loaded")}
    time.sleep(3)
    for rnd in range(a.repeat):
        t = mono()
        time.sleep(a.seconds)
        rows["lanes_quiet"].append(lane_latency(lights, t, mono()))
        rows["today1"].append(wrk(web_port, cookies[:1], ["/api/v1/today"], 1, a.seconds, d))
        rows["person1"].append(wrk(web_port, cookies[:1], person_paths, 1, a.seconds, d))
        t = mono()
        rows["sessions"].append(sessions_load(web_port, cookies, ["/api/v1/today"] * 5 +
                                              person_paths[:20], a.seconds, a.period))
        rows["lanes_loaded"].append(lane_latency(lights, t, mono()))
        rows["saturate"].append(wrk(web_port, cookies, ["/api/v1/today"] + person_paths[:20],
                                    a.sessions, a.seconds, d))
        print("bench_web: round %d done" % (rnd + 1), flush=True)
    dm.stop()
    sim.terminate()
    sim.wait()

    def med(k, f):
        return statistics.median(r[f] for r in rows[k])
    print("\nbench_web: %d people, %d days, %d s runs, %d rounds (medians)" %
          (a.people, a.days, a.seconds, a.repeat))
    print("  GET /api/v1/today, 1 client:        p50 %6.2f ms  p99 %6.2f ms  %7.0f req/s" %
          (med("today1", "p50"), med("today1", "p99"), med("today1", "rps")))
    print("  GET /api/v1/people/ID, 1 client:    p50 %6.2f ms  p99 %6.2f ms  %7.0f req/s" %
          (med("person1", "p50"), med("person1", "p99"), med("person1", "rps")))
    print("  %d sessions, a request each ~%.1f s: p50 %6.2f ms  p99 %6.2f ms  %7.0f req/s  "
          "non-200 %d" % (a.sessions, a.period, med("sessions", "p50"), med("sessions", "p99"),
                          med("sessions", "rps"), sum(r["errors"] for r in rows["sessions"])))
    print("  capacity: %d connections flat out:  p50 %6.2f ms  p99 %6.2f ms  %7.0f req/s  "
          "non-2xx %d" % (a.sessions, med("saturate", "p50"), med("saturate", "p99"),
                          med("saturate", "rps"), sum(r["errors"] for r in rows["saturate"])))
    print("  lane decisions, no web load:        p50 %6.2f ms  p99 %6.2f ms  (%d decisions)" %
          (med("lanes_quiet", "p50"), med("lanes_quiet", "p99"),
           sum(r["n"] for r in rows["lanes_quiet"])))
    print("  lane decisions, with the web load:  p50 %6.2f ms  p99 %6.2f ms  (%d decisions)" %
          (med("lanes_loaded", "p50"), med("lanes_loaded", "p99"),
           sum(r["n"] for r in rows["lanes_loaded"])))
    print("  (folder %s)" % d)


if __name__ == "__main__":
    main()
