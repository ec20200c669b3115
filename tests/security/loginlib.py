"""Shared by the login attack tests (issue 16, items 2, 3, 5, 6): a busy gate (the
simulator's random morning on real Modbus TCP, tests/integration/gslib.py BusyGate)
with the web page on HTTPS, users made by the real CLI, an attacker on one loopback
address and the nurse on another, and the figures the issue asks for: the nurse's
login success rate and latency during the attack, and the gate's decision latency
(the test indicator's latency_us, as tests/reliability measures it).

Run against an older build with GS_BUILD_DIR=... to get the "before" figures."""
import http.client
import json
import multiprocessing
import os
import queue
import re
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
import gslib  # noqa: E402
from gslib import check, figure  # noqa: E402,F401

sys.path.insert(0, os.path.join(gslib.SOURCE, "tests/tools"))
import make_certs  # noqa: E402

NURSE_ADDR = "127.0.0.1"
ATTACK_ADDR = "127.0.0.2"
USERS = {"nurse1": ("nurse", "nurse-password-1"), "nurse2": ("nurse", "nurse-password-2"),
         "gate1": ("gate", "gate-password-01"), "admin1": ("admin", "admin-password-1")}


class Reply:
    def __init__(self, status, body, headers, secs):
        self.status, self.body, self.headers, self.secs = status, body, headers, secs
        try:
            self.json = json.loads(body)
        except ValueError:
            self.json = None


class Client:
    """One HTTPS connection per request from a chosen loopback address."""

    def __init__(self, port, ca, source=NURSE_ADDR):
        self.port, self.source = port, source
        self.ctx = ssl.create_default_context(cafile=ca)

    def req(self, method, path, body=None, cookie=None, csrf=None, timeout=30):
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = "application/json"
        if cookie:
            h["Cookie"] = "gs_session=" + cookie
        if csrf:
            h["X-CSRF-Token"] = csrf
        t0 = time.monotonic()
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                        timeout=timeout, source_address=(self.source, 0))
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            body = r.read().decode("utf-8", "replace")
            return Reply(r.status, body, {k.lower(): v for k, v in r.getheaders()},
                         time.monotonic() - t0)
        except (OSError, http.client.HTTPException) as e:
            return Reply(0, str(e), {}, time.monotonic() - t0)
        finally:
            c.close()

    def login(self, name, password):
        r = self.req("POST", "/api/v1/login", {"name": name, "password": password})
        cookie = None
        if r.status == 200:
            m = re.match(r"gs_session=([^;]*)", r.headers.get("set-cookie", ""))
            cookie = m.group(1) if m else None
        return r, cookie


class Site:
    """The busy gate with the web page; start() runs the daemon."""

    def __init__(self, code, rate=120, lanes=2):
        self.gate = gslib.BusyGate(code, rate=rate, lanes=lanes, duration=600)
        self.d, self.conf, self.db = self.gate.d, self.gate.conf, self.gate.db
        certs = make_certs.make_certs(os.path.join(self.d, "certs"))
        self.ca = certs["ca"]
        self.port = gslib.free_port()
        with open(self.conf, "a", encoding="utf-8") as f:
            f.write("\n[web]\nenabled = yes\nlisten = 127.0.0.1\nport = %d\n"
                    "tls_cert = %s\ntls_key = %s\n" % (self.port, certs["server"],
                                                       certs["server.key"]))
        for name, (role, pw) in USERS.items():
            r = gslib.cli(self.conf, "user", "add", name, "--role", role, "--by", "tester",
                          input_text=pw + "\n")
            check(r.returncode == 0, "user add %s (%s)" % (name, r.stderr.strip()))
        self.dm = None

    def start(self):
        self.dm = gslib.Daemon(self.conf)
        ok = self.dm.wait_for("web: serving", 20)
        check(ok, "gatescreend serves HTTPS")
        check(self.gate.wait_decisions(10, 30), "the gate decides (10 decisions shown)")
        return ok

    def client(self, source=NURSE_ADDR):
        return Client(self.port, self.ca, source)

    def stop(self):
        if self.dm:
            code, secs = self.dm.stop()
            check(code == 0, "gatescreend stops cleanly (exit %s in %.1f s)" % (code, secs))
        self.gate.close()

    def audit_rows(self):
        """Audit rows other than successful logins (the nurse's own)."""
        return gslib.db_query(self.db, "SELECT count(*) FROM audit_log WHERE action != "
                                       "'login'")[0][0]

    def gate_latency(self, t0, t1, what):
        """Figures of the decisions whose reading came in between t0 and t1
        (time.monotonic): count, p95 and max latency in ms. Returns the max."""
        us = lambda t: int(t * 1e6)  # noqa: E731
        lat = sorted(int(ln["latency_us"]) / 1000.0 for ln in gslib.decision_lines(self.gate.read())
                     if us(t0) <= gslib.posted_us(ln) < us(t1))
        p95 = lat[int(len(lat) * 0.95)] if lat else float("nan")
        top = lat[-1] if lat else float("nan")
        figure("gate_decisions_%s" % what, len(lat))
        figure("gate_latency_%s_p95_ms" % what, "%.1f" % p95)
        figure("gate_latency_%s_max_ms" % what, "%.1f" % top)
        return lat


