"""The bureau's page (issue 17, first slice) on a private PostgreSQL with the real
gatescreen-bureau and gatescreen-bureaud, over real TLS without a client certificate:

- `gatescreen-bureau user add|list|disable` (password on stdin, the school's name and
  password rules, a county officer's county must have schools, names alike in case);
- [page] in --check-config; the page's files and the security headers;
- login (wrong password 401, the cookie's flags, the CSRF token), every POST refused
  without the token, 401 without a session, 415 for a body that is not JSON;
- role scoping through the API: a county officer sees their county only (today and
  notices), asking for another is 403, acknowledging another county's notice is 404;
  the auditor cannot acknowledge (403);
- an acknowledgement with its note, in audit_log, unacknowledged notices first, a
  second one 409;
- the throttle: five wrong passwords from one address make that name wait there
  (429), while the same user logs in from another address (127.0.0.2);
- a real user's login is not queued behind the password checks of guesses from 12
  other addresses (addresses with no failure on record go first);
- a user disabled from the CLI loses their session at the next request; logout;
- the administrators' users API: a new user (the rules, 409 for a name alike), disable
  (their session ends; not one's own), enable; 403 for the other roles;
- [page] on reload: needs a restart, and the log says so; a page key others can read
  is refused by --check-config;
- the daemon stops cleanly (exit 0; under AddressSanitizer also no leak)."""
import datetime
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
from urllib.parse import quote as Q

import bureaulib as bl
import gslib
from gslib import check

PASSWORDS = {"city1": "city-password-1", "王科长": "county-password-1",
             "audit1": "auditor-password-1", "admin1": "admin-password-1"}
W, J = "魏都区", "建安区"
FRI = "2026-12-04"  # a school day in the past: every school expected, W1 late, the others missing
THU = "2026-12-03"  # the figures' day: every school reported, W2 with the most illness
TREND = {"2026-11-30": 2, "2026-12-01": 5, "2026-12-02": 3}  # W1's fever screens those days


class Page:
    def __init__(self, b, port, source="127.0.0.1"):
        self.b, self.port, self.source = b, port, source
        self.cookie, self.csrf = None, None

    def req(self, method, path, body=None, csrf=True, ctype="application/json", raw=None):
        ctx = ssl.create_default_context(cafile=self.b.certs["ca"])
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx, timeout=30,
                                           source_address=(self.source, 0))
        h = {}
        if self.cookie:
            h["Cookie"] = "gsb_session=" + self.cookie
        if csrf and self.csrf and method == "POST":
            h["X-CSRF-Token"] = self.csrf
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        if data is not None and ctype:
            h["Content-Type"] = ctype
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
            try:
                j = json.loads(text)
            except ValueError:
                j = None
            return r.status, j, dict(r.getheaders()), text
        finally:
            conn.close()

    def login(self, name, password=None):
        st, j, h, _ = self.req("POST", "/api/v1/login",
                               {"name": name, "password": password or PASSWORDS[name]})
        if st == 200:
            self.cookie = h["Set-Cookie"].split(";")[0].split("=", 1)[1]
            self.csrf = j["csrf"]
        return st, j, h


def user_add(b, name, role, county=None, password=None, status=0):
    args = [bl.BCLI, "-c", b.conf, "user", "add", name, "--role", role]
    if county:
        args += ["--county", county]
    r = subprocess.run(args, input=(password or PASSWORDS.get(name, "")) + "\n",
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == status, "user add %s --role %s: exit %d (want %d) %s" % (
        name, role, r.returncode, status, r.stderr.strip()[:160]))
    return r


def setup(b):
    port = bl.free_port()
    with open(b.conf, "a", encoding="utf-8") as f:
        f.write("\n[page]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\nthreads = 2\n"
                % (port, b.certs["server"], b.certs["server.key"]))
    r = subprocess.run([bl.BUREAUD, "--check-config", b.conf], capture_output=True, text=True)
    check(r.returncode == 0 and "configuration OK" in r.stdout,
          "--check-config with [page]: %s" % (r.stdout + r.stderr).strip()[:200])
    for code, county in (("W1", W), ("W2", W), ("J1", J)):
        b.enrol(code, county=county)
    return port


