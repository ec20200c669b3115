"""SIGHUP 200 times while the gate and the web page are busy (issue 13): four lanes
deciding about 16 readings a second from the real simulator, four web clients
reading the pages that use the configuration (Today, the day report, the gates,
a person's values), and a reload every 20 ms whose threshold and hold times
change each time. The daemon applies every reload, keeps deciding, answers every
request, and stops cleanly. In the ThreadSanitizer build (make test-tsan) the
daemon runs with halt_on_error, so a data race ends it and fails this test."""
import datetime
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

import gslib
from gslib import check

LANES = 4
RELOADS = 200
PASSWORD = "reload-password-1"
PAGES = ("/api/v1/today", "/api/v1/day", "/api/v1/gates", "/api/v1/people?q=S")


def config(bus_port, web_port, zone, now, threshold):
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = RELOAD
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[daemon]
indicator_log = lights.log

[windows]
morning = %s-%s
days = mon-sun

[screening]
threshold = %s
hold_admit = 100ms
hold_fever = 100ms
hold_invalid = 100ms
hold_deny = 100ms
hold_nurse = 100ms
hold_no_measurement = 100ms
buzzer = 50ms

[web]
enabled = yes
listen = 127.0.0.1
port = %d

[bus gw]
tcp = 127.0.0.1:%d

%s""" % (zone, gslib.hhmm(start), gslib.hhmm(end), threshold, web_port, bus_port,
         gslib.busy_lanes_config(LANES))


class Reader(threading.Thread):
    """One nurse's session reading the pages in turn until told to stop."""

    def __init__(self, port, cookie, stop):
        super().__init__(daemon=True)
        self.port, self.cookie, self.stop = port, cookie, stop
        self.ok = 0
        self.bad = []

    def run(self):
        i = 0
        while not self.stop.is_set():
            path = PAGES[i % len(PAGES)]
            i += 1
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
                c.request("GET", path, headers={"Cookie": self.cookie})
                r = c.getresponse()
                r.read()
                c.close()
                if r.status == 200:
                    self.ok += 1
                else:
                    self.bad.append((path, r.status))
            except OSError as e:
                self.bad.append((path, str(e)))


def login(port):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    c.request("POST", "/api/v1/login", json.dumps({"name": "nurse1", "password": PASSWORD}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    check(r.status == 200, "the nurse logs in (%d)" % r.status)
    return r.getheader("Set-Cookie", "").split(";")[0]


def decisions(lights_path):
    return sum(1 for ln in gslib.read_lights(lights_path) if ln["latency_us"] != "-1")


def main():
    zone, now = gslib.school_zone(9)
    bus_port, web_port = gslib.free_port(), gslib.free_port()
    configs = [config(bus_port, web_port, zone, now, t) for t in ("37.3", "37.5")]
    d, conf = gslib.scratch(configs[0])
    lights = os.path.join(d, "lights.log")
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        subprocess.run([sys.executable, gslib.MAKE_ROSTER, "--students", "400", "--staff", "20",
                        "--classes", "12", "--seed", "5"], stdout=f, check=True)
    check(gslib.cli(conf, "roster", "import", roster).returncode == 0, "roster imported")
    r = gslib.cli(conf, "user", "add", "nurse1", "--role", "nurse", input_text=PASSWORD + "\n")
    check(r.returncode == 0, "nurse added " + r.stderr.strip())
    sim = gslib.Sim(conf, "--random", "13", "--roster", roster, "--rate", "240",
                    "--duration", "300s")
    check(sim.wait_ready(), "simulator ready")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("web: serving HTTP", 30), "daemon serves the page")
    check(gslib.wait_until(lambda: decisions(lights) >= 40, 60), "the lanes are busy")

    stop = threading.Event()
    readers = [Reader(web_port, login(web_port), stop) for _ in range(4)]
    for t in readers:
        t.start()
    before = decisions(lights)
    t0 = time.monotonic()
    for i in range(RELOADS):
        with open(conf, "w", encoding="utf-8") as f:
            f.write(configs[(i + 1) % 2])
        dm.send(signal.SIGHUP)
        # A signal that comes while the last is handled may merge with it: wait for
        # each reload to be applied, so that all 200 are.
        if not dm.wait_for("reload: configuration", 30, count=i + 1):
            break
        time.sleep(0.02)
    took = time.monotonic() - t0
    stop.set()
    for t in readers:
        t.join(30)
    applied = dm.text().count("reload: configuration")
    check(applied == RELOADS, "%d of %d reloads applied in %.1f s" % (applied, RELOADS, took))
    check(dm.proc.poll() is None, "the daemon still runs after %d reloads" % RELOADS)
    check(decisions(lights) > before + 50, "the lanes went on deciding during the reloads "
          "(%d decisions)" % (decisions(lights) - before))
    ok = sum(t.ok for t in readers)
    bad = [b for t in readers for b in t.bad]
    check(ok > 100 and not bad, "web requests during the reloads: %d answered 200, %d not %r"
          % (ok, len(bad), bad[:5]))
    rc, _ = dm.stop(timeout=30)
    sim.kill(signal.SIGTERM)
    log = dm.text()
    check(rc == 0, "clean stop after the reloads (status %d)" % rc)
    check("ThreadSanitizer" not in log and "AddressSanitizer" not in log,
          "no sanitizer report in the daemon's log")
    gslib.finish()


if __name__ == "__main__":
    main()
