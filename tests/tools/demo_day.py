#!/usr/bin/env python3
"""`make demo`: a whole simulated school day in a few minutes (python3 stdlib only).

    demo_day.py --build build --dir build/demo [--seed 2020] [--port-base 15020]
                [--short] [--keep-running]

A school of 800 students in 24 classes and 60 staff (Chinese names), two gates with
two lanes each, served by gatescreen-sim over Modbus TCP, and a west gate whose lane
is a face/thermal terminal (gatescreen-sim playing a Hikvision terminal; gatescreend
reads its alertStream). The check windows are
moved to "now": the morning window is open for the next two to three minutes, the
absence sweep follows 15 s after it closes, then a one-minute noon window, and the
day's figures at its end. This script plays the school: it sends the arrivals to
the simulator (a few fevers, invalid readings, visitors with unknown cards,
absentees, latecomers, children back after an illness) and does what the nurse
does with the command-line tool (rechecks, referral outcomes, absence causes, a
certificate, a manual check), and at the end downloads the day's paper registers as
CSV and prints them from the page with headless Chromium to PDF (node and
tests/browser/print_registers.js; when they cannot be had the demo says why and goes
on). The daemon prints each lane's lights on the console;
lines starting with "demo:" say what the school is doing. At the end it prints the
day's figures and where the database is.

The school's web page runs on HTTPS (a certificate from tests/tools/make_certs.py)
with the users nurse and gate, and the bureau's side (demo_bureau.py) on a private
PostgreSQL: the demo school enrolled with the real bundle, so its summaries and
notices go to the collector over mutual TLS, among 60 synthetic schools with 30 days
of history. Ports: the simulator on --port-base, the web page and the collector on
the two after it, the simulated terminal's alertStream on the third; a taken one is refused before anything starts. At a terminal (or
with --keep-running) everything keeps running at the end until Ctrl-C; whatever
ends the script stops the programs and PostgreSQL.
"""
import argparse
import datetime
import glob
import heapq
import importlib.util
import http.client
import itertools
import json
import os
import pwd
import queue
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

import demo_bureau
import make_certs

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
LANES = [("east-1", "ir-east-1"), ("east-2", "ir-east-2"),
         ("north-1", "ir-north-1"), ("north-2", "ir-north-2"), ("west-1", "face-west-1")]
# Lanes served by a face terminal: people known by face (the roster id), one
# measurement each; invalid readings, remeasures and unknown cards go elsewhere.
TERMINAL_LANES = {"west-1"}
TERMINAL_PASSWORD = "demo-face-2020"
NURSE = "校医王老师"
# The web page's demo users, made with `gatescreen user add` (password on stdin).
LOGINS = (("nurse", "nurse", "demo-nurse-2020"), ("gate", "gate", "demo-gate-2020"))
DEMO_CODE, DEMO_COUNTY = "DEMO001", "魏都区"
# The bureau's page (issue 17): a city officer sees every county, a county officer
# only the demo school's.
OFFICERS = (("officer", "city", None, "demo-officer-2020"),
            ("weidu", "county", DEMO_COUNTY, "demo-county-2020"))
LANE_GAP = 0.35          # seconds between two people at one lane
# The school calendar (issue 19): two arrival slots, and a grade that comes back tomorrow.
EARLY_GRADES, LATER_GRADES = ("一年级", "二年级", "三年级"), ("四年级", "五年级")
NOT_BACK = "六年级"


def say(text):
    print("demo: " + text, flush=True)


# ---- the school's clock -----------------------------------------------------------

def school_zone():
    """Asia/Shanghai, unless the day there ends within the demo: then a fixed zone
    where it is morning, so that no window crosses midnight."""
    utc = datetime.datetime.now(datetime.timezone.utc)
    local = utc + datetime.timedelta(hours=8)
    if local.hour < 23 or local.minute < 45:
        return "Asia/Shanghai", local
    off = (9 - utc.hour) % 24
    off = off - 24 if off > 14 else off
    zone = "Etc/GMT" if off == 0 else ("Etc/GMT-%d" % off if off > 0 else "Etc/GMT+%d" % -off)
    return zone, utc + datetime.timedelta(hours=off)


