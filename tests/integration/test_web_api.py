"""The nurse's web API (docs/web-api.md: Today, People, Actions, Day report, CSV
exports) against the real daemon: users made with the real `gatescreen user add`,
a roster imported with the real CLI, yesterday made with the CLI (checks, the
absence sweep, illness absences that open a cluster alert) and today's arrivals
through the real gate (gatescreen-sim over Modbus TCP, the real lanes). Every
list is compared with what the CLI lists, every action with the rows and audit
entries it leaves, every refusal with a ledger left unchanged; a teacher sees
and acts on their class only; the CSV files are compared with the ledger row by
row; the day report's figures with `gatescreen day`."""
import csv
import datetime
import http.client
import io
import json
import os
import re
import sqlite3
import sys
from zoneinfo import ZoneInfo

import gslib
import https_receiver as hr
from gslib import check

PASSWORD = "correct-horse-battery-9"
CLASS1, CLASS2, CLASS3 = "一年级1班", "一年级2班", "三年级1班"
SCRIPT_NAME = "<script>alert(1)</script>"
FORMULA_NAME = '=HYPERLINK("http://x")'
COMMA_NAME = 'Comma, "Quote"'

ROSTER = '''\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,1001,1
S2,student,李四,一年级,一年级1班,1002,1
S3,student,王五,一年级,一年级1班,1003,1
S4,student,赵六,一年级,一年级2班,1004,1
S5,student,钱七,一年级,一年级2班,1005,1
S6,student,"<script>alert(1)</script>",一年级,一年级1班,1006,1
S7,student,"=HYPERLINK(""http://x"")",一年级,一年级1班,1007,1
S8,student,"Comma, ""Quote""",一年级,一年级1班,1008,1
S14,student,＝SUM(1),一年级,一年级1班,1014,1
S9,student,孙九,一年级,一年级1班,1009,1
S11,student,周十一,三年级,三年级1班,1011,1
S12,student,吴十二,三年级,三年级1班,1012,1
S13,student,郑十三,三年级,三年级1班,1013,1
T1,teacher,吴老师,,一年级1班,2001,1
'''

TABLES = ("people", "readings", "checks", "flags", "referrals", "absences", "absence_followups",
          "leaves", "certificates", "health_status_history", "alerts", "alert_cases",
          "day_figures", "audit_log")

STAFF_ROUTES = [("GET", "/api/v1/today"), ("GET", "/api/v1/people?q=S1"),
                ("GET", "/api/v1/people/S1"), ("POST", "/api/v1/people/S1/recheck"),
                ("POST", "/api/v1/people/S1/referral"), ("POST", "/api/v1/people/S1/absence"),
                ("POST", "/api/v1/people/S1/leave"), ("POST", "/api/v1/people/S1/certificate"),
                ("POST", "/api/v1/people/S1/check"), ("POST", "/api/v1/alerts/1/close"),
                ("GET", "/api/v1/day"), ("GET", "/api/v1/export/checks.csv"),
                ("GET", "/api/v1/export/absences.csv"), ("GET", "/api/v1/export/flags.csv")]


def config(sim_port, web_port, zone, now, upstream):
    start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(minutes=60)
    return """\
[school]
code = W001
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[windows]
morning = %s-%s
noon = 11:30-13:00
days = mon-sun

[screening]
threshold = 37.3
pair_window = 2s
hold_admit = 200ms
hold_fever = 300ms
buzzer = 100ms
hold_invalid = 200ms
hold_deny = 200ms
hold_nurse = 200ms
hold_no_measurement = 200ms

[web]
enabled = yes
listen = 127.0.0.1
port = %d

%s
[bus gw]
tcp = 127.0.0.1:%d
response_timeout = 200ms
retry_max = 1s

[lane a]
gate = 东门
indicator = console
[lane b]
gate = 北门
indicator = console

[device ir-a]
bus = gw
unit = 1
poll = 50ms
lane = a

[device ir-b]
bus = gw
unit = 2
poll = 50ms
lane = b
""" % (zone, gslib.hhmm(start), gslib.hhmm(end), web_port, upstream, sim_port)


# ---- HTTP ---------------------------------------------------------------------------------

class Resp:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def error(self):
        j = self.json()
        return j.get("error", "") if isinstance(j, dict) else ""