def users(b):
    user_add(b, "city1", "city")
    user_add(b, "王科长", "county", W)
    user_add(b, "audit1", "auditor")
    user_add(b, "admin1", "admin")
    r = user_add(b, "short1", "city", password="abc def", status=1)
    check("too short" in r.stderr, "a short password is refused: %s" % r.stderr.strip())
    r = user_add(b, "nocounty", "county", status=1)
    check("needs a county" in r.stderr, "a county officer needs a county: %s" % r.stderr.strip())
    r = user_add(b, "far1", "county", "长葛市", password="far-password-1", status=1)
    check("no school is in county" in r.stderr, "an unknown county: %s" % r.stderr.strip())
    r = user_add(b, "CITY1", "city", password="another-password", status=1)
    check("exists already" in r.stderr, "a name alike in case: %s" % r.stderr.strip())
    r = user_add(b, "аdmin", "city", password="another-password", status=1)
    check("two scripts" in r.stderr, "a name of two scripts: %s" % r.stderr.strip())
    r = b.cli("user", "list")
    check(r.returncode == 0 and "王科长\tcounty\t魏都区\tactive" in r.stdout,
          "user list shows the county officer: %s" % r.stdout.strip()[:300])


def files_and_headers(port, b):
    p = Page(b, port)
    st, _, h, text = p.req("GET", "/")
    check(st == 200 and b"<html lang=\"zh-CN\">" in text, "the page, zh-CN by default: %d" % st)
    want = {"Content-Security-Policy": "frame-ancestors 'none'", "X-Content-Type-Options":
            "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
            "Strict-Transport-Security": "max-age="}
    for k, v in want.items():
        check(v in h.get(k, ""), "%s on the page: %r" % (k, h.get(k)))
    st, _, h, _ = p.req("GET", "/app.js")
    check(st == 200 and h["Content-Type"].startswith("text/javascript"), "app.js: %d" % st)
    st, j, h, _ = p.req("GET", "/api/v1/today")
    check(st == 401 and "Content-Security-Policy" in h, "no session: 401 (%d %s)" % (st, j))
    st, j, _, _ = p.req("GET", "/api/v1/nothing")
    check(st == 404, "an unknown route: 404 (%d)" % st)
    st, j, _, _ = p.req("GET", "/api/v1/login")
    check(st == 405, "GET on login: 405 (%d)" % st)
    long_paths(p)


def long_paths(p):
    """A refusal's body is whole JSON whatever the path: a long one (the answer quotes
    it), one cut inside a character (the path is kept to 255 bytes), one that is no
    UTF-8 at all (%ff). Before: 404 with the JSON cut at 199 bytes, and 500 for the
    other two."""
    for path in ("/api/v1/" + "x" * 400, "/api/v1/" + "%E9%AD%8F" * 100,
                 "/api/v1/%ff%fe" + "y" * 30):
        st, j, _, text = p.req("GET", path)
        check(st == 404 and j is not None and j["error"].startswith("no such API route"),
              "a long or odd path: 404 with whole JSON (%d, %d bytes: %r)" % (
                  st, len(text), text[-40:]))


def login(port, b):
    p = Page(b, port)
    st, j, _ = p.login("city1", "wrong-password-0")
    check(st == 401 and j["error"] == "wrong name or password", "a wrong password: 401 %s" % j)
    st, j, _ = p.login("nobody-here", "wrong-password-0")
    check(st == 401 and j["error"] == "wrong name or password", "no such user: the same 401")
    st, j, _, _ = p.req("POST", "/api/v1/login", raw="name=city1", ctype="application/x-www-form-urlencoded")
    check(st == 415, "a form post to login: 415 (%d %s)" % (st, j))
    st, j, h = p.login("city1")
    cookie = h.get("Set-Cookie", "")
    check(st == 200 and j["user"]["role"] == "city" and len(j["csrf"]) >= 40,
          "city1 logs in: %d %s" % (st, j))
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        check(flag in cookie, "the cookie has %s: %s" % (flag, cookie[:30] + "..."))
    st, j, _, _ = p.req("GET", "/api/v1/session")
    check(st == 200 and j["user"]["name"] == "city1" and j["csrf"] == p.csrf, "session: %s" % st)
    return p


def send_day(b, c):
    st, _, raw = bl.send(c, b, b.schools["W1"], bl.summary_doc("W1", FRI, 1))
    check(st == 201, "W1's summary of %s (late): %d %s" % (FRI, st, raw[:80]))
    for code in ("W1", "J1"):
        st, _, raw = bl.send(c, b, b.schools[code], bl.notice_doc(code, 1, today(b)))
        check(st == 201, "%s's notice: %d %s" % (code, st, raw[:80]))


def one(b, query):
    """The single value of a query, as text ("" for none)."""
    rows = b.sql(query)
    return rows[0][0] if rows and rows[0] else ""


