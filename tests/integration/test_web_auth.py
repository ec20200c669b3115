"""The web server's login, sessions, roles, CSRF and request checks (issue 7), against
the real gatescreend serving HTTPS on 127.0.0.1 (certificates made now with openssl,
tests/tools/make_certs.py) and a ledger whose users were made by the real CLI
(`gatescreen user add`, the password on stdin). python3 stdlib only.

Covers: login (cookie HttpOnly, SameSite=Strict, Secure), wrong passwords (401, a
delay that grows), the throttle after 5 from one address (429 even with the right
password, from that address only: another address logs in), unknown names (the same
answer and delays), session and logout, every route of
docs/web-api.md without a session (401), with the gate role on staff routes (403),
with a nurse on admin routes (403), POSTs without or with a wrong X-CSRF-Token
(403), bad JSON (400 with line:column), unknown fields (400 naming them), bodies
over 64 KiB (413), a wrong Content-Type (415) -- every refusal with nothing written
--, the users API, sessions ending when a user is disabled or gets a new password
(also from the CLI), the security headers, the page at "/", plain HTTP on loopback
without a certificate, a port in use (exit 1), and the CLI's refusals (exit status,
message, users table unchanged).

A route of the contract that answers 404 is reported as not implemented (a failure),
never skipped."""
import datetime
import http.client
import json
import os
import re
import sqlite3
import ssl
import subprocess
import sys
import time
import zoneinfo

import gslib
from gslib import check

sys.path.insert(0, os.path.join(gslib.SOURCE, "tests/tools"))
import make_certs  # noqa: E402

PASSWORDS = {"admin1": "admin-password-1", "nurse1": "nurse-password-1",
             "teach1": "teacher-password-1", "gate1": "gate-password-01",
             "victim": "victim-password-1", "nurse2": "nurse-password-2",
             "racer": "racer-password-1"}
ROLES = {"admin1": ("admin", None), "nurse1": ("nurse", None),
         "teach1": ("teacher", "一年级1班"), "gate1": ("gate", None),
         "victim": ("nurse", None), "nurse2": ("nurse", None), "racer": ("nurse", None)}
ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,令狐冲,一年级,一年级1班,1001,1
S2,student,任盈盈,一年级,一年级2班,1002,1
"""

STAFF, ALL, ADMIN = "staff", "all", "admin"
# Every route of docs/web-api.md and docs/web-api-auth.md: method, path, who may
# use it, whether it changes something (CSRF), and a valid body for POSTs.
ROUTES = [
    ("POST", "/api/v1/logout", ALL, True, None),
    ("GET", "/api/v1/session", ALL, False, None),
    ("GET", "/api/v1/users", ADMIN, False, None),
    ("POST", "/api/v1/users", ADMIN, True,
     {"name": "newbie", "role": "nurse", "password": "newbie-password-1"}),
    ("POST", "/api/v1/users/nurse1/disable", ADMIN, True, None),
    ("POST", "/api/v1/users/nurse1/enable", ADMIN, True, None),
    ("POST", "/api/v1/users/nurse1/password", ADMIN, True, {"password": "another-password-1"}),
    ("GET", "/api/v1/today", STAFF, False, None),
    ("GET", "/api/v1/people?q=S1", STAFF, False, None),
    ("GET", "/api/v1/people/S1", STAFF, False, None),
    ("POST", "/api/v1/people/S1/recheck", STAFF, True,
     {"temp_centi": 3650, "instrument": "ear"}),
    ("POST", "/api/v1/people/S1/referral", STAFF, True, {"outcome": "sent_home"}),
    ("POST", "/api/v1/people/S1/absence", STAFF, True, None),  # body set at run time
    ("POST", "/api/v1/people/S1/leave", STAFF, True, None),
    ("POST", "/api/v1/people/S1/certificate", STAFF, True, None),
    ("POST", "/api/v1/people/S1/check", STAFF, True, None),
    ("POST", "/api/v1/alerts/1/close", STAFF, True, {"note": "x"}),
    ("GET", "/api/v1/day", STAFF, False, None),
    ("GET", "/api/v1/export/checks.csv", STAFF, False, None),
    ("GET", "/api/v1/export/absences.csv", STAFF, False, None),
    ("GET", "/api/v1/export/flags.csv", STAFF, False, None),
    ("GET", "/api/v1/gates", ALL, False, None),
    ("GET", "/api/v1/gates/stream", ALL, False, None),
]

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; connect-src 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}

CONFIG = """\
[school]
code = W001
name = 测试学校
timezone = Asia/Shanghai