def percentile(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] if xs else float("nan")


class Nurse(threading.Thread):
    """Logs in as `name` from NURSE_ADDR every `every` seconds and reads her session
    with the cookie: a try succeeds when both answer 200. With `cookie`: only reads
    the session of that cookie (a nurse who stays logged in)."""

    def __init__(self, site, name="nurse1", every=0.5, cookie=None):
        super().__init__(daemon=True)
        self.cl, self.name, self.every = site.client(NURSE_ADDR), name, every
        self.cookie = cookie
        self.stop_flag = threading.Event()
        self.results = []  # (ok, login seconds, status)

    def run(self):
        while not self.stop_flag.is_set():
            if self.cookie:
                r = self.cl.req("GET", "/api/v1/session", cookie=self.cookie)
                self.results.append((r.status == 200, r.secs, r.status))
                self.stop_flag.wait(self.every)
                continue
            r, cookie = self.cl.login(self.name, USERS[self.name][1])
            ok = r.status == 200 and cookie is not None and \
                self.cl.req("GET", "/api/v1/session", cookie=cookie).status == 200
            self.results.append((ok, r.secs, r.status))
            self.stop_flag.wait(self.every)

    def stop(self):
        self.stop_flag.set()
        self.join(60)

    def report(self, when):
        """Figures: tries, success rate, median and max login latency; returns the rate."""
        n = len(self.results)
        ok = sum(1 for r in self.results if r[0])
        secs = [r[1] for r in self.results]
        rate = ok / n if n else 0.0
        what = "request" if self.cookie else "login"
        figure("nurse_%ss_%s" % (what, when), "%d/%d" % (ok, n))
        figure("nurse_%s_success_%s" % (what, when), "%.2f" % rate)
        figure("nurse_%s_median_ms_%s" % (what, when), "%.0f" % (percentile(secs, 0.5) * 1000))
        figure("nurse_%s_max_ms_%s" % (what, when), "%.0f" % (max(secs, default=0) * 1000))
        statuses = sorted(set(r[2] for r in self.results))
        print("     nurse's statuses %s: %s" % (when, statuses))
        return rate


def threaded(n, body):
    """An attack of n threads, each running body(k, stop, tally) until it ends or stop
    is set; tally(key) counts one answer (a status, or anything hashable); the attack
    returns the counts."""
    def attack(stop):
        counts, lock = {}, threading.Lock()

        def tally(key):
            with lock:
                counts[key] = counts.get(key, 0) + 1
        ts = [threading.Thread(target=body, args=(k, stop, tally), daemon=True) for k in range(n)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(600)
        return counts
    return attack


def _attack_child(attack, stop, out):
    out.put(attack(stop) or {})


def run_attack(site, attack, seconds, nurse_every=0.5, until_done=False, cookie=None):
    """A quiet phase (3 s of nurse logins) then `attack(stop_event)` in a process of
    its own (so that the attacker's threads do not slow the nurse's client) for
    `seconds` (until_done: until the attack ends by itself, at most `seconds`) with the
    nurse logging in meanwhile (with `cookie`: using that session). Figures for both phases; returns
    (nurse success rate during the attack, gate latencies during it, the Nurse, what
    attack returned)."""
    t0 = time.monotonic()
    quiet = Nurse(site, every=nurse_every, cookie=cookie)
    quiet.start()
    time.sleep(3)
    quiet.stop()
    t1 = time.monotonic()
    quiet.report("quiet")
    site.gate_latency(t0, t1, "quiet")
    ctx = multiprocessing.get_context("fork")
    stop, out = ctx.Event(), ctx.Queue()
    attacker = ctx.Process(target=_attack_child, args=(attack, stop, out), daemon=True)
    attacker.start()
    time.sleep(1.0)  # the attack is under way before the nurse tries
    nurse = Nurse(site, every=nurse_every, cookie=cookie)
    t2 = time.monotonic()
    nurse.start()
    if until_done:
        attacker.join(seconds)
    else:
        time.sleep(seconds)
    nurse.stop()
    t3 = time.monotonic()
    stop.set()
    try:
        result = out.get(timeout=90 if attacker.is_alive() else 5)
    except queue.Empty:
        result = {}
    attacker.join(10)
    if attacker.is_alive():
        attacker.kill()
    rate = nurse.report("attack")
    lat = site.gate_latency(t2, t3, "attack")
    return rate, lat, nurse, result


def check_gate(lat):
    """The gate's decisions while the attack ran: shown, none late."""
    check(len(lat) > 0, "the gate kept deciding during the attack (%d decisions)" % len(lat))
    check(lat and max(lat) <= 1100.0, "every gate decision within 1.1 s during the attack "
          "(max %.1f ms)" % (max(lat) if lat else float("nan")))


def main(code, body):
    """Runs body(site) on a started busy Site, stops it, exits with the checks' verdict."""
    site = Site(code)
    try:
        if site.start():
            body(site)
    finally:
        site.stop()
    gslib.finish()