def today(b):
    return one(b, "SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD')")


def scoping(port, b, city):
    st, j, _, _ = city.req("GET", "/api/v1/today?deadline=day&day=" + FRI)
    counties = {c["county"]: c for c in j["counties"]} if st == 200 else {}
    check(st == 200 and set(counties) == {W, J} and j["counts"]["expected"] == 3 and
          j["counts"]["late"] == 1 and j["counts"]["missing"] == 2,
          "the city officer sees both counties: %d %s %s" % (st, list(counties),
                                                             j and j.get("counts")))
    schools = {s["code"]: s for c in j["counties"] for s in c["schools"]}
    check(schools.get("W1", {}).get("status") == "late" and schools["W1"]["late_seconds"] > 0
          and schools.get("J1", {}).get("status") == "missing",
          "W1 late (with how late), J1 missing: %s" % sorted(schools))
    cty = Page(b, port)
    st, j, _ = cty.login("王科长")
    check(st == 200 and j["user"]["county"] == W, "the county officer logs in: %d" % st)
    st, j, _, _ = cty.req("GET", "/api/v1/today?deadline=day&day=" + FRI)
    check(st == 200 and [c["county"] for c in j["counties"]] == [W] and j["county"] == W,
          "the county officer's today: their county only (%d %s)" % (
              st, j and [c["county"] for c in j["counties"]]))
    st, j, _, _ = cty.req("GET", "/api/v1/today?county=" + "%E5%BB%BA%E5%AE%89%E5%8C%BA")
    check(st == 403 and j["parameter"] == "county", "another county's today: 403 (%d %s)" % (st, j))
    st, j, _, _ = cty.req("GET", "/api/v1/notices")
    codes = [n["school"]["code"] for n in j["notices"]] if st == 200 else None
    check(codes == ["W1"], "the county officer's notices: W1's only (%s)" % codes)
    st, j, _, _ = cty.req("GET", "/api/v1/notices?county=%E5%BB%BA%E5%AE%89%E5%8C%BA")
    check(st == 403, "another county's notices: 403 (%d)" % st)
    st, j, _, _ = cty.req("POST", "/api/v1/notices/ack",
                          {"school": "J1", "notice_id": "J1/referral/1", "note": "看看"})
    check(st == 404, "acknowledging another county's notice: 404 (%d %s)" % (st, j))
    st, j, _, _ = city.req("GET", "/api/v1/today?bogus=1")
    check(st == 400 and j["parameter"] == "bogus", "an unknown parameter: 400 naming it")
    return cty


def figure_doc(code, day, illness, students, screens=1):
    d = bl.summary_doc(code, day, 1)
    d["absences"]["by_cause"]["illness"] = illness
    d["population"]["student"], d["population"]["total"] = students, students + 1
    d["fevers"]["screens"] = screens
    return d


def send_figures(b, c):
    """THU: W1 1 illness absence of 8 students (125.0 per 1,000), W2 3 of 8 (375.0), J1
    2 of 10 (200.0), =1+2学校 (W3, a name a spreadsheet would run) 0 of 8; and W1's
    days before, for its trend."""
    b.enrol("W3", county=W, name="=1+2学校")
    docs = [figure_doc("W1", THU, 1, 8), figure_doc("W2", THU, 3, 8),
            figure_doc("J1", THU, 2, 10), figure_doc("W3", THU, 0, 8)]
    docs += [figure_doc("W1", day, 0, 8, screens=n) for day, n in TREND.items()]
    for d in docs:
        st, _, raw = bl.send(c, b, b.schools[d["school"]["code"]], d)
        check(st == 201, "%s's summary of %s: %d %s" % (d["school"]["code"], d["date"], st,
                                                       raw[:80]))


def csv_rows(st, h, text):
    """A CSV answer's rows (lists of cells), after checking it is one to save."""
    import csv
    import io
    ok = (st == 200 and text.startswith(b"\xef\xbb\xbf") and
          h.get("Content-Type", "").startswith("text/csv") and
          h.get("Content-Disposition", "").startswith("attachment; filename=") and
          "nosniff" in h.get("X-Content-Type-Options", ""))
    check(ok, "a CSV to save: UTF-8 with a BOM, text/csv, attachment (%d %s)" % (
        st, h.get("Content-Disposition")))
    return list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))