class Day:
    """The day's times, as local clock texts and as time.time() instants. short: a
    morning of 50 s to 110 s and no noon window (the demo's test)."""

    def __init__(self, short=False):
        self.zone, local = school_zone()
        now = time.time()
        start = local.replace(second=0, microsecond=0)
        minute = datetime.timedelta(minutes=1)
        length = (1 if local.second < 10 else 2) if short else 3
        self.morning = (start, start + length * minute)
        self.noon = None if short else (self.morning[1] + minute, self.morning[1] + 2 * minute)
        self.end = self.morning[1] + minute if short else self.noon[1]
        self.grace = 15
        self.today = local.strftime("%Y-%m-%d")
        self.yesterday = (local - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
        self.at = lambda dt: now + (dt - local).total_seconds()

    def windows(self):
        f = lambda dt: dt.strftime("%H:%M")
        noon = "noon = %s-%s\n" % (f(self.noon[0]), f(self.noon[1])) if self.noon else ""
        return ("[windows]\nmorning = %s-%s\n%sabsence_grace = %ds\ndays = mon-sun\n"
                % (f(self.morning[0]), f(self.morning[1]), noon, self.grace),
                "[upstream]\nday_end = %s\n" % f(self.end))

    def slots(self):
        """Staggered arrival (错峰上学): the lower grades in the morning's first minute,
        the others after them (one slot for everyone named when the morning is one
        minute, the short demo's); the top grade is not back yet (分批开学)."""
        f = lambda dt: dt.strftime("%H:%M")
        start, end = self.morning
        split = start + datetime.timedelta(minutes=1)
        first = "%s-%s" % (f(start), f(split if split < end else end))
        text = "".join("[grade %s]\nslot = %s\n" % (g, first) for g in EARLY_GRADES)
        if split < end:
            text += "".join("[grade %s]\nslot = %s-%s\n" % (g, f(split), f(end))
                            for g in LATER_GRADES)
        tomorrow = (datetime.date.fromisoformat(self.today) + datetime.timedelta(days=1))
        return text + "[grade %s]\nreturn = %s\n" % (NOT_BACK, tomorrow.isoformat())


def write_config(path, day, ports, certs):
    """config/demo.conf with the day's windows, the demo's ports and the web page on
    HTTPS; `gatescreen upstream enrol` adds the bureau to its [upstream] later."""
    with open(os.path.join(SRC, "config/demo.conf"), encoding="utf-8") as f:
        text = f.read()
    windows, upstream = day.windows()
    head, rest = text.split("[windows]\n", 1)
    rest = rest.split("\n\n", 1)[1]  # drop the file's own windows
    text = head + windows + "\n" + rest + "\n" + upstream + "\n" + day.slots()
    text = text.replace("timezone = Asia/Shanghai", "timezone = " + day.zone)
    text = text.replace("tcp = 127.0.0.1:15020", "tcp = 127.0.0.1:%d" % ports["sim"])
    text = text.replace("#demo: ", "").replace("#demo:\n", "\n")  # the face terminal
    text = text.replace("isapi_port = 15023", "isapi_port = %d" % ports["terminal"])
    pw = os.path.join(os.path.dirname(path), "face-west-1.pw")
    with open(os.open(pw, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
        f.write(TERMINAL_PASSWORD + "\n")
    text = text.replace("[web]\nenabled = no\n", "[web]\nenabled = yes\nlisten = 127.0.0.1\n"
                        "port = %d\ntls_cert = %s\ntls_key = %s\n"
                        % (ports["web"], certs["server"], certs["server.key"]))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


# ---- the programs ---------------------------------------------------------------

class School:
    def __init__(self, build, folder):
        self.build, self.dir = build, folder
        self.conf = os.path.join(folder, "demo.conf")
        self.db = os.path.join(folder, "ledger.db")
        self.sim = self.daemon = None
        self.replies = queue.Queue()

    def cli(self, *args, show=True):
        r = subprocess.run([os.path.join(self.build, "gatescreen"), "-c", self.conf, *args],
                           capture_output=True, text=True)
        if show:
            for line in (r.stdout + r.stderr).strip().splitlines():
                print("      " + line, flush=True)
        return r

    def nurse(self, what, *args):
        say(what)
        return self.cli(*args, "--by", NURSE)

    def start_sim(self):
        self.sim = subprocess.Popen(
            [os.path.join(self.build, "gatescreen-sim"), "-c", self.conf],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(os.path.join(self.dir, "sim.log"), "w"), text=True,
            start_new_session=True)
        threading.Thread(target=self._read_sim, daemon=True).start()
        try:
            ready = self.replies.get(timeout=10) == "ready"
        except queue.Empty:
            ready = False
        if not ready:
            with open(os.path.join(self.dir, "sim.log"), encoding="utf-8") as f:
                sys.exit("demo: the simulator did not start:\n" + f.read())

    def _read_sim(self):
        for line in self.sim.stdout:
            self.replies.put(line.strip())

    def device(self, command):
        self.sim.stdin.write(command + "\n")
        self.sim.stdin.flush()
        reply = self.replies.get(timeout=10)
        if reply != "ok":
            say("simulator: %s -> %s" % (command, reply))

    def start_daemon(self):
        log = open(os.path.join(self.dir, "gatescreend.log"), "w")
        self.daemon = subprocess.Popen(
            [os.path.join(self.build, "gatescreend"), "-f", "-c", self.conf],
            stdout=None, stderr=log, start_new_session=True)
        log_path = os.path.join(self.dir, "gatescreend.log")
        for _ in range(100):
            with open(log_path, encoding="utf-8") as f:
                text = f.read()
            devices = len(LANES) - len(TERMINAL_LANES)
            if (text.count(": state ok") >= devices and "web: serving" in text
                    and text.count("alertStream open") >= len(TERMINAL_LANES)):
                return
            if self.daemon.poll() is not None:
                sys.exit("demo: gatescreend did not start (see %s)" % log_path)
            time.sleep(0.1)

    def stop(self):
        for p in (self.daemon, self.sim):
            if p and p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


# ---- the day's plan -------------------------------------------------------------

def load_roster(path):
    people = []
    with open(path, encoding="utf-8") as f:
        next(f)
        for line in f:
            ext, kind, name, grade, cls, card, active = line.rstrip("\n").split(",")
            people.append({"id": ext, "kind": kind, "name": name, "grade": grade, "class": cls,
                           "card": card})
    return people


class Plan:
    """Timed actions. Arrivals are wished for at a time, then given a lane in time
    order (a lane takes one person every LANE_GAP seconds), so a busy lane makes
    people wait as at a real gate."""

    def __init__(self, school, rng):
        self.school, self.rng = school, rng
        self.items = []
        self.wanted = []  # heap of (at, seq, arrival)
        self.seq = itertools.count()
        self.lane_free = {lane: 0.0 for lane, _ in LANES}
        self.down = {}  # lane -> (from, to): its device is silent

    def add(self, at, fn):
        self.items.append((at, len(self.items), fn))

    def arrival(self, at, person, temp, kind="arrive", then=None, remeasure=None):
        """then(t) runs when the arrival has its time t; remeasure: the temperature
        of a second measurement at the same lane (after an invalid one)."""
        heapq.heappush(self.wanted, (at, next(self.seq), {
            "person": person, "temp": temp, "kind": kind, "then": then,
            "remeasure": remeasure}))

    def _lane_for(self, at, a):
        face = a["kind"] == "arrive" and a["remeasure"] is None and "id" in a["person"]
        up = [lane for lane, _ in LANES
              if not self.down.get(lane, (0, 0))[0] <= at <= self.down.get(lane, (0, 0))[1]
              and (face or lane not in TERMINAL_LANES)]
        lane = min(up, key=lambda ln: (max(self.lane_free[ln], at), self.rng.random()))
        return lane, max(self.lane_free[lane], at)

    def _command(self, kind, lane, temp, card, person=None):
        if lane in TERMINAL_LANES:  # the terminal knows the face: the roster id
            return "face %s id=%s temp=%.1f" % (dict(LANES)[lane], person, temp)
        return "%s %s temp=%.2f" % (kind, dict(LANES)[lane], temp) + (" card=%s" % card if card else "")

    def assign(self):
        while self.wanted:
            at, _, a = heapq.heappop(self.wanted)
            lane, t = self._lane_for(at, a)
            card = a["person"]["card"]
            c = self._command(a["kind"], lane, a["temp"], card, a["person"].get("id"))
            self.add(t, lambda c=c: self.school.device(c))
            self.lane_free[lane] = t + LANE_GAP
            if a["remeasure"] is not None:
                again = self._command("arrive", lane, a["remeasure"], card)
                self.add(t + 1.2, lambda c=again: self.school.device(c))
                self.lane_free[lane] = t + 1.2 + LANE_GAP
            if a["then"]:
                a["then"](t)

    def run(self):
        self.assign()
        for at, _, fn in sorted(self.items, key=lambda i: (i[0], i[1])):
            delay = at - time.time()
            if delay > 0:
                time.sleep(delay)
            fn()


def normal_temp(rng):
    return round(rng.uniform(36.0, 37.1), 2)


class Story:
    """Who does what today."""

    def __init__(self, people, rng):
        # The grade not back yet stays at home: neither expected nor absent.
        students = [p for p in people if p["kind"] == "student" and p["grade"] != NOT_BACK]
        adults = [p for p in people if p["kind"] != "student"]
        rng.shuffle(students)
        self.rng = rng
        self.returning = students[:3]          # ill yesterday: back today (two) or not (one)
        self.on_leave = students[3:5]          # leave registered in advance
        cluster_class = students[5]["class"]
        same = [p for p in students[5:] if p["class"] == cluster_class]
        self.cluster = same[:3]                # ill at home today, one class: a cluster
        rest = [p for p in students[5:] if p not in self.cluster]
        self.absent = rest[:14]                # absent, cause phoned in later or never
        self.late = rest[14:18]                # come after the morning window
        self.fevers = rest[18:23]              # screen positive at the gate
        self.invalid = rest[23:40]             # first reading invalid, measured again
        self.side_door = rest[40]              # came in by the side door: manual check
        self.observed = rest[41]               # under health observation: sent to the nurse
        self.on_time = rest[41:] + adults + self.invalid


def plan_morning(plan, school, story, day, t0):
    rng = story.rng
    end = day.at(day.morning[1]) - 12
    crowd = story.on_time[:]
    rng.shuffle(crowd)
    # The early slot's grades come first (a few of them late for their slot).
    crowd.sort(key=lambda p: p.get("grade") not in EARLY_GRADES)
    span = end - t0 - 5
    for i, p in enumerate(crowd):
        at = t0 + span * i / len(crowd)
        if p in story.invalid:
            plan.arrival(at, p, round(rng.uniform(28.0, 33.5), 2), kind="invalid",
                         remeasure=normal_temp(rng))
        else:
            plan.arrival(at, p, normal_temp(rng))
    for k, p in enumerate(story.fevers):
        confirmed, outcome = k < 2, ("sent-home", "hospital")[k % 2]
        plan.arrival(t0 + span * (k + 1) / (len(story.fevers) + 2), p,
                     round(rng.uniform(37.6, 39.2), 2),
                     then=lambda t, p=p, c=confirmed, o=outcome: plan_recheck(plan, school, p, t + 12, c, o))
    for k in range(6):
        plan.arrival(t0 + span * (k + 0.5) / 6, {"card": str(7000000 + k * 7919)}, normal_temp(rng))
    for k in range(2):
        plan.arrival(t0 + span * (k + 1) / 3, {"card": ""}, normal_temp(rng))
    plan_returns(plan, school, story, t0, span)
    silent = t0 + span * 0.45
    plan.down["north-2"] = (silent - 1, silent + 12)
    plan.add(silent, lambda: (say("the north-2 screening unit stops answering for 8 s"),
                              school.device("silent ir-north-2 8s")))
    p = story.side_door
    plan.add(t0 + span * 0.6, lambda: school.nurse(
        "%s %s came in by the side door; the class teacher measures her" % (p["id"], p["name"]),
        "check", p["id"], "36.6", "--instrument", "axillary"))


def plan_recheck(plan, school, p, at, confirmed, outcome):
    temp = "38.4" if confirmed else "36.9"
    who = "%s %s" % (p["id"], p["name"])
    plan.add(at, lambda: school.nurse("the nurse rechecks %s with an ear thermometer" % who,
                                      "recheck", p["id"], temp, "--instrument", "ear"))
    if confirmed:
        plan.add(at + 15, lambda: school.nurse(
            "%s leaves the isolation room: %s" % (who, outcome.replace("-", " ")),
            "referral", p["id"], "--outcome", outcome))


def plan_returns(plan, school, story, t0, span):
    rng = story.rng
    back, waiting = story.returning[0], story.returning[1]

    def certificate(t):
        plan.add(t + 6, lambda: school.nurse(
            "%s %s brings a return-to-school certificate" % (back["id"], back["name"]),
            "certificate", back["id"], "--issuer", "市第一人民医院"))
        plan.arrival(t + 14, back, normal_temp(rng))
    plan.arrival(t0 + 8, back, normal_temp(rng), then=certificate)
    plan.arrival(t0 + span * 0.3, waiting, normal_temp(rng))


def plan_after_morning(plan, school, story, day):
    rng = story.rng
    close = day.at(day.morning[1])
    sweep = close + day.grace
    plan.arrival(close + 3, story.late[0], normal_temp(rng))
    plan.arrival(close + 6, story.late[1], normal_temp(rng))
    for k, p in enumerate(story.late[2:]):
        plan.arrival(sweep + 8 + 3 * k, p, normal_temp(rng))
    for k, p in enumerate(story.cluster):
        symptoms = ("fever,cough", "fever,sore_throat", "fever")[k]
        plan.add(sweep + 5 + k, lambda p=p, s=symptoms: school.nurse(
            "a parent phones: %s %s (%s) is ill at home with %s" % (p["id"], p["name"], p["class"], s),
            "absence", p["id"], "--cause", "illness", "--symptoms", s, "--onset", day.today,
            "--clinic", "yes"))
    ill_again = story.returning[2]
    plan.add(sweep + 9, lambda: school.nurse(
        "%s %s is still ill at home" % (ill_again["id"], ill_again["name"]),
        "absence", ill_again["id"], "--cause", "illness", "--symptoms", "cough"))
    for k, p in enumerate(story.absent[:4]):
        plan.add(sweep + 11 + k, lambda p=p: school.nurse(
            "%s %s: family matter" % (p["id"], p["name"]), "absence", p["id"], "--cause", "personal"))
    p = story.absent[4]
    plan.add(sweep + 16, lambda: school.nurse(
        "no answer at %s %s's home yet: follow-up noted" % (p["id"], p["name"]),
        "followup", p["id"], "phoned twice, no answer; try again at noon"))


def plan_noon(plan, school, story, day):
    rng = story.rng
    start, end = day.at(day.noon[0]) + 2, day.at(day.noon[1]) - 8
    crowd = [p for p in story.on_time if p["kind"] == "student"]
    crowd = rng.sample(crowd, 300)
    for i, p in enumerate(crowd):
        plan.arrival(start + (end - start) * i / len(crowd), p, normal_temp(rng))


def before_school(school, story, day):
    for p in story.returning:
        school.cli("absence", p["id"], "--date", day.yesterday, "--cause", "illness",
                   "--symptoms", "fever", "--by", NURSE, show=False)
    say("yesterday %s were absent with fever: they need a certificate to come back"
        % ", ".join("%s %s" % (p["id"], p["name"]) for p in story.returning))
    for p in story.on_leave:
        school.nurse("leave registered for %s %s" % (p["id"], p["name"]), "leave", p["id"],
                     "--from", day.today, "--to", day.today, "--reason", "家中有事")
    p = story.observed
    school.nurse("%s %s is a close contact: under health observation for 7 days, the gate "
                 "sends them to the nurse" % (p["id"], p["name"]), "observe", p["id"],
                 "--reason", "close-contact", "--days", "7", "--note", "家长同事确诊")


def web_call(ports, certs, method, path, body=None, headers=None):
    """One request to the school's web page: (status, Set-Cookie, body bytes)."""
    ctx = ssl.create_default_context(cafile=certs["ca"])
    c = http.client.HTTPSConnection("127.0.0.1", ports["web"], context=ctx, timeout=30)
    try:
        h = dict(headers or {})
        if body is not None:
            h["Content-Type"] = "application/json"
        c.request(method, path, None if body is None else json.dumps(body), h)
        r = c.getresponse()
        return r.status, r.getheader("Set-Cookie") or "", r.read()
    finally:
        c.close()


def web_login(ports, certs, login):
    """Logs in as one of LOGINS: the headers of a session (cookie, CSRF token), or
    None when refused (said)."""
    name, _, password = login
    st, cookie, raw = web_call(ports, certs, "POST", "/api/v1/login",
                               {"name": name, "password": password})
    if st != 200:
        say("the %s login failed (%d %s)" % (name, st, raw.decode(errors="replace")))
        return None
    return {"Cookie": cookie.split(";")[0], "X-CSRF-Token": json.loads(raw)["csrf"]}


def visitor_at_gate(ports, certs):
    """Gate staff register a repair worker on the page's API (as the Visitors page
    does): log in as the gate user, then POST /api/v1/visitors."""
    session = web_login(ports, certs, LOGINS[1])
    if not session:
        return
    _, _, raw = web_call(ports, certs, "POST", "/api/v1/visitors", {
        "name": "陈师傅", "phone": "138 1234 5678", "organisation": "自来水公司",
        "reason": "维修水管", "host": "总务处", "approved_by": "校长", "temp_centi": 3650},
        session)
    j = json.loads(raw or b"{}")
    say("gate staff register a visitor on the page: %s" % (j.get("message") or j))


def registers_download(ports, certs, folder, day):
    """The nurse downloads the day's paper registers (晨午检, 因病缺勤) as the
    Registers page offers them; printed from the page they are A4, a class a page."""
    session = web_login(ports, certs, LOGINS[0])
    if not session:
        return
    st, _, raw = web_call(ports, certs, "GET",
                          "/api/v1/export/registers.csv?date=%s" % day, None, session)
    path = os.path.join(folder, "register-%s.csv" % day)
    if st == 200:
        with open(path, "wb") as f:
            f.write(raw)
        say("the day's registers (晨午检登记表, 因病缺勤登记表) as CSV: %s (the page's "
            "Registers view prints them, a class a page)" % path)
    else:
        say("registers: %d %s" % (st, raw.decode(errors="replace")))


def browser_tools(log_path):
    """tests/browser/run.py's find_tools(): Chromium, node and playwright-core (npm ci
    when missing, its output into log_path): (environment, None) or (None, why)."""
    spec = importlib.util.spec_from_file_location("browser_run",
                                                  os.path.join(SRC, "tests/browser/run.py"))
    browser_run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(browser_run)
    with open(log_path, "w") as log:
        found = browser_run.find_tools(npm_log=log)
    if os.path.getsize(log_path) == 0:
        os.remove(log_path)  # npm ci was not needed
    return found


def registers_print(ports, certs, folder, day):
    """The nurse prints the day's paper registers from the page's Registers view:
    headless Chromium over HTTPS, logged in as the nurse, to PDF (A4, a class a page;
    tests/browser/print_registers.js checks the pages and headings). The PDF's path,
    or None with the reason said: the demo never pretends it printed."""
    path = os.path.join(folder, "register-%s.pdf" % day)
    say("the nurse prints the day's registers from the page (headless Chromium, print to "
        "PDF)")
    missing = [t for t in ("pdfinfo", "pdftotext") if not shutil.which(t)]
    env, why = browser_tools(os.path.join(folder, "npm-ci.log"))
    if env is None or missing:
        why = why or "%s not found (Debian's poppler-utils, in .ci/packages)" % " and ".join(missing)
        say("the printed registers were NOT made: " + why)
        return None, why
    name, _, password = LOGINS[0]
    env["GS_PASSWORD"] = password
    try:
        r = subprocess.run([env["GS_NODE"], os.path.join(SRC, "tests/browser/print_registers.js"),
                            "https://127.0.0.1:%d/" % ports["web"], certs["ca"], name, day, path],
                           env=env, capture_output=True, text=True, timeout=180)
        out, rc = (r.stdout + r.stderr).strip(), r.returncode
    except subprocess.TimeoutExpired:
        out, rc = "no answer in 180 s", -1
    if rc != 0:
        why = out.splitlines()[-1] if out else "exit %d" % rc
        say("the printed registers were NOT made: " + why)
        return None, why
    pages = int(out.split()[1])
    say("the day's registers printed (晨午检登记表, 因病缺勤登记表; A4 portrait, %d pages, "
        "one per class, checked with pdfinfo and pdftotext): %s" % (pages, path))
    return path, None


def wait_for_day_end(school, day):
    say("waiting for the end of the school day (%s) and the day's figures"
        % day.end.strftime("%H:%M"))
    log = os.path.join(school.dir, "gatescreend.log")
    deadline = day.at(day.end) + 20
    while time.time() < deadline:
        with open(log, encoding="utf-8") as f:
            if "day %s:" % day.today in f.read():
                return
        time.sleep(0.5)


def slots_said(school, day):
    """The arrival slots as the bureau's summary has them, and the grade not back."""
    r = school.cli("summary", "--date", day.today, show=False)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        return say("the summary: " + r.stderr.strip())
    for slot in doc.get("arrival_slots", []):
        say("arrival slot %s %s-%s (错峰上学): %d expected, %d arrived, %d late for the slot"
            % (slot["group"], slot["start"], slot["end"], slot["expected"], slot["arrived"],
               slot["late"]))
    say("%s comes back tomorrow (分批开学): not expected today, not absent, not in the rates; "
        "%d expected in all" % (NOT_BACK, doc.get("expected", 0)))


def finale(school, day):
    print(flush=True)
    say("the nurse's queue at the end of the day:")
    school.cli("flags")
    say("cluster alerts:")
    school.cli("alerts")
    say("under health observation today:")
    school.cli("observations")
    say("the day's figures (the same numbers go to the bureau):")
    school.cli("day", "--date", day.today)
    slots_said(school, day)
    say("the ledger is %s; the daemon's log %s/gatescreend.log" % (school.db, school.dir))
    say("try: %s/gatescreen -c %s absences" % (school.build, school.conf))


# ---- the ports, the web page, the bureau ------------------------------------------

def demo_ports(base):
    """The Modbus simulator, the school's web page, the bureau's collector and page, and
    the simulated face terminal's alertStream."""
    if not 1 <= base <= 65531:
        sys.exit("demo: DEMO_PORT_BASE %d: give a port from 1 to 65531 (the demo uses it "
                 "and the four after it)" % base)
    return {"sim": base, "web": base + 1, "bureau": base + 2, "page": base + 3,
            "terminal": base + 4}


def check_ports(ports):
    """Before anything starts: every port free on 127.0.0.1 (as the servers bind them,
    with SO_REUSEADDR, so a connection closing in TIME_WAIT does not count)."""
    what = {"sim": "the Modbus simulator", "web": "the school's web page",
            "bureau": "the bureau's collector", "page": "the bureau's page",
            "terminal": "the simulated face terminal"}
    for name, port in ports.items():
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError as e:
            sys.exit("demo: port %d (for %s) is taken (%s): set DEMO_PORT_BASE, e.g. "
                     "make demo DEMO_PORT_BASE=%d (the demo uses it and the four after it)"
                     % (port, what[name], e.strerror, ports["sim"] + 1000))
        finally:
            s.close()


def add_users(school):
    """The web page's demo users through the real CLI, the password on stdin."""
    for name, role, password in LOGINS:
        r = subprocess.run([os.path.join(school.build, "gatescreen"), "-c", school.conf, "user",
                            "add", name, "--role", role, "--by", "demo"],
                           input=password + "\n", capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("demo: gatescreen user add %s: %s" % (name, r.stderr.strip()))


def demo_school(students):
    return {"code": DEMO_CODE, "county": DEMO_COUNTY, "kind": "小学", "name": "示范学校",
            "students": students, "teachers": 45, "staff": 15, "lanes": len(LANES), "noon": True,
            "contact": "王老师", "phone": "0374-5550100", "demo": True}


def start_bureau(bureau, schools, seed):
    bureau.setup()
    bureau.start()
    t0 = time.monotonic()
    for s in schools:
        s["bundle"] = bureau.enrol(s["code"], s["name"], s["county"], s["kind"],
                                   s["contact"], s["phone"])
    say("bureau: %d schools added and enrolled (gatescreen-bureau school add, school enrol: "
        "a certificate from the bureau's CA and a token each) in %.1f s"
        % (len(schools), time.monotonic() - t0))
    bureau.add_officers(OFFICERS)  # a county officer's county must have schools first
    summaries, notices, secs = demo_bureau.load_history(bureau, schools, seed)
    say("bureau: their last %d days uploaded over mutual TLS to the collector, as gate "
        "controllers send them: %d summaries and %d notices (referrals, cluster alerts) in %.1f s"
        % (demo_bureau.DAYS, summaries, notices, secs))
    say("bureau: the uploads arrived just now, so each report's first arrival was then set "
        "with psql (UPDATE summary_latest SET first_received_at) to the morning time the "
        "school would have sent it; %s never report before the 10:00 deadline; in %s the "
        "fevers and illness absences rise over the last 10 days"
        % (" and ".join(demo_bureau.LATE), demo_bureau.OUTBREAK))


def last_school_day(today):
    d = datetime.date.fromisoformat(today) - datetime.timedelta(days=1)
    while d.weekday() >= 5:
        d -= datetime.timedelta(days=1)
    return d.isoformat()


def banner(school, bureau, ports, day, certs):
    bcli = "%s/gatescreen-bureau -c %s" % (school.build, bureau.conf)
    back = lambda n: (datetime.date.fromisoformat(day.today)
                      - datetime.timedelta(days=n)).isoformat()
    lines = [
        "-" * 72,
        "the nurse's page: https://127.0.0.1:%d/" % ports["web"],
        "  its certificate is made for this demo by %s (CA %s): the browser warns once"
        % ("tests/tools/make_certs.py", certs["ca"]),
        "  logins: " + ", ".join("%s / %s" % (n, pw) for n, _, pw in LOGINS)
        + " (the gate role sees Gates only)",
        "the bureau: collector https://127.0.0.1:%d (its log %s)"
        % (ports["bureau"], bureau.log_path),
        "the bureau's page: https://127.0.0.1:%d/ (the same demo certificate)" % ports["page"],
        "  logins: " + ", ".join("%s / %s (%s)" % (n, pw, "%s officer of %s" % (r, c) if c
                                                   else "%s officer" % r)
                                 for n, r, c, pw in OFFICERS),
        "  its pull API, with the demo token:",
        "  " + bureau.curl("/v1/missing?day=%s&deadline=morning" % last_school_day(day.today)),
        "  " + bureau.curl("/v1/rollup?from=%s&to=%s&level=county" % (back(10), back(1))),
        "  " + bureau.curl("/v1/notices?unacknowledged=1&from=%s" % back(4)),
        "  and its command line on the same database:",
        "  %s missing --day %s --deadline morning" % (bcli, last_school_day(day.today)),
        "  %s report --from %s --to %s --level county --county %s"
        % (bcli, back(10), back(1), demo_bureau.OUTBREAK),
        "  %s report --day %s --level school --county %s" % (bcli, day.today, DEMO_COUNTY),
        "-" * 72]
    for line in lines:
        say(line)


def wait_for_outbox(school, timeout=60):
    """Until the school's uploader has sent everything queued (or parked it)."""
    end = time.time() + timeout
    while time.time() < end:
        line = outbox_line(school)
        if " 0 pending" in line:
            return line
        time.sleep(1)
    return outbox_line(school)


def outbox_line(school):
    """`gatescreen outbox`'s count line: outbox: N pending, N parked, N sent."""
    out = school.cli("outbox", show=False).stdout.splitlines()
    return ([line for line in out if line.startswith("outbox:")] or ["(no count)"])[0]


def bureau_finale(school, bureau, day):
    say("the school's outbox: " + wait_for_outbox(school))
    status, a = bureau.pull("/v1/rollup", **{"from": day.today, "to": day.today,
                                             "level": "school", "county": DEMO_COUNTY})
    row = [r for r in (a or {}).get("rows", []) if r["school"]["code"] == DEMO_CODE]
    if status != 200 or not row or not row[0]["revision"]:
        say("bureau: the demo school's summary of %s has not arrived (%d %s)"
            % (day.today, status, row))
    else:
        r = row[0]
        say("bureau: the demo school's summary of %s arrived: revision %d, morning checks "
            "%d of %d, fever screens %d, illness absences %d (GET /v1/rollup)"
            % (day.today, r["revision"], r["checks"]["morning"]["done"],
               r["checks"]["morning"]["expected"], r["fevers"]["screens"],
               r["absences"]["by_cause"]["illness"]))
    status, a = bureau.pull("/v1/notices", school=DEMO_CODE)
    for n in (a or {}).get("notices", []) if status == 200 else []:
        say("bureau: notice %s (%s, %s) received %s" % (n["notice_id"], n["type"],
                                                        n["class"], n["received_at"]))
    last = last_school_day(day.today)
    say("bureau: the morning deadline of %s (gatescreen-bureau missing --day %s --deadline "
        "morning):" % (last, last))
    for line in bureau.cli("missing", "--day", last, "--deadline", "morning").stdout.splitlines():
        print("      " + line, flush=True)


def artifacts(school, printed, why):
    """The closing list of what the demo left in its folder."""
    say("the demo's artifacts in %s:" % school.dir)
    for what, path in (("the ledger", school.db), ("the daemon's log", os.path.join(
            school.dir, "gatescreend.log")), ("the registers as CSV", glob.glob(os.path.join(
                school.dir, "register-*.csv")))):
        say("  %s: %s" % (what, ", ".join(path) if isinstance(path, list) else path))
    say("  the printed registers (PDF): " + (printed or "NOT made: " + why))


def hold(school, bureau):
    say("everything keeps running: open the pages above; Ctrl-C stops the school, the "
        "bureau and PostgreSQL")
    while all(p.poll() is None for p in (school.daemon, school.sim, bureau.proc)):
        time.sleep(1)
    say("a program stopped by itself: see the logs in %s" % school.dir)


def on_signal(signum, frame):
    raise KeyboardInterrupt  # SIGTERM, SIGHUP: stop everything as Ctrl-C does


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(SRC, "build"))
    ap.add_argument("--dir", default=os.path.join(SRC, "build/demo"))
    ap.add_argument("--seed", type=int, default=2020)
    ap.add_argument("--port-base", type=int, default=15020,
                    help="the Modbus simulator's port; the web page, the bureau's "
                         "collector, its page and the simulated face terminal take the four after it")
    ap.add_argument("--short", action="store_true",
                    help="a small school and a morning only (the demo's test)")
    ap.add_argument("--keep-running", action="store_true",
                    help="at the end wait for Ctrl-C (the default when stdin is a terminal)")
    args = ap.parse_args()
    build, folder = os.path.abspath(args.build), os.path.abspath(args.dir)
    ports = demo_ports(args.port_base)
    check_ports(ports)
    # Ctrl-C stops the demo also when started with SIGINT ignored (from a script's
    # background job, which make and ctest pass on); SIGTERM and SIGHUP as it does.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    demo_bureau.stop_left_over(os.path.join(folder, "bureau"))
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder)
    students, staff, classes = (200, 20, 8) if args.short else (800, 60, 24)
    school = School(build, folder)
    bureau = failed = None
    try:
        certs = make_certs.make_certs(os.path.join(folder, "certs"))
        say("the bureau: a private PostgreSQL under %s/bureau/pg, its CA (gatescreen-bureau "
            "ca init), the collector on 127.0.0.1:%d, 60 schools' history" % (folder, ports["bureau"]))
        bureau = demo_bureau.Bureau(build, os.path.join(folder, "bureau"), ports["bureau"], certs,
                                    page_port=ports["page"])
        schools = demo_bureau.make_schools(random.Random(args.seed)) + [demo_school(students)]
        start_bureau(bureau, schools, args.seed)
        day = Day(args.short)
        write_config(school.conf, day, ports, certs)
        roster = os.path.join(folder, "roster.csv")
        with open(roster, "w", encoding="utf-8") as f:
            subprocess.run([sys.executable, os.path.join(SRC, "tests/tools/make_roster.py"),
                            "--students", str(students), "--staff", str(staff), "--classes",
                            str(classes), "--seed", str(args.seed), "--all-cards"], stdout=f,
                           check=True)
        say("示范学校: %d students in %d classes, %d staff; gates 东门 and 北门, two lanes each; "
            "西门's lane is a face/thermal terminal (its alertStream)"
            % (students, classes, staff))
        school.cli("roster", "import", roster)
        add_users(school)
        enrol = ["upstream", "enrol", schools[-1]["bundle"]]
        if os.geteuid() == 0:  # the files would go to the daemon's system user otherwise
            enrol += ["--user", pwd.getpwuid(0).pw_name]
        say("the school installs the bureau's enrolment bundle:")
        if school.cli(*enrol).returncode != 0:
            sys.exit("demo: gatescreen upstream enrol failed")
        say("school zone %s; morning check %s-%s, absence sweep %d s later%s; the day ends "
            "at %s" % (day.zone, day.morning[0].strftime("%H:%M"),
                       day.morning[1].strftime("%H:%M"), day.grace,
                       ", noon check %s-%s" % (day.noon[0].strftime("%H:%M"),
                                               day.noon[1].strftime("%H:%M")) if day.noon else "",
                       day.end.strftime("%H:%M")))
        story = Story(load_roster(roster), random.Random(args.seed))
        before_school(school, story, day)
        school.start_sim()
        school.start_daemon()
        banner(school, bureau, ports, day, certs)
        say("gates open")
        plan = Plan(school, story.rng)
        plan_morning(plan, school, story, day, time.time() + 1)
        plan_after_morning(plan, school, story, day)
        if day.noon:
            plan_noon(plan, school, story, day)
        plan.run()
        visitor_at_gate(ports, certs)
        if not args.short:
            wait_for_day_end(school, day)
        finale(school, day)
        registers_download(ports, certs, school.dir, day.today)
        printed, why = registers_print(ports, certs, school.dir, day.today)
        bureau_finale(school, bureau, day)
        artifacts(school, printed, why)
        if args.keep_running or sys.stdin.isatty():
            hold(school, bureau)
    except KeyboardInterrupt:
        say("stopped")
    except RuntimeError as e:  # a program refused or failed: its words, no traceback
        failed = str(e)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop
        school.stop()
        if bureau:
            bureau.stop()
            say("the school, the bureau's collector and PostgreSQL are stopped")
    if failed:
        sys.exit("demo: " + failed)


if __name__ == "__main__":
    main()
