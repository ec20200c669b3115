"""Issue 16, item 8: names that look like other names. Before: users `admin1\\u200b`,
`\\u202eadmin` and `ＡＤＭＩＮ1` were created beside `admin1`, a password of 10 spaces was
accepted, and a roster name starting with U+202E was imported (and shown reversed).
Now: user names are NFKC-normalised and limited to a safe set (letters of one script,
digits 0-9, '.', '-', '_', single spaces between words; a name differing from a user's
only in case is that user's), passwords need 10 characters that are not spaces, and
the roster import refuses a field with a bidi control or zero-width character,
naming file:line, with nothing stored. A person id with '/' stays importable (the web
page reaches it percent-encoded: the other half of item 9).

Through the CLI (`gatescreen user add`, `roster import`) and the web page's users API
(the real daemon on plain HTTP on loopback). Figures: look-alike names and blank
passwords accepted, bad roster lines refused."""
import http.client
import json
import os
import re
import sqlite3
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
import gslib  # noqa: E402
from gslib import check, figure  # noqa: E402

PW = "admin-password-1"
LOOKALIKES = ["admin1\u200b", "\u202eadmin", "ＡＤＭＩＮ1", "аdmin1", "admin1\u2060",
              "Admin1"]  # ZWSP, RLO, full-width, Cyrillic а, word joiner, case
HEADER = "external_id,kind,name,grade,class,card,active\n"


def add(conf, name, pw=PW, role="nurse"):
    return gslib.cli(conf, "user", "add", name, "--role", role, "--by", "tester",
                     input_text=pw + "\n")


def users(db):
    return [n for (n,) in gslib.db_query(db, "SELECT name FROM users ORDER BY id")]


def test_cli_names(conf, db):
    r = add(conf, "admin1", role="admin")
    check(r.returncode == 0, "user add admin1 (%s)" % r.stderr.strip())
    accepted = []
    for name in LOOKALIKES:
        r = add(conf, name)
        if r.returncode == 0:
            accepted.append(name)
        check(r.returncode != 0 and r.stderr.strip(),
              "user add %r: refused with a message (%d: %s)"
              % (name, r.returncode, r.stderr.strip()))
    figure("lookalike_names_accepted", "%d/%d" % (len(accepted), len(LOOKALIKES)))
    r = add(conf, "admin1\u200b")
    check("U+200B" in r.stderr, "the message names the character (%s)" % r.stderr.strip())
    r = add(conf, "ＮＵＲＳＥ7")
    check(r.returncode == 0 and "NURSE7" in users(db),
          "a full-width name is stored in NFKC form: NURSE7 (%s)" % users(db))
    r1 = gslib.cli(conf, "user", "disable", "ＮＵＲＳＥ7")
    r2 = gslib.cli(conf, "user", "enable", "ＮＵＲＳＥ7")
    check(r1.returncode == 0 and r2.returncode == 0,
          "the other user commands take the name as typed too (%s%s)"
          % (r1.stderr.strip(), r2.stderr.strip()))
    r = add(conf, "王老师")
    check(r.returncode == 0, "a name in one script (Han) is fine (%s)" % r.stderr.strip())
    r = add(conf, "Anna Smith")
    check(r.returncode == 0, "a single space between words is fine (%s)" % r.stderr.strip())


def delete_user(db, name):
    con = sqlite3.connect(db)
    with con:
        con.execute("DELETE FROM users WHERE name = ?", (name,))
    con.close()


def test_cli_passwords(conf, db):
    blank = []
    for pw in (" " * 10, " " * 20, "a b c d e f g h i", "\u3000" * 12, "abc\u200b" * 2 + "\u200b" * 6):
        r = add(conf, "pwtest", pw)
        if r.returncode == 0:
            blank.append(pw)
            delete_user(db, "pwtest")
        check(r.returncode != 0 and "too short" in r.stderr,
              "password %r: refused as too short (%d: %s)"
              % (pw, r.returncode, r.stderr.strip()))
    figure("blank_passwords_accepted", "%d/5" % len(blank))
    r = add(conf, "pwtest", "correct horse battery")
    check(r.returncode == 0, "a passphrase with spaces and 19 other characters is fine (%s)"
          % r.stderr.strip())