def figures(port, b, city, cty):
    """A day's drill-down, city → county → school, highest illness rate first; the
    county officer's scope through the API; the figures' CSV."""
    st, j, _, _ = city.req("GET", "/api/v1/figures?day=" + THU)
    row = j["rows"][0] if st == 200 else {}
    check(st == 200 and j["level"] == "city" and len(j["rows"]) == 1 and
          row["schools"]["reported"] == 4 and row["illness_per_1000"] == 176.5,
          "the city's day: 4 schools, 6 illness absences of 34 students (%d %s)" % (
              st, row.get("illness_per_1000")))
    st, j, _, _ = city.req("GET", "/api/v1/figures?level=county&day=" + THU)
    got = [(x["county"], x["illness_per_1000"]) for x in j["rows"]] if st == 200 else None
    check(got == [(J, 200.0), (W, 166.7)],
          "counties, highest illness rate first: %s" % got)
    st, j, _, _ = city.req("GET", "/api/v1/figures?level=school&county=%s&day=%s" % (Q(W), THU))
    got = [(x["school"]["code"], x["illness_per_1000"]) for x in j["rows"]] if st == 200 else None
    check(got == [("W2", 375.0), ("W1", 125.0), ("W3", 0.0)],
          "a county's schools, highest illness rate first: %s" % got)
    w2 = j["rows"][0]
    check(w2["checks"]["morning"]["rate"] is not None and w2["fevers"]["screens"] == 1 and
          w2["referrals"]["opened"] == 1 and w2["absences"]["by_symptom"]["fever"] == 1 and
          w2["devices"]["availability"] == 0.98,
          "a school's row: check rate, fever screens, referrals, symptoms, availability")
    st, j, _, _ = city.req("GET", "/api/v1/figures?level=school&day=" + THU)
    check(st == 400 and j["parameter"] == "county", "the schools of the whole city: 400 (%d)" % st)
    st, j, _, _ = city.req("GET", "/api/v1/figures?day=2026-13-01")
    check(st == 400 and j["parameter"] == "day", "a bad day: 400 naming it (%d %s)" % (st, j))
    # a county officer: their county, whatever is asked
    st, j, _, _ = cty.req("GET", "/api/v1/figures?day=" + THU)
    check(st == 200 and j["level"] == "county" and [x["county"] for x in j["rows"]] == [W],
          "the county officer's figures: their county (%d %s)" % (st, j and j.get("rows")))
    st, j, _, _ = cty.req("GET", "/api/v1/figures?level=city&day=" + THU)
    check(st == 403 and j["parameter"] == "level", "the county officer and the city: 403 (%d)" % st)
    st, j, _, _ = cty.req("GET", "/api/v1/figures?level=school&county=%s&day=%s" % (Q(J), THU))
    check(st == 403, "the county officer and another county's schools: 403 (%d)" % st)
    st, j, _, _ = cty.req("GET", "/api/v1/figures?level=school&day=" + THU)
    codes = [x["school"]["code"] for x in j["rows"]] if st == 200 else None
    check(codes == ["W2", "W1", "W3"], "... their own county's schools (%s)" % codes)
    st, _, h, text = cty.req("GET", "/api/v1/figures.csv?level=school&day=" + THU)
    rows = csv_rows(st, h, text)
    names = [r[rows[0].index("school_name")] for r in rows[1:]]
    check([r[rows[0].index("school_code")] for r in rows[1:]] == ["W2", "W1", "W3"] and
          "'=1+2学校" in names and "absences_illness" in rows[0],
          "the figures' CSV: the table's order, a formula-like name guarded (%s)" % names)