class Client:
    """One browser: the session cookie and the CSRF token of its login."""

    def __init__(self, port):
        self.port, self.cookie, self.csrf = port, None, None

    def request(self, method, path, body=None, raw=None, csrf=True, ctype="application/json"):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {}
        if self.cookie:
            headers["Cookie"] = "gs_session=" + self.cookie
        if method == "POST" and csrf and self.csrf:
            headers["X-CSRF-Token"] = self.csrf
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if isinstance(data, str):
            data = data.encode()
        if data is not None:
            headers["Content-Type"] = ctype
        conn.request(method, path, body=data, headers=headers)
        r = conn.getresponse()
        resp = Resp(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        conn.close()
        return resp

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def login(self, name):
        r = self.request("POST", "/api/v1/login", {"name": name, "password": PASSWORD}, csrf=False)
        m = re.search(r"gs_session=([^;]+)", r.headers.get("set-cookie", ""))
        if r.status == 200 and m:
            self.cookie, self.csrf = m.group(1), r.json()["csrf"]
        return r.status == 200 and m is not None


# ---- the school ---------------------------------------------------------------------------

class School:
    def __init__(self):
        self.zone_name, self.now = gslib.school_zone(9)
        self.zone = ZoneInfo(self.zone_name)
        self.today = self.now.date()
        self.day = self.today.isoformat()
        self.yesterday = (self.today - datetime.timedelta(days=1)).isoformat()
        self.tomorrow = (self.today + datetime.timedelta(days=1)).isoformat()
        self.dir, _ = gslib.scratch("")
        certs = hr.make_certs(os.path.join(self.dir, "certs"))
        hr.write_secrets(self.dir)
        # Nothing listens there: uploads stay pending, with their error, for the day report.
        upstream = hr.upstream_section("https://127.0.0.1:%d/" % gslib.free_port(), self.dir,
                                       certs)
        self.web_port = gslib.free_port()
        self.conf = os.path.join(self.dir, "gatescreen.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(config(gslib.free_port(), self.web_port, self.zone_name, self.now, upstream))
        self.db = os.path.join(self.dir, "ledger.db")

    def cli(self, *args, input_text=None):
        return gslib.cli(self.conf, *args, input_text=input_text)

    def must(self, *args):
        r = self.cli(*args)
        if r.returncode != 0:
            check(False, "gatescreen %s: %s" % (" ".join(args), r.stderr.strip()))
        return r

    def q(self, sql, args=()):
        return gslib.db_query(self.db, sql, args)

    def dump(self):
        return {t: self.q("SELECT * FROM %s ORDER BY rowid" % t) for t in TABLES}

    def local(self, ms):
        t = datetime.datetime.fromtimestamp(ms / 1000, self.zone)
        return t.strftime("%Y-%m-%d %H:%M:%S")


def prepare(s):
    roster = os.path.join(s.dir, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = s.cli("roster", "import", roster)
    check(r.returncode == 0, "roster imported: " + (r.stdout + r.stderr).strip())
    for name, role, cls in (("nurse1", "nurse", None), ("teach1", "teacher", CLASS1),
                            ("admin1", "admin", None), ("gate1", "gate", None)):
        args = ["user", "add", name, "--role", role] + (["--class", cls] if cls else [])
        r = s.cli(*args, input_text=PASSWORD + "\n")
        check(r.returncode == 0, "user %s (%s) added with the CLI: %s" % (name, role,
                                                                         r.stderr.strip()))
    # Yesterday: checks for most, the absence sweep for the rest, three illness
    # absences in one class (a cluster alert), one in S4's (a certificate needed).
    for who in ("S1", "S2", "S5", "S6", "S7", "S8", "S14"):
        s.must("check", who, "36.6", "--instrument", "ear", "--window", "morning",
               "--date", s.yesterday, "--by", "nurse0")
    s.must("sweep", "--date", s.yesterday, "--by", "nurse0")
    for who in ("S4", "S11", "S12", "S13"):
        s.must("absence", who, "--date", s.yesterday, "--cause", "illness", "--symptoms",
               "fever,cough", "--by", "nurse0")
    alerts = s.q("SELECT id, class FROM alerts")
    check(len(alerts) == 1 and alerts[0][1] == CLASS3, "yesterday's cluster alert: %r" % alerts)


def arrive(s, sim, dev, temp, card):
    before = s.q("SELECT count(*) FROM readings")[0][0]
    reply = sim.cmd("arrive %s temp=%s card=%d" % (dev, temp, card))
    ok = reply == "ok" and gslib.wait_until(
        lambda: s.q("SELECT count(*) FROM readings")[0][0] > before, 5)
    row = s.q("SELECT outcome FROM readings ORDER BY id DESC LIMIT 1")
    return row[0][0] if ok and row else None


def gate_morning(s, sim):
    """Today's arrivals through the real gate."""
    for dev, temp, card, want in (("ir-a", "36.50", 1001, "admit"), ("ir-b", "38.20", 1002, "fever"),
                                  ("ir-a", "38.00", 999999, "fever"),
                                  ("ir-b", "36.40", 1004, "see_nurse"),
                                  ("ir-a", "36.50", 1003, "see_nurse"),
                                  ("ir-b", "38.50", 1006, "fever"),
                                  ("ir-a", "38.30", 1005, "fever")):
        got = arrive(s, sim, dev, temp, card)
        check(got == want, "gate: card %d at %s °C -> %s (got %s)" % (card, temp, want, got))


# ---- the CLI's lists ------------------------------------------------------------------------

def cli_flags(s):
    out = s.must("flags").stdout
    return ([int(x) for x in re.findall(r"^  flag (\d+):", out, re.M)],
            [int(x) for x in re.findall(r"^  referral (\d+):", out, re.M)])


def cli_open_alerts(s):
    return [int(x) for x in re.findall(r"^alert (\d+): OPEN", s.must("alerts").stdout, re.M)]


def cli_unknown_absences(s, day):
    rows = [ln.split("\t") for ln in s.must("absences", "--date", day).stdout.splitlines()[1:-1]]
    return [(r[0], day) for r in rows if r[3] == "unknown"]


def today_matches_cli(s, c, what):
    t = c.get("/api/v1/today").json()
    flags, referrals = cli_flags(s)
    check([f["id"] for f in t["flags"]] == flags, "%s: Today's flags are `gatescreen flags`'s: %r"
          % (what, flags))
    check([r["id"] for r in t["referrals"]] == referrals,
          "%s: Today's referrals are `gatescreen flags`'s: %r" % (what, referrals))
    check([a["id"] for a in t["alerts"]] == cli_open_alerts(s),
          "%s: Today's alerts are the open ones of `gatescreen alerts`" % what)
    want = cli_unknown_absences(s, s.day) + cli_unknown_absences(s, s.yesterday)
    got = [(a["person"]["id"], a["day"]) for a in t["absences"]]
    check(got == want, "%s: Today's absences are the cause-unknown ones of `gatescreen "
          "absences` today and yesterday: %r" % (what, got))
    return t


# ---- the tests ------------------------------------------------------------------------------

def test_access(s, clients):
    anon = Client(s.web_port)
    for method, path in STAFF_ROUTES:
        check(anon.request(method, path, {} if method == "POST" else None).status == 401, "%s %s without a session: 401"
              % (method, path))
    for method, path in STAFF_ROUTES:
        r = clients["gate1"].request(method, path, {} if method == "POST" else None)
        check(r.status == 403, "%s %s as the gate role: 403 (%s)" % (method, path, r.error()))
    nurse = clients["nurse1"]
    before = s.dump()
    for method, path in STAFF_ROUTES:
        if method == "POST":
            r = nurse.request(method, path, {"note": "x"}, csrf=False)
            check(r.status == 403, "%s without X-CSRF-Token: 403" % path)
    check(s.dump() == before, "nothing written by refused requests")


def test_today(s, clients):
    nurse = clients["nurse1"]
    t = today_matches_cli(s, nurse, "morning")
    check(t["date"] == s.day, "Today is for today")
    check(t["totals"] == {k: len(t[k]) for k in ("flags", "referrals", "absences",
                                                 "part_absences", "returns", "alerts")},
          "totals count the lists: %r" % t["totals"])
    flags = {(f["person"] or {}).get("id"): f for f in t["flags"]}
    check(set(flags) == {"S2", "S6", "S5", None}, "open flags: S2, S6, S5 and the unknown card")
    unknown = flags.get(None, {})
    check(unknown.get("card") == 999999 and unknown.get("screen_centi") == 3800
          and unknown.get("lane") == "a", "the unknown card's flag: card, screen, lane: %r" % unknown)
    s2 = flags.get("S2", {})
    check(s2.get("person") == {"id": "S2", "name": "李四", "class": CLASS1}
          and s2.get("screen_centi") == 3820 and s2.get("threshold_centi") == 3730
          and s2.get("lane") == "b" and s2.get("day") == s.day and s2.get("opened_ms", 0) > 0,
          "S2's flag as PERSON, screen, threshold, lane, day: %r" % s2)
    check(flags.get("S6", {}).get("person", {}).get("name") == SCRIPT_NAME,
          "a name with <script> comes back as JSON text, byte for byte")
    check(nurse.get("/api/v1/today").headers.get("content-type", "").startswith("application/json"),
          "Today is application/json")
    returns = [(r["person"]["id"], r["absence_day"], r["cause"]) for r in t["returns"]]
    check(returns == [("S4", s.yesterday, "illness")],
          "returns without a certificate: S4, back after yesterday's illness: %r" % returns)
    check(t["returns"][0]["arrived_ms"] > 0 if t["returns"] else False, "with the arrival time")
    check([a["person"]["id"] for a in t["absences"]] == ["S3", "S9"],
          "yesterday's untraced absences (S3 came back, S9 did not): %r" % t["absences"])
    alert = t["alerts"][0] if t["alerts"] else {}
    check(alert.get("class") == CLASS3 and alert.get("rule") == "day" and alert.get("cases") == 3
          and alert.get("people") == ["S11", "S12", "S13"] and alert.get("day") == s.yesterday,
          "the cluster alert: class, rule, cases, people: %r" % alert)
    r = nurse.get("/api/v1/today?date=" + s.yesterday)
    check(r.status == 200 and r.json()["date"] == s.yesterday
          and r.json()["returns"] == [], "Today of yesterday: nobody came back yesterday")

    teacher = clients["teach1"].get("/api/v1/today").json()
    check(sorted(f["person"]["id"] for f in teacher["flags"]) == ["S2", "S6"],
          "a teacher sees their class's flags only (no other class, no unknown card)")
    check([a["person"]["id"] for a in teacher["absences"]] == ["S3", "S9"]
          and teacher["returns"] == [] and teacher["alerts"] == [],
          "a teacher sees their class's absences, no other class's returns or alerts")


def test_actions(s, clients):
    nurse = clients["nurse1"]
    r = nurse.post("/api/v1/people/S2/recheck", {"temp_centi": 3810, "instrument": "ear"})
    j = r.json() or {}
    ref = s.q("SELECT r.id, f.state, f.recheck_centi, f.recheck_instrument, f.recheck_by FROM "
              "referrals r JOIN flags f ON f.id = r.flag_id JOIN people p ON p.id = r.person_id "
              "WHERE p.external_id = 'S2'")
    check(r.status == 200 and j.get("confirmed") is True and ref
          and j.get("referral_id") == ref[0][0] and ref[0][1:] == ("confirmed", 3810, "ear", "nurse1"),
          "recheck that confirms: referral %r opened, flag settled by nurse1: %r" % (ref, j))
    check("fever confirmed; referral %d" % (ref[0][0] if ref else 0) in j.get("message", ""),
          "its message is the CLI's: %r" % j.get("message"))
    audit = s.q("SELECT actor, action, target FROM audit_log ORDER BY id DESC LIMIT 1")
    check(audit == [("nurse1", "recheck", "S2")], "audit: nurse1 rechecked S2: %r" % audit)
    today_matches_cli(s, nurse, "after the recheck")

    r = nurse.post("/api/v1/people/S2/referral", {"outcome": "sent_home", "note": "家长接回"})
    row = s.q("SELECT outcome, outcome_by, note FROM referrals WHERE id = ?", (ref[0][0],))
    check(r.status == 200 and r.json()["certificate_needed"] is True
          and row == [("sent_home", "nurse1", "家长接回")],
          "referral outcome sent home, with its note, by nurse1: %r" % row)
    today_matches_cli(s, nurse, "after the outcome")

    r = nurse.post("/api/v1/people/S6/recheck", {"temp_centi": 3680, "instrument": "oral"})
    check(r.status == 200 and r.json()["confirmed"] is False and r.json()["referral_id"] is None,
          "a recheck below the threshold clears the flag: %r" % r.json())
    check(s.q("SELECT health_status FROM people WHERE external_id = 'S6'") == [("normal",)],
          "S6 is normal again")

    r = nurse.post("/api/v1/people/S3/absence",
                   {"day": s.yesterday, "cause": "illness", "symptoms": ["cough", "fever"],
                    "onset_day": (s.today - datetime.timedelta(days=2)).isoformat(),
                    "clinic": "yes", "diagnosis": "流感", "note": "妈妈打电话"})
    row = s.q("SELECT cause, symptoms, clinic_visit, diagnosis, note, recorded_by FROM absences a "
              "JOIN people p ON p.id = a.person_id WHERE p.external_id = 'S3' AND a.day = ?",
              (s.yesterday,))
    check(r.status == 200 and r.json()["symptoms"] == ["fever", "cough"]
          and r.json()["previous_cause"] == "unknown" and r.json()["created"] is False
          and row == [("illness", "fever,cough", 1, "流感", "妈妈打电话", "nurse1")],
          "absence cause illness with symptoms (normalised), clinic, diagnosis: %r" % row)
    r = nurse.post("/api/v1/people/S9/absence", {"day": s.yesterday, "cause": "personal"})
    check(r.status == 200, "absence cause personal for S9")
    check(nurse.get("/api/v1/today").json()["absences"] == [], "no untraced absence left")

    r = nurse.post("/api/v1/people/S1/leave", {"from": s.tomorrow, "to": s.tomorrow,
                                               "reason": "家事"})
    check(r.status == 200 and s.q("SELECT from_day, to_day, reason, by_user FROM leaves") ==
          [(s.tomorrow, s.tomorrow, "家事", "nurse1")], "leave recorded: %r" % r.json())

    r = nurse.post("/api/v1/people/S4/certificate", {"issuer": "社区医院", "issued_day": s.day})
    j = r.json() or {}
    check(r.status == 200 and j.get("was_needed") is True and j.get("still_needed") is False
          and j.get("absence_day") == s.yesterday,
          "certificate for S4's illness absence of yesterday: %r" % j)
    check(s.q("SELECT issuer, issued_day, checked_by FROM certificates") ==
          [("社区医院", s.day, "nurse1")], "certificate row, checked by nurse1")
    returns = [r["person"]["id"] for r in nurse.get("/api/v1/today").json()["returns"]]
    check(returns == ["S3"], "S4 is no longer a return without a certificate; S3 is, now that "
          "yesterday was an illness: %r" % returns)

    r = nurse.post("/api/v1/people/S9/check", {"window": "morning", "temp_centi": 3660,
                                               "instrument": "oral"})
    check(r.status == 200 and r.json()["existed"] is False and
          s.q("SELECT c.temp_centi, c.instrument, c.by_user FROM checks c JOIN people p ON "
              "p.id = c.person_id WHERE p.external_id = 'S9' AND c.day = ?", (s.day,)) ==
          [(3660, "oral", "nurse1")], "manual check recorded: %r" % r.json())
    r = nurse.post("/api/v1/people/S8/check", {"window": "morning", "temp_centi": 3780,
                                               "instrument": "axillary", "day": s.day})
    check(r.status == 200 and isinstance(r.json()["flag_id"], int),
          "a manual check at a fever opens a flag: %r" % r.json())
    today_matches_cli(s, nurse, "after the manual checks")

    alert = s.q("SELECT id FROM alerts")[0][0]
    r = clients["teach1"].post("/api/v1/alerts/%d/close" % alert, {})
    check(r.status == 403 and r.error() == "not your class", "a teacher cannot close another "
          "class's alert: %s" % r.error())
    r = nurse.post("/api/v1/alerts/%d/close" % alert, {"note": "已报教育局"})
    check(r.status == 200 and s.q("SELECT closed_by FROM alerts") == [("nurse1",)],
          "alert closed by nurse1")
    check(s.q("SELECT actor, action, detail FROM audit_log ORDER BY id DESC LIMIT 2") ==
          [("nurse1", "alert note", "已报教育局"), ("nurse1", "alert close", "")],
          "the close and its note are in the audit log")
    today_matches_cli(s, nurse, "after the close")


def test_conflicts(s, clients):
    nurse = clients["nurse1"]
    cases = [("/api/v1/people/S1/recheck", {"temp_centi": 3800, "instrument": "ear"},
              "S1 has no open fever flag to recheck"),
             ("/api/v1/people/S1/referral", {"outcome": "hospital"},
              "S1 has no referral waiting for an outcome"),
             ("/api/v1/people/S9/check", {"window": "morning", "temp_centi": 3650,
                                          "instrument": "ear"}, "S9 already has a morning check"),
             ("/api/v1/alerts/%d/close" % s.q("SELECT id FROM alerts")[0][0], {},
              "is already closed (by nurse1)")]
    s1 = s.q("SELECT id FROM people WHERE external_id = 'S1'")[0][0]
    # A day S1 came late cannot be an illness absence (the ledger's rule).
    con = sqlite3.connect(s.db, timeout=10)
    came_ms = int(datetime.datetime.now().timestamp() * 1000) - 86400000  # about yesterday
    with con:
        con.execute("INSERT INTO absences (person_id, day, cause, recorded_ms, late_ms) "
                    "VALUES (?, ?, 'late', ?, ?)", (s1, s.yesterday, came_ms, came_ms))
    con.close()
    before = s.dump()
    cases.append(("/api/v1/people/S1/absence", {"day": s.yesterday, "cause": "illness"},
                  "came to school late"))
    for path, body, msg in cases:
        r = nurse.post(path, body)
        check(r.status == 409 and msg in r.error(), "409 %s: %s" % (path, r.error()))
    check(s.dump() == before, "the 409s wrote nothing")


def test_busy(s, clients):
    """Another writer holds the ledger's lock past the web's busy timeout (2 s): the
    action is 503 "try again" and writes nothing; once the lock is gone the same request
    gets the ledger's own answer."""
    nurse = clients["nurse1"]
    path, body = "/api/v1/people/S1/recheck", {"temp_centi": 3800, "instrument": "ear"}
    con = sqlite3.connect(s.db, timeout=10, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        before = s.dump()
        r = nurse.post(path, body)
        check(r.status == 503 and "try again" in r.error(),
              "503 for a locked ledger: %d %s" % (r.status, r.error()))
        check(s.dump() == before, "the 503 wrote nothing")
    finally:
        con.execute("ROLLBACK")
        con.close()
    r = nurse.post(path, body)
    check(r.status == 409, "the lock gone, the ledger's own answer: %d %s" % (r.status, r.error()))


def test_bad_requests(s, clients):
    nurse = clients["nurse1"]
    future = (s.today + datetime.timedelta(days=3)).isoformat()
    P = "/api/v1/people/S5/"
    cases = [
        (P + "recheck", {"instrument": "ear"}, "temp_centi is required"),
        (P + "recheck", {"temp_centi": "3800", "instrument": "ear"}, "temp_centi must be an integer"),
        (P + "recheck", {"temp_centi": 38.0, "instrument": "ear"}, "temp_centi must be an integer"),
        (P + "recheck", {"temp_centi": True, "instrument": "ear"}, "temp_centi must be an integer"),
        (P + "recheck", {"temp_centi": 2000, "instrument": "ear"}, "temp_centi must be an integer from"),
        (P + "recheck", {"temp_centi": 4500, "instrument": "ear"}, "temp_centi must be an integer from"),
        (P + "recheck", {"temp_centi": 3800}, "instrument is required"),
        (P + "recheck", {"temp_centi": 3800, "instrument": "mouth"}, "instrument must be one of"),
        (P + "recheck", {"temp_centi": 3800, "instrument": "gate"}, "instrument must be one of"),
        (P + "recheck", {"temp_centi": 3800, "instrument": "ear", "by": "x"}, 'unknown field "by"'),
        (P + "recheck", [3800], "must be a JSON object"),
        (P + "recheck", '{"temp_centi": 38', "bad JSON at line 1"),
        (P + "recheck", None, "needs a JSON object"),
        (P + "referral", {"outcome": "sent-home"}, "outcome must be one of sent_home"),
        (P + "referral", {}, "outcome is required"),
        (P + "referral", {"outcome": "hospital", "note": 5}, "note must be a string"),
        (P + "referral", {"outcome": "hospital", "note": "x" * 1001}, "note is longer than"),
        (P + "absence", {"cause": "illness"}, "day is required"),
        (P + "absence", {"day": "2026-13-01", "cause": "illness"}, "day '2026-13-01' is not a date"),
        (P + "absence", {"day": "yesterday", "cause": "illness"}, "is not a date"),
        (P + "absence", {"day": 20260101, "cause": "illness"}, "day must be a date"),
        (P + "absence", {"day": future, "cause": "illness"}, "is in the future"),
        (P + "absence", {"day": s.day, "cause": "unknown"}, "cause must be one of illness"),
        (P + "absence", {"day": s.day, "cause": "late"}, "cause must be one of"),
        (P + "absence", {"day": s.day, "cause": "illness", "symptoms": "fever"}, "symptoms must be a list"),
        (P + "absence", {"day": s.day, "cause": "illness", "symptoms": [1]}, "symptoms must be a list"),
        (P + "absence", {"day": s.day, "cause": "illness", "symptoms": ["sneezing"]},
         "symptom 'sneezing' is not one of"),
        (P + "absence", {"day": s.yesterday, "cause": "illness", "onset_day": s.day},
         "onset_day %s is after the absence day" % s.day),
        (P + "absence", {"day": s.day, "cause": "illness", "clinic": "maybe"}, "clinic must be one of"),
        (P + "absence", {"day": s.day, "cause": "illness", "diagnosis": "a\u0001b"},
         "diagnosis contains a control character"),
        (P + "leave", {"from": s.tomorrow, "to": s.day}, "ends before it begins"),
        (P + "leave", {"from": s.day}, "to is required"),
        (P + "leave", {"from": "2026-02-30", "to": s.day}, "from '2026-02-30' is not a date"),
        (P + "leave", {"from": s.day, "to": s.day, "reason": ["x"]}, "reason must be a string"),
        (P + "certificate", {"issuer": "", "issued_day": s.day}, "issuer must not be empty"),
        (P + "certificate", {"issuer": "   ", "issued_day": s.day}, "issuer must not be empty"),
        (P + "certificate", {"issuer": "医院", "issued_day": future}, "issued_day %s is in the future" % future),
        (P + "certificate", {"issuer": "医院"}, "issued_day is required"),
        (P + "certificate", {"issuer": "医院\n", "issued_day": s.day}, "control character"),
        (P + "check", {"window": "night", "temp_centi": 3650, "instrument": "ear"}, "window must be one of"),
        (P + "check", {"window": "evening", "temp_centi": 3650, "instrument": "ear"},
         "evening checks are not enabled"),
        (P + "check", {"window": "morning", "temp_centi": 9999, "instrument": "ear"}, "temp_centi must be"),
        (P + "check", {"window": "morning", "temp_centi": 3650, "instrument": "gate"}, "instrument must be"),
        (P + "check", {"window": "morning", "temp_centi": 3650, "instrument": "ear", "day": future},
         "is in the future"),
        (P + "check", {"window": "morning", "temp_centi": 3650}, "instrument is required"),
        ("/api/v1/alerts/1/close", {"note": 5}, "note must be a string"),
        ("/api/v1/alerts/abc/close", {}, "alert id in the path is not a number"),
        ("/api/v1/alerts/0/close", {}, "alert id in the path is not a number"),
        ("/api/v1/people/a%20b/recheck", {"temp_centi": 3800, "instrument": "ear"},
         "person id in the path is not a roster id"),
        ("/api/v1/people/a%01b/recheck", {"temp_centi": 3800, "instrument": "ear"},
         "person id in the path is not a roster id"),
        ("/api/v1/people/%s/recheck" % ("x" * 70), {"temp_centi": 3800, "instrument": "ear"},
         "person id in the path is not a roster id"),
    ]
    before = s.dump()
    for path, body, msg in cases:
        if isinstance(body, str):
            r = nurse.post(path, raw=body)
        else:
            r = nurse.post(path, body)
        check(r.status == 400 and msg in r.error(), "400 %s %s: %s" % (
            path.replace("/api/v1/", ""), json.dumps(body, ensure_ascii=False)[:60], r.error()))
    for path, msg in (("/api/v1/today?date=2026-02-30", "date '2026-02-30' is not a date"),
                      ("/api/v1/today?date=" + future, "is in the future"),
                      ("/api/v1/day?date=30.11.2026", "is not a date"),
                      ("/api/v1/people/S1?days=0", "days must be an integer from 1 to 120"),
                      ("/api/v1/people/S1?days=121", "days must be an integer from 1 to 120"),
                      ("/api/v1/people/S1?days=abc", "days must be an integer"),
                      ("/api/v1/people?q=", "q must be 1 to 64 bytes"),
                      ("/api/v1/people?q=%20%20", "q must be"),
                      ("/api/v1/people", "q must be"),
                      ("/api/v1/people?q=" + "x" * 65, "q must be"),
                      ("/api/v1/export/checks.csv?date=2026-1-1", "is not a date"),
                      ("/api/v1/export/flags.csv?class=", "class must be")):
        r = nurse.get(path)
        check(r.status == 400 and msg in r.error(), "400 GET %s: %s" % (path, r.error()))
    for path, body in (("/api/v1/people/NOBODY/recheck", {"temp_centi": 3800, "instrument": "ear"}),
                       ("/api/v1/alerts/9999/close", {})):
        r = nurse.post(path, body)
        check(r.status == 404, "404 %s: %s" % (path, r.error()))
    check(nurse.get("/api/v1/people/NOBODY").status == 404, "404 for an unknown person's page")
    check(s.dump() == before, "nothing written by any refused request")


def test_teacher(s, clients):
    t = clients["teach1"]
    before = s.dump()
    r = t.get("/api/v1/people/S5")
    check(r.status == 403 and r.error() == "not your class", "a teacher gets 403 for another "
          "class's person: %s" % r.error())
    for path, body in (("recheck", {"temp_centi": 3800, "instrument": "ear"}),
                       ("referral", {"outcome": "hospital"}),
                       ("absence", {"day": s.day, "cause": "personal"}),
                       ("leave", {"from": s.day, "to": s.day}),
                       ("certificate", {"issuer": "x", "issued_day": s.day}),
                       ("check", {"window": "morning", "temp_centi": 3650, "instrument": "ear"})):
        r = t.post("/api/v1/people/S5/" + path, body)
        check(r.status == 403 and r.error() == "not your class",
              "a teacher's %s for another class: 403" % path)
    r = t.request("GET", "/api/v1/export/checks.csv?class=%s" % pct(CLASS2))
    check(r.status == 403, "a teacher's CSV of another class: 403")
    check(s.dump() == before, "nothing written by the teacher's refused requests")
    found = t.get("/api/v1/people?q=S").json()["people"]
    check(found and all(p["class"] == CLASS1 for p in found),
          "a teacher's search finds their class only: %r" % [p["id"] for p in found])
    r = t.post("/api/v1/people/S7/check", {"window": "morning", "temp_centi": 3640,
                                           "instrument": "infrared"})
    check(r.status == 200 and s.q("SELECT actor, action, target FROM audit_log ORDER BY id DESC "
                                  "LIMIT 1") == [("teach1", "manual check", "S7")],
          "a teacher records a check in their class, audited as teach1")


def pct(text):
    import urllib.parse
    return urllib.parse.quote(text, safe="")


def test_people(s, clients):
    nurse = clients["nurse1"]
    r = nurse.get("/api/v1/people?q=" + pct("张三")).json()["people"]
    check([p["id"] for p in r] == ["S1"] and r[0]["cards"] == [1001] and r[0]["kind"] == "student"
          and r[0]["active"] is True, "search by name: %r" % r)
    r = nurse.get("/api/v1/people?q=1004").json()["people"]
    check(r and r[0]["id"] == "S4", "search by card number: %r" % [p["id"] for p in r])
    r = nurse.get("/api/v1/people?q=" + pct("三年级")).json()["people"]
    check([p["id"] for p in r] == ["S11", "S12", "S13"], "search by class: %r" % [p["id"] for p in r])
    r = nurse.get("/api/v1/people?q=s1").json()["people"]
    check(r and r[0]["id"] == "S1" and {"S11", "S12", "S13"} <= {p["id"] for p in r},
          "search by id, either case, the exact id first: %r" % [p["id"] for p in r])
    r = nurse.get("/api/v1/people?q=%25").json()["people"]
    check(r == [], "a % is text, not a wildcard")
    r = nurse.get("/api/v1/people?q=script").json()["people"]
    check([p["name"] for p in r] == [SCRIPT_NAME], "the <script> name is JSON text")
    check(nurse.get("/api/v1/people/%53%32").status == 200, "a percent-encoded id is decoded")

    p = nurse.get("/api/v1/people/S2?days=7").json()
    check(p["person"]["id"] == "S2" and p["person"]["status"] == "absent_ill"
          and p["person"]["needs_certificate"] is True and p["person"]["open_case"] is False
          and p["days"] == 7, "S2's page: sent home, needs a certificate: %r" % p["person"])
    check([(x["body_centi"], x["outcome"], x["lane"]) for x in p["readings"]] == [(3820, "fever", "b")],
          "S2's readings: the fever at lane b: %r" % p["readings"])
    check([(c["day"], c["source"], c["temp_centi"]) for c in p["checks"]] ==
          [(s.day, "gate", 3820), (s.yesterday, "manual", 3660)],
          "S2's checks, newest first, gate and manual: %r" % p["checks"])
    f = p["flags"][0] if p["flags"] else {}
    check(len(p["flags"]) == 1 and f["status"] == "confirmed" and f["recheck_centi"] == 3810
          and f["recheck_instrument"] == "ear" and f["referral_outcome"] == "sent_home",
          "S2's flag: confirmed by the recheck, referral sent home: %r" % f)
    check([(x["outcome"], x["outcome_by"]) for x in p["referrals"]] == [("sent_home", "nurse1")],
          "S2's referral: %r" % p["referrals"])
    p = nurse.get("/api/v1/people/S3").json()
    a = p["absences"][0] if p["absences"] else {}
    check(a.get("day") == s.yesterday and a.get("cause") == "illness"
          and a.get("symptoms") == ["fever", "cough"] and a.get("clinic") == "yes"
          and a.get("returned_day") == s.day and p["days"] == 30,
          "S3's absence: illness, symptoms, clinic, back today: %r" % a)
    p = nurse.get("/api/v1/people/S4").json()
    check([(c["issuer"], c["absence_day"]) for c in p["certificates"]] == [("社区医院", s.yesterday)],
          "S4's certificate, for yesterday's absence: %r" % p["certificates"])
    p = nurse.get("/api/v1/people/S1").json()
    check([(x["from"], x["to"], x["reason"]) for x in p["leave"]] == [(s.tomorrow, s.tomorrow, "家事")],
          "S1's leave: %r" % p["leave"])


def expected_csv(rows):
    """The ledger's values as the CSV writes them (a formula gets an apostrophe)."""
    return [["'" + v if v[:1] in ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠") else v
             for v in r] for r in rows]


def read_csv(r):
    text = r.body.decode("utf-8")
    return text, list(csv.reader(io.StringIO(text[1:], newline="")))


def centi(v):
    return "" if v is None else "%d.%02d" % (v // 100, v % 100)


def test_csv(s, clients):
    nurse = clients["nurse1"]
    r = nurse.get("/api/v1/export/checks.csv?date=" + s.yesterday)
    text, rows = read_csv(r)
    check(r.status == 200 and r.headers.get("content-type") == "text/csv; charset=utf-8",
          "checks.csv is text/csv; charset=utf-8")
    check(r.headers.get("content-disposition") == 'attachment; filename="checks-%s.csv"'
          % s.yesterday, "as an attachment: %r" % r.headers.get("content-disposition"))
    check(r.body.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM first")
    check(rows[0] == ["date", "window", "external_id", "name", "class", "temperature_c",
                      "threshold_c", "instrument", "recorded_by", "time"], "header row")
    db = s.q("SELECT c.day, c.window, p.external_id, p.name, p.class, c.temp_centi, "
             "c.threshold_centi, c.instrument, c.by_user, c.at_ms FROM checks c JOIN people p ON "
             "p.id = c.person_id WHERE c.day = ? ORDER BY c.window, p.class, p.external_id",
             (s.yesterday,))
    want = expected_csv([[d, w, e, n, c, centi(t), centi(th), i, b, s.local(at)]
                         for d, w, e, n, c, t, th, i, b, at in db])
    check(rows[1:] == want and len(want) == 7, "checks.csv rows are the ledger's (%d)" % len(want))
    check(",'＝SUM(1)," in text, "a full-width formula gets an apostrophe too")
    check("张三" in text and "\r\n" in text, "Chinese names intact, CRLF rows")
    check(',"\'=HYPERLINK(""http://x"")",' in text and ',"Comma, ""Quote""",' in text,
          "a formula gets an apostrophe; a comma and quotes are quoted, quotes doubled")

    r = nurse.get("/api/v1/export/absences.csv?date=" + s.yesterday)
    _, rows = read_csv(r)
    db = s.q("SELECT a.day, p.external_id, p.name, p.class, a.cause, a.symptoms, "
             "coalesce(a.onset_day, ''), CASE a.clinic_visit WHEN 1 THEN 'yes' WHEN 0 THEN 'no' "
             "ELSE '' END, a.diagnosis, a.note, a.late_ms, coalesce(a.returned_day, ''), "
             "a.recorded_by FROM absences a JOIN people p ON p.id = a.person_id WHERE a.day = ? "
             "ORDER BY p.class, p.external_id", (s.yesterday,))
    want = expected_csv([[d, e, n, c, ca, sy, o, cl, dg, nt, s.local(lt) if lt else "", rd, "0",
                          "", by] for d, e, n, c, ca, sy, o, cl, dg, nt, lt, rd, by in db])
    check(rows[0][:5] == ["date", "external_id", "name", "class", "cause"] and rows[1:] == want
          and len(want) == 7, "absences.csv rows are the ledger's (%d): %r" %
          (len(want), [(a, b) for a, b in zip(rows[1:], want) if a != b] or rows[1:3]))

    r = nurse.get("/api/v1/export/flags.csv")
    _, rows = read_csv(r)
    db = s.q("SELECT f.id, f.day, f.opened_ms, coalesce(p.external_id, ''), coalesce(p.name, ''), "
             "coalesce(p.class, ''), rd.card_no, coalesce(ln.name, ''), f.screen_centi, "
             "f.threshold_centi, f.state, f.recheck_centi, coalesce(f.recheck_instrument, ''), "
             "coalesce(f.recheck_by, ''), f.recheck_ms, rf.id, coalesce(rf.outcome, '') "
             "FROM flags f LEFT JOIN people p ON p.id = f.person_id LEFT JOIN readings rd ON "
             "rd.id = f.reading_id LEFT JOIN lanes ln ON ln.id = rd.lane_id LEFT JOIN referrals rf "
             "ON rf.flag_id = f.id WHERE f.day = ? ORDER BY f.opened_ms, f.id", (s.day,))
    want = expected_csv([[str(i), d, s.local(o), e, n, c, "" if cd is None else str(cd), ln,
                          centi(sc), centi(th), st, centi(rc), ri, rb, s.local(rm) if rm else "",
                          "" if rf is None else str(rf), ro]
                         for i, d, o, e, n, c, cd, ln, sc, th, st, rc, ri, rb, rm, rf, ro in db])
    check(rows[1:] == want and len(want) == 5, "flags.csv rows are the ledger's (%d)" % len(want))

    r = clients["teach1"].get("/api/v1/export/flags.csv")
    _, rows = read_csv(r)
    check(r.status == 200 and {row[5] for row in rows[1:]} == {CLASS1} and len(rows) == 4,
          "a teacher's flags.csv has their class's rows only: %r" % [row[3] for row in rows[1:]])
    r = nurse.get("/api/v1/export/checks.csv?date=%s&class=%s" % (s.yesterday, pct(CLASS2)))
    _, rows = read_csv(r)
    check([row[2] for row in rows[1:]] == ["S5"], "checks.csv of one class: %r" % rows[1:])


def cli_day_numbers(s, day):
    out = s.must("day", "--date", day).stdout
    return [int(x) for x in re.findall(r"\d+", out.split("\n", 1)[1])]


def api_day_numbers(f):
    """The figures in the order `gatescreen day` prints them (cli_nurse.c print_figures)."""
    seq = [f["population.total"], f["population.student"], f["population.teacher"],
           f["population.staff"], f["expected"], f["expected.on_leave"]]
    for w in ("morning", "noon"):
        cov = f["checks.%s.coverage_permille" % w]
        seq += [f["checks.%s.expected_done" % w], f["expected"], cov // 10, cov % 10,
                f["checks.%s.all" % w]]
    seq += [f["readings." + k] for k in ("all", "valid", "invalid", "no_measurement")]
    seq += [f["decisions." + k] for k in ("admit", "fever", "invalid", "unknown_card",
                                          "no_identity", "see_nurse", "no_measurement")]
    seq += [f["fevers." + k] for k in ("screens", "confirmed", "cleared", "open")]
    seq += [f["referrals." + k] for k in ("opened", "sent_home", "hospital", "returned_to_class",
                                          "pending")]
    seq += [f["absences." + k] for k in ("all", "unknown", "illness", "personal", "other", "late")]
    seq += [f["symptoms." + k] for k in ("fever", "cough", "sore_throat", "diarrhoea", "vomiting",
                                         "rash", "conjunctivitis", "other")]
    return seq + [f["returns.after_illness"], f["certificates.recorded"], f["alerts.opened"],
                  f["alerts.open_now"]]


def test_day_report(s, clients):
    nurse = clients["nurse1"]
    for day in (s.yesterday, s.day):
        s.must("upload", "--date", day)
    for day in (s.yesterday, s.day):
        r = nurse.get("/api/v1/day?date=" + day)
        j = r.json() or {}
        f = j.get("figures") or {}
        check(r.status == 200 and j.get("date") == day and j.get("source") == "ledger"
              and api_day_numbers(f) == cli_day_numbers(s, day),
              "%s: the day report's figures are `gatescreen day`'s" % day)
        outbox = s.q("SELECT idempotency_key FROM outbox WHERE idempotency_key LIKE ? OR "
                     "idempotency_key IN (SELECT 'W001/referral/' || id FROM referrals WHERE day = ?"
                     " UNION ALL SELECT 'W001/alert/' || id FROM alerts WHERE day = ?) ORDER BY id",
                     ("W001/" + day + "/%", day, day))
        up = j.get("upload") or []
        check([u["key"] for u in up] == [k for (k,) in outbox] and outbox,
              "%s: its uploads are the outbox's rows of that day: %r" % (day, [u["key"] for u in up]))
        summary = [u for u in up if u["kind"] == "summary"]
        check(summary and summary[0]["revision"] == 1 and summary[0]["state"] in ("pending", "parked"),
              "%s: the summary's revision and state: %r" % (day, summary))
    f = nurse.get("/api/v1/day").json()["figures"]
    check(f["fevers.screens"] == 5 and f["fevers.confirmed"] == 1 and f["referrals.sent_home"] == 1
          and f["certificates.recorded"] == 1, "today's figures: 5 screens, 1 confirmed, 1 sent "
          "home, 1 certificate")
    check(clients["teach1"].get("/api/v1/day").status == 200, "a teacher sees the day report")


def test_backlog(s, clients):
    """A long backlog of untraced absences: Today lists the newest 200, counts them all."""
    for back in range(2, 26):
        s.must("sweep", "--date", (s.today - datetime.timedelta(days=back)).isoformat(),
               "--by", "nurse0")
    want = s.q("SELECT p.external_id, a.day FROM absences a JOIN people p ON p.id = a.person_id "
               "WHERE a.cause = 'unknown' AND a.day <= ? ORDER BY a.day DESC, p.class, "
               "p.external_id", (s.day,))
    t = clients["nurse1"].get("/api/v1/today").json()
    got = [(a["person"]["id"], a["day"]) for a in t["absences"]]
    check(len(want) > 200 and t["totals"]["absences"] == len(want) and got == want[:200],
          "a backlog of %d untraced absences: the newest 200 listed, all counted (%d)"
          % (len(want), t["totals"]["absences"]))
    t = clients["teach1"].get("/api/v1/today").json()
    mine = s.q("SELECT count(*) FROM absences a JOIN people p ON p.id = a.person_id WHERE "
               "a.cause = 'unknown' AND p.class = ?", (CLASS1,))[0][0]
    check(t["totals"]["absences"] == mine and all(a["person"]["class"] == CLASS1
                                                  for a in t["absences"]),
          "a teacher's count is their class's: %d" % mine)


def run_school(prepare_school, before_login, scenario):
    """A school made by prepare_school(s), the simulator and the daemon; then
    before_login(s, sim), a logged-in client per user and scenario(s, clients, sim, dm);
    the daemon stopped cleanly at the end, without a sanitizer report. Shared with
    test_people.py."""
    s = School()
    prepare_school(s)
    sim = gslib.Sim(s.conf)
    check(sim.wait_ready(), "simulator ready")
    dm = gslib.Daemon(s.conf)
    up = (dm.wait_for("device ir-a: state ok") and dm.wait_for("device ir-b: state ok")
          and dm.wait_for("web: serving"))
    check(up, "daemon up, devices ok")
    clients = {}
    try:
        if not up:
            return
        before_login(s, sim)
        for name in ("nurse1", "teach1", "admin1", "gate1"):
            clients[name] = Client(s.web_port)
            check(clients[name].login(name), "%s logs in" % name)
        scenario(s, clients, sim, dm)
    finally:
        rc, _ = dm.stop()
        sim.kill()
        log = dm.text()
        check(rc == 0, "daemon stopped cleanly")
        check("Sanitizer" not in log and "runtime error" not in log,
              "no sanitizer report in the daemon's log")
        if "Sanitizer" in log or "runtime error" in log:
            print(log[-3000:])


def main():
    run_school(prepare, gate_morning, scenario)


def scenario(s, clients, sim, dm):
    test_access(s, clients)
    test_today(s, clients)
    test_actions(s, clients)
    test_conflicts(s, clients)
    test_busy(s, clients)
    test_bad_requests(s, clients)
    test_teacher(s, clients)
    test_people(s, clients)
    test_csv(s, clients)
    test_day_report(s, clients)
    test_backlog(s, clients)


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(__file__))
    main()
    gslib.finish()
