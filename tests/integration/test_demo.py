"""`make demo` shows all three users (issue 17): tests/tools/demo_day.py in its short
mode (a school of 200, a morning of one to two minutes, no noon), stdin not a terminal
and --keep-running, so that it holds at the end as it does at a terminal. Its output: the
arrival slots, the observation, the visitor, the registers' CSV and their PDF printed by
Chromium from the page (a page per class, the headings). While it holds:
the nurse's page answers over HTTPS (the demo's CA, verification on) and the demo
logins work; the west gate's face terminal (gatescreen-sim's alertStream) recorded people; the bureau's pull API (the demo's token) has the 60 synthetic schools and
the demo school for each of the 30 days before today, the demo school's summary of
today and its referral notices (sent by its own gatescreend over mutual TLS), and the
two schools that are never on time late at the last school day's morning deadline.
Then SIGINT, as a Ctrl-C: the demo exits 0, its ports are free and PostgreSQL is shut
down, no process of it is left. First: a taken port is refused before anything starts."""
import datetime
import http.client
import glob
import json
import os
import random
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import zoneinfo

import gslib
from gslib import check

DEMO = os.path.join(gslib.SOURCE, "tests", "tools", "demo_day.py")
sys.path.insert(0, os.path.dirname(DEMO))
import demo_bureau  # noqa: E402
import demo_day  # noqa: E402
import demo_day  # noqa: E402

READY = "everything keeps running"