def http_req(port, method, path, body=None, cookie=None, csrf=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    h = {"Content-Type": "application/json"} if body is not None else {}
    if cookie:
        h["Cookie"] = "gs_session=" + cookie
    if csrf:
        h["X-CSRF-Token"] = csrf
    c.request(method, path, body=json.dumps(body).encode() if body is not None else None,
              headers=h)
    r = c.getresponse()
    text = r.read().decode("utf-8", "replace")
    cookies = r.getheader("Set-Cookie") or ""
    c.close()
    try:
        return r.status, json.loads(text), cookies
    except ValueError:
        return r.status, {}, cookies


def test_web(conf, db, port):
    dm = gslib.Daemon(conf)
    try:
        check(dm.wait_for("web: serving", 20), "gatescreend serves plain HTTP on loopback")
        st, j, ck = http_req(port, "POST", "/api/v1/login", {"name": "admin1", "password": PW})
        check(st == 200, "admin1 logs in (%d)" % st)
        cookie = re.match(r"gs_session=([^;]*)", ck).group(1) if st == 200 else None
        csrf = j.get("csrf")
        for name in ("admin1\u200b", "\u202eadmin", "ＡＤＭＩＮ1"):
            st, j, _ = http_req(port, "POST", "/api/v1/users",
                                {"name": name, "role": "nurse", "password": "web-password-1"},
                                cookie, csrf)
            check(st in (400, 409), "users API: %r refused (%d %s)" % (name, st, j.get("error")))
        st, j, _ = http_req(port, "POST", "/api/v1/users",
                            {"name": "webnurse", "role": "nurse", "password": " " * 12},
                            cookie, csrf)
        check(st == 400 and "too short" in j.get("error", ""),
              "users API: a password of spaces refused (%d %s)" % (st, j.get("error")))
        st, j, _ = http_req(port, "POST", "/api/v1/login",
                            {"name": "ＮＵＲＳＥ7", "password": PW})
        check(st == 200 and j.get("user", {}).get("name") == "NURSE7",
              "a full-width name logs in as its NFKC form NURSE7 (%d %s)" % (st, j))
    finally:
        dm.stop()


def roster_case(conf, db, d, name, body, line, needle):
    path = os.path.join(d, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + body)
    before = gslib.db_dump(db)
    r = gslib.cli(conf, "roster", "import", path)
    said = "%s:%d:" % (path, line)
    ok = r.returncode != 0 and said in r.stderr and needle in r.stderr
    check(ok, "roster %s: refused, naming %s and %s (%d: %s)"
          % (name, said, needle, r.returncode, r.stderr.strip()[:200]))
    check(gslib.db_dump(db) == before, "roster %s: nothing stored" % name)
    return ok


def test_roster(conf, db, d):
    refused = 0
    refused += roster_case(conf, db, d, "rlo-name.csv",
                           "S1,student,张三,一年级,一年级1班,2001,1\n"
                           "S2,student,\u202e三李,一年级,一年级1班,2002,1\n", 3, "U+202E")
    refused += roster_case(conf, db, d, "zw-id.csv",
                           "S3\u200b,student,张三,一年级,一年级1班,2003,1\n", 2, "U+200B")
    refused += roster_case(conf, db, d, "lri-class.csv",
                           "S4,student,张三,一年级,\u2066一年级1班,2004,1\n", 2, "U+2066")
    figure("bad_roster_lines_refused", "%d/3" % refused)
    path = os.path.join(d, "slash.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER + "S/9,student,王五,一年级,一年级1班,2009,1\n")
    r = gslib.cli(conf, "roster", "import", path)
    check(r.returncode == 0 and gslib.db_query(db, "SELECT 1 FROM people WHERE external_id = "
                                                   "'S/9'"),
          "a person id with '/' is still imported (%s)" % r.stderr.strip())


def main():
    port = gslib.free_port()
    d, conf = gslib.scratch(gslib.BASE_CONFIG + "\n[web]\nenabled = yes\nlisten = 127.0.0.1\n"
                            "port = %d\n" % port)
    db = os.path.join(d, "ledger.db")
    test_cli_names(conf, db)
    test_cli_passwords(conf, db)
    test_web(conf, db, port)
    test_roster(conf, db, d)


if __name__ == "__main__":
    main()
    gslib.finish()