def trends(port, b, city, cty):
    st, j, _, _ = city.req("GET", "/api/v1/trends?level=school&school=W1&to=" + THU)
    days = {x["day"]: x for x in j["rows"]} if st == 200 else {}
    check(st == 200 and len(j["rows"]) == 30 and j["from"] == "2026-11-04" and
          all(days[d]["fevers"]["screens"] == n for d, n in TREND.items()) and
          days["2026-11-20"]["fevers"] is None,
          "W1's 30 days: a row a day, its fever screens, null where it did not report "
          "(%d, %d rows)" % (st, len(days)))
    st, j, _, _ = city.req("GET", "/api/v1/trends?days=90&level=county&county=%s&to=%s" % (Q(J), THU))
    check(st == 200 and len(j["rows"]) == 90 and j["rows"][-1]["illness_per_1000"] == 200.0,
          "a county's 90 days (%d)" % st)
    st, j, _, _ = city.req("GET", "/api/v1/trends?days=7&to=" + THU)
    check(st == 400 and j["parameter"] == "days", "days=7: 400 (%d)" % st)
    st, j, _, _ = city.req("GET", "/api/v1/trends?level=county&to=" + THU)
    check(st == 400 and j["parameter"] == "county", "a county trend without a county: 400")
    st, j, _, _ = cty.req("GET", "/api/v1/trends?to=" + THU)
    check(st == 200 and j["level"] == "county" and j["county"] == W and len(j["rows"]) == 30,
          "the county officer's trend: their county (%d)" % st)
    st, j, _, _ = cty.req("GET", "/api/v1/trends?level=school&school=J1&to=" + THU)
    check(st == 404 and j["parameter"] == "school", "another county's school: 404 (%d %s)" % (st, j))
    st, j, _, _ = cty.req("GET", "/api/v1/trends?level=city&to=" + THU)
    check(st == 403, "the county officer and the city's trend: 403 (%d)" % st)
    st, _, h, text = city.req("GET", "/api/v1/trends.csv?level=school&school=W1&to=" + THU)
    rows = csv_rows(st, h, text)
    col = rows[0].index("fever_screens")
    got = {r[0]: r[col] for r in rows[1:]}
    check(len(rows) == 31 and all(got[d] == str(n) for d, n in TREND.items()),
          "the trend's CSV: the same numbers (%d rows)" % len(rows))


def exports(port, b, city, cty):
    """Every other table as CSV, scoped as its JSON."""
    st, _, h, text = cty.req("GET", "/api/v1/today/counties.csv?deadline=day&day=" + FRI)
    rows = csv_rows(st, h, text)
    check([r[2] for r in rows[1:]] == [W] and rows[0][:3] == ["day", "deadline", "county"],
          "today's counties as CSV, the county officer's: %s" % rows[1:])
    st, _, h, text = city.req("GET", "/api/v1/today/schools.csv?deadline=day&day=" + FRI)
    rows = csv_rows(st, h, text)
    check(sorted(r[3] for r in rows[1:]) == ["J1", "W1", "W2", "W3"],
          "today's missing and late schools as CSV: %s" % [r[3] for r in rows[1:]])
    st, _, h, text = cty.req("GET", "/api/v1/notices.csv")
    rows = csv_rows(st, h, text)
    check(len(rows) == 2 and "W1" in rows[1], "the county officer's notices as CSV: %s" % rows[1:])
    st, j, _, _ = cty.req("GET", "/api/v1/notices.csv?county=" + Q(J))
    check(st == 403, "another county's notices as CSV: 403 (%d)" % st)
    st, j, _, _ = city.req("GET", "/api/v1/users.csv")
    check(st == 403, "the users' CSV is the administrators' (%d)" % st)


def reported_closed(b, c, city):
    """A school whose summary (version 2) says it was closed: counted as reporting, and
    shown as "reported closed" in today's counties and their CSV (issue 17's 'schools
    that reported closed')."""
    thu = (datetime.date.fromisoformat(FRI) - datetime.timedelta(days=1)).isoformat()
    d = bl.sample("summary-v2")
    # A later revision than send_figures' (the latest revision is the truth).
    d["school"], d["date"], d["revision"] = {"code": "W2", "name": "学校W2"}, thu, 9
    d["closed"] = {"kind": "closure", "reason": "暴雨停课"}
    st, _, raw = bl.send(c, b, b.schools["W2"], d)
    check(st == 201, "W2's closed summary of %s: %d %s" % (thu, st, raw[:80]))
    st, j, _, _ = city.req("GET", "/api/v1/today?deadline=day&day=" + thu)
    w = [x for x in j["counties"] if x["county"] == W] if st == 200 else []
    check(w and w[0]["reported_closed"] == 1, "today: %s's county has one school that reported "
          "closed (%s)" % (thu, w and w[0].get("reported_closed")))
    # Its students and staff apart (version 2's groups) reach the figures' rows, which
    # the page shows as the students' and the staff's check rates and staff illness.
    st, j, _, _ = city.req("GET", "/api/v1/figures?level=county&day=" + thu)
    rows = {r.get("county"): r for r in j.get("rows", [])} if st == 200 else {}
    g = (rows.get(W) or {}).get("groups") or {}
    check(g.get("schools") == 1 and "morning_rate" in g.get("staff", {}) and
          "absences_illness" in g.get("staff", {}),
          "the figures of %s's county have its students and staff apart: %s" % (thu, g))
    st, _, h, text = city.req("GET", "/api/v1/today/counties.csv?deadline=day&day=" + thu)
    rows = csv_rows(st, h, text)
    col = rows[0].index("reported_closed") if rows and "reported_closed" in rows[0] else -1
    check(col >= 0 and [r[col] for r in rows[1:] if r[2] == W] == ["1"],
          "today's counties CSV has reported_closed: %s" % rows)