[ledger]
database = %(db)s

[windows]
morning = 07:00-08:30

[web]
enabled = yes
listen = 127.0.0.1
port = %(port)d
# 20 parallel logins from 127.0.0.1 (test_parallel_guesses): above the default 16
max_connections_per_address = 32
%(tls)s
[bus sim]
tcp = 127.0.0.1:%(bus)d

[lane east-1]
gate = 东门
identity = device
indicator = console

[device ir-1]
bus = sim
unit = 1
lane = east-1
"""


class Reply:
    def __init__(self, resp, secs):
        self.status = resp.status
        self.headers = {k.lower(): v for k, v in resp.getheaders()}
        self.cookies = [v for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        self.raw = resp.read()
        self.secs = secs
        self.text = self.raw.decode("utf-8", "replace")
        try:
            self.json = json.loads(self.text)
        except ValueError:
            self.json = None

    def error(self):
        return (self.json or {}).get("error", "") if isinstance(self.json, dict) else ""


class Client:
    """One HTTPS (or HTTP) connection per request, so a refused request never
    disturbs the next; a session is its cookie and CSRF token."""

    def __init__(self, port, ca=None, source=None):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=ca) if ca else None
        self.source = (source, 0) if source else None  # another 127.x address

    def conn(self):
        if self.ctx:
            return http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx,
                                               timeout=30, source_address=self.source)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=30,
                                          source_address=self.source)

    def req(self, method, path, body=None, session=None, csrf=True, headers=None,
            ctype="application/json"):
        h = {}
        if isinstance(body, (dict, list)):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None and ctype:
            h["Content-Type"] = ctype
        if session:
            h["Cookie"] = "gs_session=" + session["cookie"]
            if csrf is True:
                h["X-CSRF-Token"] = session["csrf"]
        if isinstance(csrf, str):
            h["X-CSRF-Token"] = csrf
        h.update(headers or {})
        c = self.conn()
        t0 = time.monotonic()
        try:
            c.request(method, path, body=body, headers=h)
            resp = c.getresponse()
            if path.endswith("/stream") and resp.status == 200:
                c.sock.settimeout(5)
                first = resp.fp.readline()
                r = Reply.__new__(Reply)
                r.status, r.raw, r.secs = resp.status, first, time.monotonic() - t0
                r.headers = {k.lower(): v for k, v in resp.getheaders()}
                r.cookies, r.text, r.json = [], first.decode("utf-8", "replace"), None
                return r
            return Reply(resp, time.monotonic() - t0)
        finally:
            c.close()

    def login(self, name, password=None):
        r = self.req("POST", "/api/v1/login",
                     {"name": name, "password": password or PASSWORDS[name]})
        if r.status != 200:
            return r, None
        cookie = re.match(r"gs_session=([^;]*)", r.cookies[0]).group(1)
        return r, {"cookie": cookie, "csrf": r.json["csrf"], "name": name}


def dump(db):
    """Every row of every table: 'nothing written' is this, unchanged."""
    tables = [t for (t,) in gslib.db_query(
        db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    return {t: gslib.db_query(db, 'SELECT * FROM "%s" ORDER BY rowid' % t) for t in tables}


def audit(db, action=None):
    if action:
        return gslib.db_query(db, "SELECT actor, action, target, detail FROM audit_log "
                                  "WHERE action = ? ORDER BY id", (action,))
    return gslib.db_query(db, "SELECT actor, action, target, detail FROM audit_log ORDER BY id")


def user_row(db, name):
    rows = gslib.db_query(db, "SELECT active, failed_logins, locked_until_ms FROM users "
                              "WHERE name = ?", (name,))
    return rows[0] if rows else None


def now_ms():
    return int(time.time() * 1000)


# ---- the CLI ------------------------------------------------------------------------------

def add_users(conf):
    for name, (role, cls) in ROLES.items():
        args = ["user", "add", name, "--role", role, "--by", "tester"]
        if cls:
            args += ["--class", cls]
        r = gslib.cli(conf, *args, input_text=PASSWORDS[name] + "\n")
        check(r.returncode == 0, "user add %s --role %s: exit 0 (%s)" % (name, role,
                                                                       r.stderr.strip()))
    return gslib.cli(conf, "user", "list")


def cli_refusals(conf, db):
    before = dump(db)
    cases = [
        (["user", "add", "x1"], "pw-long-enough-1", 2, "--role"),
        (["user", "add", "x2", "--role", "teacher"], "pw-long-enough-1", 1, "class"),
        (["user", "add", "x3", "--role", "gate", "--class", "一年级1班"], "pw-long-enough-1", 1,
         "only teachers"),
        (["user", "add", "x4", "--role", "janitor"], "pw-long-enough-1", 1, "unknown role"),
        (["user", "add", "x5", "--role", "nurse"], "short", 1, "too short"),
        (["user", "add", "x6", "--role", "nurse"], "", 1, "too short"),
        (["user", "add", "nurse1", "--role", "nurse"], "pw-long-enough-1", 1, "exists already"),
        (["user", "add", "a/b", "--role", "nurse"], "pw-long-enough-1", 1, "'/'"),
        (["user", "passwd", "nobody"], "pw-long-enough-1", 1, "no user named"),
        (["user", "disable", "nobody"], None, 1, "no user named"),
        (["user", "frobnicate", "x"], None, 2, "unknown command"),
        (["user", "add", "x7", "--role", "nurse", "--bogus"], "pw-long-enough-1", 2,
         "bad option"),
    ]
    for args, pw, code, words in cases:
        r = gslib.cli(conf, *args, input_text=None if pw is None else pw + "\n")
        check(r.returncode == code and words in r.stderr,
              "gatescreen %s: exit %d, says '%s' (got %d: %s)"
              % (" ".join(args), code, words, r.returncode, r.stderr.strip().splitlines()[0]))
    check(dump(db) == before, "the refused user commands changed nothing in the ledger")
    hashes = gslib.db_query(db, "SELECT password_hash FROM users")
    check(all(h.startswith("$argon2id$") for (h,) in hashes), "passwords stored as argon2id")


# ---- login, delays, lockout -------------------------------------------------------------------

def test_login(cl, db):
    r, s = cl.login("nurse1")
    check(r.status == 200 and r.json["user"] == {"name": "nurse1", "role": "nurse",
                                                 "class": ""},
          "login: 200 with the user (%s)" % r.text[:100])
    cookie = r.cookies[0] if r.cookies else ""
    flags = [f.strip().lower() for f in cookie.split(";")[1:]]
    check({"httponly", "samesite=strict", "secure", "path=/"} <= set(flags),
          "session cookie HttpOnly, SameSite=Strict, Secure, Path=/ (%s)" % flags)
    check(s and len(s["cookie"]) >= 43 and len(s["csrf"]) >= 43 and s["cookie"] != s["csrf"],
          "session id and CSRF token are long random strings")
    check(audit(db, "login")[-1][0] == "nurse1", "login audited with the user")
    r2 = cl.req("GET", "/api/v1/session", session=s)
    check(r2.status == 200 and r2.json == r.json, "session: 200, the same user and token")
    _, s2 = cl.login("teach1")
    r3 = cl.req("GET", "/api/v1/session", session=s2)
    check(r3.status == 200 and r3.json["user"]["class"] == "一年级1班",
          "a teacher's session carries the class")
    return s


def elsewhere(cl, source):
    """The same client from another loopback address."""
    c = Client(cl.port, source=source)
    c.ctx = cl.ctx
    return c


def test_wrong_passwords(cl, db):
    """5 wrong passwords from one address: 401 each with a growing delay, the 5th
    throttles that name from that address (429); then even the right password is 429
    there -- but from another address it works: nobody elsewhere can lock a user out."""
    times, statuses, bodies = [], [], []
    for i in range(5):
        r = cl.req("POST", "/api/v1/login", {"name": "victim", "password": "wrong-%d" % i})
        times.append(r.secs)
        statuses.append(r.status)
        bodies.append(r.json)
    check(statuses[:4] == [401] * 4 and bodies[0] == {"error": "wrong name or password"},
          "wrong password: 401 'wrong name or password' (%s)" % statuses)
    check(statuses[4] == 429 and 0 < bodies[4].get("retry_after_s", 0) <= 60,
          "the 5th failure in a row throttles for a minute: 429 with retry_after_s (%s)"
          % bodies[4])
    want = [0.25, 0.5, 1.0, 2.0, 4.0]
    # Lower bounds only: the password check adds its own, load-dependent time.
    check(all(t >= w - 0.02 for t, w in zip(times, want)),
          "the answer delay grows (at least %s): %s s" % (want, ["%.2f" % t for t in times]))
    check(times[4] < 6.0, "the delay is capped (%.2f s)" % times[4])
    check(user_row(db, "victim")[1:] == (0, 0),
          "the users row is not locked: the throttle is per address, in memory")
    r = cl.req("POST", "/api/v1/login", {"name": "victim", "password": PASSWORDS["victim"]})
    check(r.status == 429 and 0 < r.json.get("retry_after_s", 0) <= 60 and not r.cookies,
          "throttled: the right password from that address is refused too (429, no cookie) "
          "(%s)" % r.text)
    check(len(audit(db, "login failed")) >= 5 and len(audit(db, "login throttled")) == 1 and
          audit(db, "login refused")[-1][2] == "victim",
          "failures, the throttle and the refused login are audited")
    other = elsewhere(cl, "127.0.0.2")
    r, s = other.login("victim")
    check(r.status == 200, "from another address the right password works at once (%d)"
          % r.status)
    r = other.req("POST", "/api/v1/login", {"name": "victim", "password": "wrong-again"})
    check(r.status == 401 and r.secs < 2.0, "that address's count starts at one (%.2f s, "
          "not the 4 s of a 5th failure)" % r.secs)


def test_parallel_logins(port, ca, db):
    """Twenty wrong passwords for one name at once from one address: one login per
    name and address runs at a time, the others get 429 at once, so parallel guesses
    cannot outrun the count. A name no user can have is a 400 and leaves no audit row."""
    import threading
    statuses = []

    def guess(i):
        r = Client(port, ca).req("POST", "/api/v1/login", {"name": "racer", "password": "g%d" % i})
        statuses.append(r.status)
    threads = [threading.Thread(target=guess, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    checked = statuses.count(401)  # the rest: 429 at once, no password check
    check(len(statuses) == 20 and statuses.count(429) == 20 - checked and 1 <= checked <= 5,
          "20 parallel guesses: %d password checks counted (%s), at most 5" %
          (checked, sorted(statuses)))
    before = len(audit(db))
    cl = Client(port, ca)
    for name in ("x" * 5000, "a/b", "", "admin\u200b", "\u202eadmin"):
        r = cl.req("POST", "/api/v1/login", {"name": name, "password": "whatever-pass"})
        check(r.status == 400 and "name" in r.error(), "login name %r...: 400 (%d %s)" %
              (name[:8], r.status, r.error()))
    check(len(audit(db)) == before, "no audit rows from impossible names")


def test_unknown_names(cl, db):
    """A name that is no user gets the same answers and delays as a wrong password,
    the throttle included: names cannot be probed."""
    cl = elsewhere(cl, "127.0.0.3")
    times, statuses, texts = [], [], []
    for i in range(5):
        r = cl.req("POST", "/api/v1/login", {"name": "nosuchuser", "password": "guess-%d" % i})
        times.append(r.secs)
        statuses.append(r.status)
        texts.append(r.text)
    check(statuses[:4] == [401] * 4 and texts[0] == '{"error":"wrong name or password"}',
          "unknown name: the same 401 message as a wrong password (%s)" % texts[0])
    want = [0.25, 0.5, 1.0, 2.0, 4.0]
    check(all(t >= w - 0.02 for t, w in zip(times, want)),
          "unknown name: the same growing delays (at least %s): %s" %
          (want, ["%.2f" % t for t in times]))
    check(statuses[4] == 429, "unknown name: throttled after 5 like a user (%s)" % statuses)
    check(any(a[2] == "nosuchuser" for a in audit(db, "login failed")),
          "failed logins of unknown names are audited")


# ---- routes, roles, CSRF --------------------------------------------------------------------------

def route_bodies(today):
    bodies = {
        "/api/v1/people/S1/absence": {"day": today, "cause": "personal"},
        "/api/v1/people/S1/leave": {"from": today, "to": today},
        "/api/v1/people/S1/certificate": {"issuer": "clinic", "issued_day": today},
        "/api/v1/people/S1/check": {"window": "morning", "temp_centi": 3650,
                                    "instrument": "ear"},
    }
    return [(m, p, who, csrf, bodies.get(p, body)) for m, p, who, csrf, body in ROUTES]


def not_implemented(r):
    return " (404: route not implemented yet)" if r.status == 404 else ""


def test_no_session(cl, routes):
    missing = []
    for method, path, _, _, body in routes:
        r = cl.req(method, path, body)
        if r.status == 404:
            missing.append(path)
        check(r.status == 401 and r.error(),
              "%s %s without a session: 401 (%d)%s" % (method, path, r.status, not_implemented(r)))
    if missing:
        print("NOT IMPLEMENTED: %s" % ", ".join(missing))
    r = cl.req("GET", "/api/v1/session", session={"cookie": "A" * 43, "csrf": "x"})
    check(r.status == 401, "a made-up session cookie: 401")


def test_roles(cl, routes, sessions, db):
    before = dump(db)
    for method, path, who, csrf, body in routes:
        if who == ALL:
            continue
        r = cl.req(method, path, body, session=sessions["gate1"])
        check(r.status == 403, "%s %s as the gate role: 403 (%d)%s"
              % (method, path, r.status, not_implemented(r)))
        if who == ADMIN:
            r = cl.req(method, path, body, session=sessions["nurse1"])
            check(r.status == 403, "%s %s as a nurse: 403 (%d)" % (method, path, r.status))
            r = cl.req(method, path, body, session=sessions["teach1"])
            check(r.status == 403, "%s %s as a teacher: 403 (%d)" % (method, path, r.status))
    check(dump(db) == before, "refused roles: nothing written")
    for path in ("/api/v1/gates", "/api/v1/gates/stream", "/api/v1/session"):
        r = cl.req("GET", path, session=sessions["gate1"])
        check(r.status == 200, "GET %s as the gate role: 200 (%d)%s"
              % (path, r.status, not_implemented(r)))


def test_csrf(cl, routes, sessions, db):
    before = dump(db)
    for method, path, who, csrf, body in routes:
        if not csrf:
            continue
        s = sessions["admin1"] if who == ADMIN else sessions["nurse1"]
        r = cl.req(method, path, body, session=s, csrf=False)
        check(r.status == 403 and "CSRF" in r.error(),
              "%s %s without X-CSRF-Token: 403 (%d)%s" % (method, path, r.status,
                                                         not_implemented(r)))
        tok = s["csrf"]
        r = cl.req(method, path, body, session=s, csrf=tok[:-1] + ("A" if tok[-1] != "A" else "B"))
        check(r.status == 403, "%s %s with a wrong X-CSRF-Token: 403 (%d)"
              % (method, path, r.status))
        other = sessions["victim"]["csrf"]
        r = cl.req(method, path, body, session=s, csrf=other)
        check(r.status == 403, "%s %s with another session's token: 403 (%d)"
              % (method, path, r.status))
    check(dump(db) == before, "refused CSRF: nothing written (audit_log and every table)")


def test_bodies(cl, sessions, db):
    adm = sessions["admin1"]
    before = dump(db)
    r = cl.req("POST", "/api/v1/users", '{\n  "name": "x",\n  "role": nurse\n}', session=adm)
    check(r.status == 400 and re.search(r"line 3:\d+", r.error()),
          "bad JSON: 400 naming line:column (%s)" % r.error())
    r = cl.req("POST", "/api/v1/login", '{"name": "nurse1", "password": ', session=None)
    check(r.status == 400 and re.search(r"\d+:\d+", r.error()),
          "bad JSON at login: 400 with line:column (%s)" % r.error())
    r = cl.req("POST", "/api/v1/users", {"name": "y", "role": "nurse",
                                         "password": "password-long-1", "colour": "red"},
               session=adm)
    check(r.status == 400 and "colour" in r.error(), "unknown field: 400 naming it (%s)"
          % r.error())
    r = cl.req("POST", "/api/v1/users", "[1, 2]", session=adm)
    check(r.status == 400, "a JSON array instead of an object: 400")
    r = cl.req("POST", "/api/v1/users", {"name": "big", "role": "nurse",
                                         "password": "p" * (70 * 1024)}, session=adm)
    check(r.status == 413, "a body over 64 KiB: 413 (%d)" % r.status)
    r = cl.req("POST", "/api/v1/users", "name=x&role=nurse", session=adm,
               ctype="application/x-www-form-urlencoded")
    check(r.status == 415, "a form post: 415 (%d)" % r.status)
    r = cl.req("POST", "/api/v1/users", '{"name": "z"}', session=adm, ctype="text/plain")
    check(r.status == 415, "Content-Type text/plain: 415 (%d)" % r.status)
    r = cl.req("POST", "/api/v1/login", '{"name": "nurse1", "password": "nurse-password-1"}',
               ctype=None)
    check(r.status == 415, "login without a Content-Type: 415 (%d)" % r.status)
    r = cl.req("POST", "/api/v1/people/S1/recheck", '{"temp_centi": 3650,, }',
               session=sessions["nurse1"])
    check(r.status == 400 and re.search(r"\d+:\d+", r.error()),
          "bad JSON on a nurse action: 400 with line:column (%d %s)%s"
          % (r.status, r.error(), not_implemented(r)))
    r = cl.req("POST", "/api/v1/people/S1/recheck",
               {"temp_centi": 3650, "instrument": "ear", "sneaky": 1}, session=sessions["nurse1"])
    check(r.status == 400 and "sneaky" in r.error(),
          "unknown field on a nurse action: 400 naming it (%d %s)%s"
          % (r.status, r.error(), not_implemented(r)))
    check(dump(db) == before, "bad bodies: nothing written")


def test_users_api(cl, sessions, db):
    adm = sessions["admin1"]
    r = cl.req("GET", "/api/v1/users", session=adm)
    names = [u["name"] for u in (r.json or {}).get("users", [])]
    check(r.status == 200 and set(ROLES) <= set(names), "GET users: every user (%s)" % names)
    check(all("password_hash" not in u for u in r.json["users"]), "no password hash is shown")
    r = cl.req("POST", "/api/v1/users", {"name": "王老师", "role": "teacher", "class": "一年级2班",
                                         "password": "teacher-password-2"}, session=adm)
    check(r.status == 201 and r.json["user"]["class"] == "一年级2班",
          "POST users: 201 with the new user (%s)" % r.text[:120])
    check(audit(db, "user add")[-1][:3] == ("admin1", "user add", "王老师"),
          "user add audited with the administrator")
    r2, s = cl.login("王老师", "teacher-password-2")
    check(r2.status == 200, "the new user can log in")
    cases = [
        ({"name": "王老师", "role": "nurse", "password": "long-enough-pw"}, 409, "exists"),
        ({"name": "t9", "role": "teacher", "password": "long-enough-pw"}, 400, "class"),
        ({"name": "n9", "role": "nurse", "class": "一年级1班", "password": "long-enough-pw"}, 400,
         "only teachers"),
        ({"name": "n9", "role": "root", "password": "long-enough-pw"}, 400, "role"),
        ({"name": "n9", "role": "nurse", "password": "short"}, 400, "too short"),
        ({"name": "n9", "role": "nurse"}, 400, "password"),
        ({"role": "nurse", "password": "long-enough-pw"}, 400, "name"),
    ]
    for body, status, words in cases:
        before = dump(db)
        r = cl.req("POST", "/api/v1/users", body, session=adm)
        check(r.status == status and words in r.error() and dump(db) == before,
              "POST users %s: %d '%s', nothing written (%d %s)"
              % (json.dumps(body, ensure_ascii=False), status, words, r.status, r.error()))
    r = cl.req("POST", "/api/v1/users/admin1/disable", session=adm)
    check(r.status == 409, "an administrator cannot disable their own account (%d)" % r.status)
    r = cl.req("POST", "/api/v1/users/nobody/disable", session=adm)
    check(r.status == 404, "disable an unknown user: 404 (%d)" % r.status)
    r = cl.req("POST", "/api/v1/users/%E7%8E%8B%E8%80%81%E5%B8%88/disable", session=adm)
    check(r.status == 200 and r.json["user"]["active"] is False, "disable: 200, inactive")
    r = cl.req("GET", "/api/v1/session", session=s)
    check(r.status == 401, "a disabled user's session ends (%d)" % r.status)
    r, _ = cl.login("王老师", "teacher-password-2")
    check(r.status == 403 and "disabled" in r.error(), "a disabled user cannot log in (%d)"
          % r.status)
    r = cl.req("POST", "/api/v1/users/%E7%8E%8B%E8%80%81%E5%B8%88/enable", session=adm)
    check(r.status == 200 and r.json["user"]["active"] is True, "enable: 200, active")
    _, s = cl.login("王老师", "teacher-password-2")
    r = cl.req("POST", "/api/v1/users/%E7%8E%8B%E8%80%81%E5%B8%88/password",
               {"password": "new-teacher-password"}, session=adm)
    check(r.status == 200, "password: 200 (%d %s)" % (r.status, r.error()))
    r = cl.req("GET", "/api/v1/session", session=s)
    check(r.status == 401, "a new password ends the user's sessions (%d)" % r.status)
    r, _ = cl.login("王老师", "new-teacher-password")
    check(r.status == 200, "the new password works")
    r = cl.req("POST", "/api/v1/users/%E7%8E%8B%E8%80%81%E5%B8%88/password",
               {"password": "short"}, session=adm)
    check(r.status == 400 and "too short" in r.error(), "a short new password: 400")
    acts = [a[1] for a in audit(db) if a[0] == "admin1"]
    check({"user add", "user disable", "user enable", "user password"} <= set(acts),
          "every user change audited with the administrator (%s)" % sorted(set(acts)))


def test_cli_ends_sessions(cl, conf):
    _, s = cl.login("nurse2")
    r = gslib.cli(conf, "user", "disable", "nurse2", "--by", "tester")
    check(r.returncode == 0, "gatescreen user disable: exit 0 (%s)" % r.stderr.strip())
    r = cl.req("GET", "/api/v1/session", session=s)
    check(r.status == 401, "disabled from the CLI: the running server ends the session (%d)"
          % r.status)
    gslib.cli(conf, "user", "enable", "nurse2")
    _, s = cl.login("nurse2")
    r = gslib.cli(conf, "user", "passwd", "nurse2", input_text="changed-by-cli-1\n")
    check(r.returncode == 0, "gatescreen user passwd (stdin): exit 0 (%s)" % r.stderr.strip())
    r = cl.req("GET", "/api/v1/session", session=s)
    check(r.status == 401, "a password changed from the CLI ends the session (%d)" % r.status)
    r, _ = cl.login("nurse2", "changed-by-cli-1")
    check(r.status == 200, "the password set by the CLI works")


def test_logout(cl, db):
    _, s = cl.login("nurse1")
    r = cl.req("POST", "/api/v1/logout", session=s, csrf=False)
    check(r.status == 403, "logout without the CSRF token: 403")
    r = cl.req("POST", "/api/v1/logout", session=s)
    check(r.status == 204 and any("max-age=0" in c.lower() for c in r.cookies),
          "logout: 204, the cookie cleared")
    r = cl.req("GET", "/api/v1/session", session=s)
    check(r.status == 401, "after logout the session is gone: 401")
    check(audit(db, "logout")[-1][0] == "nurse1", "logout audited")


def test_headers_and_page(cl, s, tls=True):
    for path, sess in (("/api/v1/session", s), ("/api/v1/session", None), ("/", None),
                       ("/api/v1/nope", s)):
        r = cl.req("GET", path, session=sess)
        missing = [k for k, v in SECURITY_HEADERS.items() if r.headers.get(k) != v]
        check(not missing, "GET %s (%d): security headers present %s" % (path, r.status,
                                                                        missing or ""))
        if tls:
            check("max-age=" in r.headers.get("strict-transport-security", ""),
                  "GET %s: Strict-Transport-Security under TLS" % path)
        if path.startswith("/api/"):
            check(r.headers.get("cache-control") == "no-store", "GET %s: Cache-Control no-store"
                  % path)
    r = cl.req("GET", "/")
    check(r.status == 200 and r.headers.get("content-type", "").startswith("text/html") and
          "<html" in r.text.lower(), "GET /: the page, text/html")
    r = cl.req("GET", "/api/v1/nope", session=s)
    check(r.status == 404 and r.json and r.error(), "an unknown /api/ path: 404 JSON")
    r = cl.req("DELETE", "/api/v1/session", session=s)
    check(r.status == 405 and "GET" in r.headers.get("allow", ""),
          "a known path with the wrong method: 405 with Allow")
    r = cl.req("GET", "/no-such-file.js")
    check(r.status == 404, "an unknown file: 404")


# ---- the daemon ---------------------------------------------------------------------------------

def write_config(d, port, tls, db="ledger.db"):
    """A config in its own folder d (the daemon's log is next to it)."""
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, "gatescreen.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(CONFIG % {"port": port, "tls": tls, "bus": gslib.free_port(), "db": db})
    return path


def start(conf, what):
    dm = gslib.Daemon(conf)
    ok = dm.wait_for("web: serving", 20)
    check(ok, "gatescreend serves %s" % what)
    if not ok:
        print(dm.text())
    return dm


def test_plain_http(d, db):
    """No certificate, loopback: plain HTTP works; the cookie is not Secure."""
    port = gslib.free_port()
    conf = write_config(os.path.join(d, "plain"), port, "", db)
    dm = start(conf, "plain HTTP on loopback")
    cl = Client(port)
    r = cl.req("GET", "/")
    check(r.status == 200 and "<html" in r.text.lower(), "plain HTTP on 127.0.0.1: GET / 200")
    r, s = cl.login("admin1")
    check(r.status == 200 and "secure" not in r.cookies[0].lower(),
          "plain HTTP: login works, the cookie is not Secure")
    check("Strict-Transport-Security".lower() not in r.headers, "plain HTTP: no HSTS")
    check("warning: web: serving plain HTTP" not in dm.text(),
          "no plain-HTTP warning on loopback")
    # A second daemon on the same port cannot start: exit 1 with the reason.
    conf2 = write_config(os.path.join(d, "taken"), port, "")
    dm2 = gslib.Daemon(conf2)
    try:
        rc = dm2.proc.wait(20)
    except Exception:
        rc = None
        dm2.stop()
    check(rc == 1 and "web" in dm2.text() and "port %d" % port in dm2.text(),
          "web port in use: gatescreend exits 1 naming the port (%s)" % rc)
    code, _ = dm.stop()
    check(code == 0, "plain HTTP daemon stops cleanly")


def test_key_readable(d, certs):
    """A TLS key group or others may read (0644, 0640): --check-config says so and
    gatescreend refuses to start (exit 1), naming it and the fix."""
    key = os.path.join(d, "open.key")
    with open(certs["server.key"], "rb") as src, open(key, "wb") as dst:
        dst.write(src.read())
    conf = write_config(os.path.join(d, "openkey"), gslib.free_port(),
                        "tls_cert = %s\ntls_key = %s\n" % (certs["server"], key))
    for mode in (0o644, 0o640):
        os.chmod(key, mode)
        said = "%s: mode %04o lets group or others read it; chmod 600 it" % (key, mode)
        r = subprocess.run([gslib.DAEMON, "--check-config", conf], capture_output=True,
                           text=True, timeout=20)
        check(r.returncode == 2 and said in r.stderr,
              "--check-config refuses a %04o TLS key (%s: %s)" % (mode, r.returncode, r.stderr))
        dm = gslib.Daemon(conf)
        try:
            rc = dm.proc.wait(20)
        except Exception:
            rc = None
            dm.stop()
        check(rc == 1 and said in dm.text(),
              "a %04o TLS key: exit 1 naming the file and chmod 600 (%s)" % (mode, rc))
    os.chmod(key, 0o600)
    r = subprocess.run([gslib.DAEMON, "--check-config", conf], capture_output=True, text=True,
                       timeout=20)
    check(r.returncode == 0, "--check-config accepts a 0600 TLS key (%s)" % r.stderr)


def main():
    d, _ = gslib.scratch("")
    certs = make_certs.make_certs(os.path.join(d, "certs"))
    port = gslib.free_port()
    conf = write_config(d, port, "tls_cert = %s\ntls_key = %s\n"
                        % (certs["server"], certs["server.key"]))
    db = os.path.join(d, "ledger.db")
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "roster imported")
    lst = add_users(conf)
    check(lst.returncode == 0 and "teach1\tteacher\t一年级1班" in lst.stdout,
          "user list shows the users")
    cli_refusals(conf, db)
    dm = start(conf, "HTTPS")
    try:
        cl = Client(port, certs["ca"])
        s = test_login(cl, db)
        sessions = {n: cl.login(n)[1] for n in ("admin1", "nurse1", "teach1", "gate1", "victim")}
        check(all(sessions.values()), "every role can log in")
        today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d")
        routes = route_bodies(today)
        test_no_session(cl, routes)
        test_roles(cl, routes, sessions, db)
        test_csrf(cl, routes, sessions, db)
        test_bodies(cl, sessions, db)
        test_headers_and_page(cl, s)
        test_users_api(cl, sessions, db)
        test_cli_ends_sessions(cl, conf)
        test_logout(cl, db)
        test_wrong_passwords(cl, db)
        test_unknown_names(cl, db)
        test_parallel_logins(port, certs["ca"], db)
    finally:
        code, secs = dm.stop()
    check(code == 0, "gatescreend stops cleanly (exit %s in %.1f s)" % (code, secs))
    check("ERROR" not in dm.text() and "error:" not in dm.text(),
          "no errors in the daemon's log")
    check("warning: web:" not in dm.text(), "no warnings from the web server")
    test_plain_http(d, db)
    test_key_readable(d, certs)
    gslib.finish()


if __name__ == "__main__":
    main()