def free(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def port_base():
    for _ in range(100):
        base = random.randrange(20000, 60000)
        if all(free(p) for p in range(base, base + 5)):
            return base
    raise RuntimeError("no five free ports in a row")


def demo(d, base, *extra):
    return subprocess.Popen([sys.executable, DEMO, "--build", gslib.BUILD, "--dir", d,
                             "--port-base", str(base), *extra], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_port_taken(d):
    base = port_base()
    taken = socket.socket()
    taken.bind(("127.0.0.1", base + 2))
    taken.listen()
    try:
        p = demo(d, base, "--short")
        out = p.communicate(timeout=30)[0]
    finally:
        taken.close()
    check(p.returncode != 0 and "port %d" % (base + 2) in out and "is taken" in out
          and "DEMO_PORT_BASE" in out, "a taken port is refused, naming it and DEMO_PORT_BASE "
          "(%d: %s)" % (p.returncode, out.strip()[-200:]))
    check(not os.path.exists(d), "nothing was started or made before the refusal")


def https(port, ca, method, path, body=None, headers=None):
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.getheader("Content-Type") or "", r.read()
    finally:
        c.close()


def check_school(d, port):
    ca = os.path.join(d, "certs", "ca.pem")
    st, ctype, body = https(port, ca, "GET", "/")
    check(st == 200 and ctype.startswith("text/html") and b"<html" in body.lower(),
          "the nurse's page answers over HTTPS, verified with the demo's CA (%d %s)"
          % (st, ctype))
    for name, _, password in demo_day.LOGINS:
        st, _, body = https(port, ca, "POST", "/api/v1/login",
                            json.dumps({"name": name, "password": password}),
                            {"Content-Type": "application/json"})
        check(st == 200, "the demo login %s works (%d %s)" % (name, st, body[:100]))


def pull(d, port, path, **params):
    with open(os.path.join(d, "bureau", "pull.token")) as f:
        token = f.read().strip()
    st, _, body = https(port, os.path.join(d, "certs", "ca.pem"), "GET",
                        path + "?" + urllib.parse.urlencode(params),
                        headers={"Authorization": "Bearer " + token})
    return st, json.loads(body)


def check_bureau(d, port):
    today = datetime.datetime.now(zoneinfo.ZoneInfo("Asia/Shanghai")).date()
    first, last = today - datetime.timedelta(days=30), today - datetime.timedelta(days=1)
    st, a = pull(d, port, "/v1/rollup", **{"from": first.isoformat(), "to": last.isoformat(),
                                           "level": "school"})
    rows = [r for r in a.get("rows", []) if r["revision"]] if st == 200 else []
    synthetic = {(r["school"]["code"], r["day"]) for r in rows
                 if r["school"]["code"].startswith("XC")}
    counties = {r["county"] for r in rows}
    check(st == 200 and len(synthetic) == 60 * 30 and len(rows) == 61 * 30
          and counties == set(demo_bureau.COUNTIES),
          "the bureau's roll-up has 60 schools x 30 days in three counties, and the demo "
          "school's (%d: %d synthetic school-days, %d in all, %s)"
          % (st, len(synthetic), len(rows), sorted(counties)))
    st, a = pull(d, port, "/v1/rollup", **{"from": (last - datetime.timedelta(days=1)).isoformat(),
                                           "to": last.isoformat(), "level": "county"})
    ill = {(r["county"], r["day"]): r["absences"]["by_cause"]["illness"] for r in a["rows"]}
    usual = [v for (c, _), v in ill.items() if c != demo_bureau.OUTBREAK]
    check(st == 200 and all(ill[(demo_bureau.OUTBREAK, day)] > 2 * max(usual)
                            for (_, day) in ill),
          "the outbreak county's illness absences stand out (%r)" % sorted(ill.items()))
    st, a = pull(d, port, "/v1/rollup", **{"from": today.isoformat(), "to": today.isoformat(),
                                           "level": "school", "county": "魏都区"})
    mine = [r for r in a.get("rows", []) if r["school"]["code"] == "DEMO001"]
    check(st == 200 and mine and mine[0]["revision"] and mine[0]["checks"]["morning"]["done"] > 100,
          "the demo school's summary of today arrived from its gatescreend (%d %r)"
          % (st, mine[0] if mine else None))
    st, a = pull(d, port, "/v1/notices", school="DEMO001")
    kinds = [n["type"] for n in a.get("notices", [])]
    check(st == 200 and kinds.count("referral_opened") >= 1,
          "the demo school's referral notices arrived (%d %r)" % (st, kinds))
    day = last
    while day.weekday() >= 5:
        day -= datetime.timedelta(days=1)
    st, a = pull(d, port, "/v1/missing", day=day.isoformat(), deadline="morning")
    late = sorted(s["code"] for c in a.get("counties", []) for s in c["schools"]
                  if s["status"] == "late")
    check(st == 200 and late == sorted(demo_bureau.LATE),
          "at %s's morning deadline exactly the two schools that never report on time are "
          "late (%d %r)" % (day, st, late))


def page_request(port, ca, method, path, body=None, cookie=None):
    """One request to the bureau's page: (status, JSON or None, the session cookie set)."""
    ctx = ssl.create_default_context(cafile=ca)
    c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx, timeout=30)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if cookie:
        headers["Cookie"] = cookie
    try:
        c.request(method, path, body=json.dumps(body) if body is not None else None,
                  headers=headers)
        r = c.getresponse()
        text = r.read()
        set_cookie = (r.getheader("Set-Cookie") or "").split(";")[0]
        try:
            return r.status, json.loads(text), set_cookie
        except ValueError:
            return r.status, None, set_cookie
    finally:
        c.close()


def check_bureau_page(d, port):
    """The officers the demo printed log in to the bureau's page: the city officer
    sees the three counties with the demo school among the 61, the county officer only
    the demo school's county."""
    ca = os.path.join(d, "certs", "ca.pem")
    st, ctype, _ = https(port, ca, "GET", "/")
    check(st == 200 and ctype.startswith("text/html"),
          "the bureau's page answers / (%d %s)" % (st, ctype))
    for name, role, county, password in demo_day.OFFICERS:
        st, j, cookie = page_request(port, ca, "POST", "/api/v1/login",
                                     {"name": name, "password": password})
        check(st == 200 and j["user"]["role"] == role and cookie,
              "%s logs in to the bureau's page as the %s officer (%d)" % (name, role, st))
        if st != 200:
            continue
        day = demo_day.last_school_day(datetime.date.today().isoformat())
        st, j, _ = page_request(port, ca, "GET", "/api/v1/today?deadline=day&day=" + day,
                                cookie=cookie)
        counties = sorted(c["county"] for c in j["counties"]) if st == 200 else []
        expected = j["counts"]["expected"] if st == 200 else 0
        want = [county] if county else sorted(demo_bureau.COUNTIES)
        # 60 synthetic schools and the demo school; a county officer sees a part.
        check(st == 200 and counties == want and (expected == 61 if not county
                                                  else 0 < expected < 61),
              "%s's 'today at the deadline' of %s: counties %s, %d schools expected" %
              (name, day, counties, expected))


def main():
    top = tempfile.mkdtemp(prefix="gs-demo-")
    os.chmod(top, 0o755)  # as root, PostgreSQL runs as postgres and must reach its folder
    test_port_taken(os.path.join(top, "refused"))
    d = os.path.join(top, "demo")
    base = port_base()
    t0 = time.monotonic()
    p = demo(d, base, "--short", "--keep-running")
    lines, ready = [], threading.Event()

    def read():
        for line in p.stdout:
            lines.append(line)
            if READY in line:
                ready.set()
        ready.set()  # it ended: no use waiting
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        ok = ready.wait(240) and p.poll() is None
        text = "".join(lines)
        check(ok, "the short demo reaches its end and holds (%.0f s)" % (time.monotonic() - t0))
        if not ok:
            print(text[-5000:])
        check("https://127.0.0.1:%d/" % (base + 1) in text and "nurse / " in text
              and "gate / " in text and "https://127.0.0.1:%d/" % (base + 3) in text
              and "officer / demo-officer-2020" in text
              and "/v1/missing" in text and "--cacert" in text,
              "the demo prints the nurse's page, the bureau's page, their logins and the "
              "bureau's pull commands")
        check("arrival slot 一年级" in text and "comes back tomorrow (分批开学)" in text,
              "the demo shows its arrival slots and the grade not back yet (issue 19)")
        check("under health observation for 7 days" in text
              and "register a visitor on the page: 陈师傅: 36.50 °C: admitted" in text,
              "the demo puts a pupil under observation and registers a visitor (issue 19)")
        regs = glob.glob(os.path.join(d, "**", "register-*.csv"), recursive=True)
        head = open(regs[0], encoding="utf-8").readline() if regs else ""
        check("as CSV: " in text and head.startswith("\ufeff日期,班级,学号,姓名,晨检体温"),
              "the demo downloads the day's registers (issue 19): %s" % regs)
        pdfs = glob.glob(os.path.join(d, "register-*.pdf"))
        info = subprocess.run(["pdfinfo", pdfs[0]], capture_output=True,
                              text=True).stdout if pdfs else ""
        pages = re.search(r"Pages:\s+(\d+)", info)
        text_pdf = subprocess.run(["pdftotext", "-enc", "UTF-8", pdfs[0], "-"], capture_output=True,
                                  text=True).stdout if pdfs else ""
        check("the day's registers printed" in text and "the printed registers (PDF): %s"
              % (pdfs[0] if pdfs else "?") in text and pages and int(pages.group(1)) == 8
              and "晨午检登记表" in text_pdf and "因病缺勤登记表" in text_pdf,
              "the demo prints the day's registers to PDF from the page, a page for each of "
              "its 8 classes, and names it among its artifacts (issue 19): %s, %s pages"
              % (pdfs, pages.group(1) if pages else "no"))
        if ok:
            check_school(d, base + 1)
            check_bureau(d, base + 2)
            check_bureau_page(d, base + 3)
            n = gslib.db_query(os.path.join(d, "ledger.db"), "SELECT count(*) FROM "
                               "terminal_events WHERE terminal = 'face-west-1'")[0][0]
            check(n >= 5 and "face-west-1]: alertStream open" in open(
                os.path.join(d, "gatescreend.log"), encoding="utf-8").read(),
                  "the west gate's face terminal (simulated, its alertStream) recorded "
                  "people (%d events)" % n)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
        try:
            rc = p.wait(60)
        except subprocess.TimeoutExpired:
            p.kill()
            rc = p.wait()
        reader.join(5)
    text = "".join(lines)
    check(rc == 0 and "PostgreSQL are stopped" in text,
          "Ctrl-C stops the demo, exit 0 (%d: %s)" % (rc, text.strip()[-300:]))
    check(all(free(q) for q in range(base, base + 5)), "its five ports are free again")
    check(not os.path.exists(os.path.join(d, "bureau", "pg", "data", "postmaster.pid")),
          "its PostgreSQL is shut down")
    left = subprocess.run(["pgrep", "-f", d], capture_output=True, text=True).stdout.split()
    check(not left, "no process of the demo is left (%r)" % left)
    print("the short demo took %.0f s" % (time.monotonic() - t0))
    if gslib.failures == 0:  # kept when something failed: the logs are in it
        shutil.rmtree(top, ignore_errors=True)
    gslib.finish()


if __name__ == "__main__":
    main()