class Stream:
    """GET /api/v1/events held open, read as it comes."""

    def __init__(self, page):
        ctx = ssl.create_default_context(cafile=page.b.certs["ca"])
        self.conn = http.client.HTTPSConnection("127.0.0.1", page.port, context=ctx, timeout=10)
        self.conn.request("GET", "/api/v1/events", headers={"Cookie": "gsb_session=" + page.cookie})
        self.r = self.conn.getresponse()
        self.status, self.text = self.r.status, b""
        if self.status != 200:
            self.text = self.r.read()

    def wait_for(self, needle, timeout):
        import time
        end = time.monotonic() + timeout
        while needle not in self.text and time.monotonic() < end:
            self.conn.sock.settimeout(max(0.05, end - time.monotonic()))
            try:
                chunk = self.r.read1(4096)
            except (TimeoutError, OSError):
                break
            if not chunk:
                break
            self.text += chunk
        return needle in self.text

    def close(self):
        self.conn.close()


def live_notices(port, b, c, cty):
    """A notice ingested while a stream is open is told at once (an event; the page
    then reads the notices); an acknowledgement too; at most 4 streams per user."""
    import time
    s = Stream(cty)
    check(s.status == 200 and s.r.getheader("Content-Type").startswith("text/event-stream")
          and s.wait_for(b": open", 5), "the live notices' stream opens (%d)" % s.status)
    t0 = time.monotonic()
    st, _, raw = bl.send(c, b, b.schools["W1"], bl.notice_doc("W1", 2, THU))
    got = s.wait_for(b"event: notices", 5)
    print("# a notice told on the stream %.2f s after its upload" % (time.monotonic() - t0))
    check(st == 201 and got, "a new notice: an event on the stream (%d)" % st)
    s.text = b""
    st, _, _, _ = cty.req("POST", "/api/v1/notices/ack", {"school": "W1", "notice_id":
                                                          "W1/referral/2", "note": "已处理"})
    check(st == 200 and s.wait_for(b"event: notices", 5), "an acknowledgement: an event too")
    more = [Stream(cty) for _ in range(3)]
    fifth = Stream(cty)
    check([m.status for m in more] == [200] * 3 and fifth.status == 429 and
          b"too many live connections" in fifth.text,
          "a user's fifth stream: 429 (%s, %d)" % ([m.status for m in more], fifth.status))
    for m in more + [fifth]:
        m.close()
    return s  # open until the daemon stops: it must not hold the stop


def acknowledging(port, b, city, cty):
    ack = {"school": "W1", "notice_id": "W1/referral/1", "note": "已联系家长，送医"}
    st, j, _, _ = cty.req("POST", "/api/v1/notices/ack", ack, csrf=False)
    check(st == 403 and "CSRF" in j["error"], "no CSRF token: 403 (%d %s)" % (st, j))
    good, cty.csrf = cty.csrf, "x" * len(cty.csrf)
    st, j, _, _ = cty.req("POST", "/api/v1/notices/ack", ack)
    check(st == 403, "a wrong CSRF token: 403 (%d)" % st)
    cty.csrf = good
    aud = Page(b, port)
    aud.login("audit1")
    st, j, _, _ = aud.req("POST", "/api/v1/notices/ack", ack)
    check(st == 403 and "auditor" in j["error"], "the auditor cannot acknowledge: %d %s" % (st, j))
    st, j, _, _ = cty.req("POST", "/api/v1/notices/ack", dict(ack, note=""))
    check(st == 400 and j["parameter"] == "note", "an empty note: 400 (%d %s)" % (st, j))
    n = one(b, "SELECT count(*) FROM audit_log WHERE action = 'notice ack'")
    check(n == "0", "nothing acknowledged by the refusals (%s rows)" % n)
    st, j, _, _ = cty.req("POST", "/api/v1/notices/ack", ack)
    check(st == 200 and j["acknowledged_by"] == "王科长", "acknowledged: %d %s" % (st, j))
    row = one(b, "SELECT actor || '|' || target || '|' || detail FROM audit_log "
                "WHERE action = 'notice ack'")
    check(row == "王科长|W1/referral/1|" + ack["note"], "the audit row: %r" % row)
    st, j, _, _ = city.req("POST", "/api/v1/notices/ack", ack)
    check(st == 409 and j["acknowledged_by"] == "王科长", "a second one: 409 (%d %s)" % (st, j))
    st, j, _, _ = city.req("GET", "/api/v1/notices")
    order = [(n["school"]["code"], n["acknowledged_at"] is None) for n in j["notices"]]
    check(order == [("J1", True), ("W1", False)], "unacknowledged first: %s" % order)


def throttle(port, b):
    stranger = Page(b, port)
    for i in range(5):
        st, j, _ = stranger.login("王科长", "guess-password-%d" % i)
    check(st == 429 and j.get("retry_after_s", 0) >= 60, "five wrong: the name waits at "
          "that address (%d %s)" % (st, j))
    st, j, _ = stranger.login("王科长")
    check(st == 429, "... even with the right password there (%d)" % st)
    elsewhere = Page(b, port, source="127.0.0.2")
    st, j, _ = elsewhere.login("王科长")
    check(st == 200, "the user logs in from another address meanwhile (%d %s)" % (st, j))
    n = one(b, "SELECT count(*) FROM audit_log WHERE action IN ('page login failed', "
              "'page login throttled', 'page login refused')")
    check(int(n) >= 6, "failed logins audited (%s rows)" % n)


def guessing_flood(port, b):
    """12 addresses that have failed before, 4 guesses at a time each (the most one
    address may have in progress), 2 rounds: 96 password checks queued for the 2
    slots, while city1 logs in from a clean address three times."""
    import statistics
    import threading
    import time
    addrs = ["127.0.1.%d" % i for i in range(1, 13)]
    for a in addrs:
        Page(b, port, source=a).login("nobody-%s" % a, "first-guess-000")

    def guesser(a, k):
        for n in range(2):
            Page(b, port, source=a).login("guess-%s-%d-%d" % (a, k, n), "wrong-guess-0000")

    threads = [threading.Thread(target=guesser, args=(a, k)) for a in addrs for k in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # the queue is full
    times = []
    for _ in range(3):
        t0 = time.monotonic()
        st, _, _ = Page(b, port, source="127.0.0.9").login("city1")
        times.append(time.monotonic() - t0)
        check(st == 200, "city1 logs in during the flood (%d)" % st)
    busy = sum(t.is_alive() for t in threads)
    for t in threads:
        t.join(60)
    med = statistics.median(times)
    print("# city1's logins during the flood: %s s (median %.2f s; %d guessers still busy)"
          % (["%.2f" % x for x in times], med, busy))
    check(med < 0.8 and busy > 0, "a clean address's login goes before the guesses' "
          "(median %.2f s, want < 0.8 s, with the flood still running)" % med)


def disable_and_logout(port, b, city, cty):
    r = b.cli("user", "disable", "王科长")
    check(r.returncode == 0, "user disable: %s" % (r.stdout + r.stderr).strip())
    st, j, _, _ = cty.req("GET", "/api/v1/today")
    check(st == 401, "a disabled user's session ends at the next request (%d)" % st)
    st, j, _ = Page(b, port, source="127.0.0.3").login("王科长")
    check(st == 403 and "disabled" in j["error"], "the disabled user's login: 403 (%d)" % st)
    st, j, h, _ = city.req("POST", "/api/v1/logout")
    check(st == 200 and "Max-Age=0" in h.get("Set-Cookie", ""), "logout: %d" % st)
    st, j, _, _ = city.req("GET", "/api/v1/session")
    check(st == 401, "after logout: 401 (%d)" % st)
    acts = one(b, "SELECT string_agg(DISTINCT action, ',' ORDER BY action) FROM audit_log "
                 "WHERE action LIKE 'page %'")
    for a in ("page login", "page logout", "page user add", "page user disable"):
        check(a in acts.split(","), "audit_log has '%s' rows (%s)" % (a, acts))


def admin_users(port, b):
    adm = Page(b, port, source="127.0.0.4")
    st, j, _ = adm.login("admin1")
    check(st == 200 and j["user"]["role"] == "admin", "the administrator logs in (%d)" % st)
    st, j, _, _ = adm.req("GET", "/api/v1/users")
    names = [u["name"] for u in j["users"]] if st == 200 else None
    check(names and "王科长" in names and all("hash" not in u for u in j["users"]),
          "the users, without hashes: %s" % names)
    new = {"name": "赵科长", "role": "county", "county": J, "password": "zhao-password-1"}
    st, j, _, _ = adm.req("POST", "/api/v1/users", dict(new, password="short"))
    check(st == 400 and "too short" in j["error"], "a short password: 400 (%d %s)" % (st, j))
    st, j, _, _ = adm.req("POST", "/api/v1/users", dict(new, county=None, role="county"))
    check(st == 400, "a county officer without a county: 400 (%d %s)" % (st, j))
    st, j, _, _ = adm.req("POST", "/api/v1/users", new)
    check(st == 201 and j["user"]["county"] == J, "a new county officer: 201 (%d %s)" % (st, j))
    st, j, _, _ = adm.req("POST", "/api/v1/users", dict(new, name="CITY1"))
    check(st == 409, "a name alike in case: 409 (%d %s)" % (st, j))
    zhao = Page(b, port, source="127.0.0.4")
    st, j, _ = zhao.login("赵科长", new["password"])
    st, j, _, _ = zhao.req("GET", "/api/v1/today?deadline=day&day=" + FRI)
    check(st == 200 and [c["county"] for c in j["counties"]] == [J],
          "the new officer sees their county (%d)" % st)
    st, j, _, _ = zhao.req("GET", "/api/v1/users")
    check(st == 403, "a county officer and the users API: 403 (%d)" % st)
    st, j, _, _ = adm.req("POST", "/api/v1/users/disable", {"name": "admin1"})
    check(st == 409, "one's own account cannot be disabled: 409 (%d)" % st)
    st, j, _, _ = adm.req("POST", "/api/v1/users/disable", {"name": "赵科长"})
    check(st == 200 and j["active"] is False, "disabled from the page (%d %s)" % (st, j))
    st, j, _, _ = zhao.req("GET", "/api/v1/today")
    check(st == 401, "... and their session ended (%d)" % st)
    st, j, _, _ = adm.req("POST", "/api/v1/users/enable", {"name": "赵科长"})
    check(st == 200 and j["active"] is True, "enabled again (%d)" % st)
    st, j, _, _ = adm.req("POST", "/api/v1/users/enable", {"name": "nobody"})
    check(st == 404, "an unknown user: 404 (%d)" % st)
    rows = one(b, "SELECT string_agg(action || ':' || target, ',' ORDER BY id) FROM audit_log "
               "WHERE actor = 'admin1' AND action LIKE 'page user %'")
    check(rows == "page user add:赵科长,page user disable:赵科长,page user enable:赵科长",
          "audited with the administrator as actor: %s" % rows)
    st, _, h, text = adm.req("GET", "/api/v1/users.csv")
    rows = csv_rows(st, h, text)
    check(rows[0] == ["name", "role", "county", "active", "created_at"] and
          ["赵科长", "county", J, "yes"] in [r[:4] for r in rows],
          "the users as CSV: %s" % rows[:2])


def reload_and_files(b, c):
    text = open(b.conf, encoding="utf-8").read()
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text.replace("threads = 2\n", "threads = 3\n"))
    c.proc.send_signal(signal.SIGHUP)
    check(c.wait_for("reload: [page] changed; restart gatescreen-bureaud to apply it"),
          "a [page] change on reload: the log says it needs a restart")
    key = os.path.join(b.dir, "page.key")
    shutil.copy(b.certs["server.key"], key)
    os.chmod(key, 0o644)
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text.replace("tls_key = %s\nthreads" % b.certs["server.key"],
                             "tls_key = %s\nthreads" % key))
    r = subprocess.run([bl.BUREAUD, "--check-config", b.conf], capture_output=True, text=True)
    check(r.returncode == 2 and key + ": mode 0644" in r.stderr and "chmod 600" in r.stderr,
          "a page key others can read: --check-config says so (%d %s)" % (
              r.returncode, r.stderr.strip()[:200]))
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    with bl.Bureau() as b:
        port = setup(b)
        users(b)
        c = b.collector()
        send_day(b, c)
        files_and_headers(port, b)
        city = login(port, b)
        cty = scoping(port, b, city)
        acknowledging(port, b, city, cty)
        send_figures(b, c)
        figures(port, b, city, cty)
        trends(port, b, city, cty)
        exports(port, b, city, cty)
        reported_closed(b, c, city)
        stream = live_notices(port, b, c, cty)
        throttle(port, b)
        guessing_flood(port, b)
        disable_and_logout(port, b, city, cty)
        admin_users(port, b)
        reload_and_files(b, c)
        rc, secs = c.stop()
        stream.close()
        check(rc == 0 and secs < 10, "gatescreen-bureaud with its page stops cleanly, a live "
              "stream open (%s, %.1f s)" % (rc, secs))
    gslib.finish()


if __name__ == "__main__":
    main()
