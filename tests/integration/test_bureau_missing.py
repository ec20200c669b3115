"""Deadlines and missing reports (issue 15, 零报告) on a private PostgreSQL with the
real gatescreen-bureau and gatescreen-bureaud over mutual TLS:

- schools reporting on time (also exactly at the deadline), late (by one second, by
  an hour), never; a revision after a late first report keeps it late; a disabled
  school is not expected; a closed county and a closure of every school; a holiday
  (国庆) and a make-up Saturday (调休) from `calendar`; a weekend; a day to come;
- `missing` as text and as CSV, and GET /v1/missing, agreeing on the same data;
  empty lists exit 0;
- bad dates, ranges and options with clear messages (and exit 2), an unknown county
  (exit 1, 404); the pull API's gate (401 no or wrong token, 403 no [pull], 405,
  400 naming an unknown or repeated parameter);
- [deadlines] and [pull] in --check-config (FILE:LINE, a token file others can
  read, a bad token), and on reload (new deadlines, a new zone, a new token at once);
- two administrators writing the same calendar and closure at the same moment; four
  readers of the list while the deadlines are reloaded three times;
- a report arriving now for today, with its real arrival time.

Arrival times of the past days are set in SQL after real uploads (the test cannot
wait for 10:00 on 2026-10-12); the last part uses today's real ones."""
import csv
import io
import os
import signal
import subprocess
import threading
import urllib.parse

import bureaulib as bl
import gslib
from gslib import check

D1, D2, D3 = "2026-10-12", "2026-10-13", "2026-10-14"  # Mon, Tue, Wed
SAT, SUN = "2026-10-10", "2026-10-11"  # 国庆调休: the Saturday is worked
TOKEN = "province-pull-token-0123456789abcdef"
TOKEN2 = "city-dashboard-token-0123456789abcdef"

# code: county, contact, phone
SCHOOLS = {
    "W1": ("魏都区", "王老师", "0374-1234567"),
    "W2": ("魏都区", "李老师", "+86 138 0000 0000"),
    "W3": ("魏都区", "", ""),
    "W4": ("魏都区", "赵老师", "0374-7654321"),   # disabled later
    "J1": ("建安区", "周老师", "0374-1111111"),
    "J2": ("建安区", "", ""),
    "X1": ("襄城县", "孙老师", "0374-2222222"),
    "X2": ("襄城县", "", ""),
}


def run(b, *args, status=0):
    r = b.cli(*args)
    check(r.returncode == status, "gatescreen-bureau %s: exit %d (want %d) %s" % (
        " ".join(args)[:80], r.returncode, status, (r.stdout + r.stderr).strip().splitlines()[:1]))
    return r


def setup(b, c):
    lines = ["code,name,county,kind,contact_name,contact_phone"]
    for code, (county, who, phone) in SCHOOLS.items():
        b.enrol(code, county=county)
        lines.append("%s,学校%s,%s,小学,%s,%s" % (code, code, county, who, phone))
    path = os.path.join(b.dir, "contacts.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    run(b, "school", "import", path)


def report(b, c, code, day, at, revision=1):
    """A real upload of the school's summary of `day`, then its first arrival set to
    `at` (local time in Asia/Shanghai) as if it had come then."""
    st, _, raw = bl.send(c, b, b.schools[code], bl.summary_doc(code, day, revision))
    check(st == 201, "%s's summary of %s stored (%d %s)" % (code, day, st, raw[:80]))
    if at:
        b.sql("UPDATE summary_latest SET first_received_at = TIMESTAMPTZ '%s %s+08' "
              "WHERE school_code = '%s' AND day = '%s'" % (day, at, code, day))


def cli_rows(b, *args):
    """`missing --csv`: (county, code, status, received_local, late_minutes) rows."""
    r = run(b, "missing", "--csv", *args)
    check(r.stdout.startswith("\ufeffday,deadline,county,code,name,contact_name,"),
          "CSV with a BOM and its header")
    rows = list(csv.reader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    return [(x[2], x[3], x[7], x[8], x[9]) for x in rows[1:]], rows


def get(b, c, query="", token=TOKEN, method="GET"):
    """query: a dict, or a query string as it is (bytes that are not UTF-8)."""
    if isinstance(query, dict):
        query = urllib.parse.urlencode(query)
    path = "/v1/missing" + ("?" + query if query else "")
    st, answer, raw = bl.post(c, b, None, method=method, path=path, token=token, kind=None,
                              ctype=None, cert=False)
    return st, answer, raw


def api_rows(answer):
    out = []
    for county in answer["counties"]:
        for s in county["schools"]:
            late = "" if s["late_seconds"] is None else str(s["late_seconds"] // 60)
            out.append((county["county"], s["code"], s["status"], s["received_local"] or "",
                        late))
    return out


def agree(b, c, what, day, deadline=None, county=None):
    """The CLI's CSV and the API's JSON of the same list: the same rows. Returns the
    JSON answer and the rows."""
    args, query = ["--day", day], {"day": day}
    if deadline:
        args += ["--deadline", deadline]
        query["deadline"] = deadline
    if county:
        args += ["--county", county]
        query["county"] = county
    rows, _ = cli_rows(b, *args)
    st, answer, raw = get(b, c, query)
    check(st == 200, "%s: GET /v1/missing 200 (%d %s)" % (what, st, raw[:100]))
    if st != 200:
        return {}, rows
    check(api_rows(answer) == rows, "%s: the CLI and the API agree (%d rows)%s" % (
        what, len(rows), "" if api_rows(answer) == rows else ": %s vs %s" % (rows,
                                                                            api_rows(answer))))
    return answer, rows


def text(b, *args):
    return run(b, "missing", *args).stdout


def on_time_late_never(b, c):
    report(b, c, "W1", D1, "09:30:00")
    report(b, c, "W2", D1, "11:05:00")
    report(b, c, "J2", D1, "08:00:00")
    report(b, c, "X1", D1, "10:00:01")
    report(b, c, "X2", D1, "10:00:00")   # exactly at the deadline: on time
    report(b, c, "W2", D1, None, revision=2)  # a newer revision keeps the first arrival
    first = b.sql("SELECT to_char(first_received_at AT TIME ZONE 'Asia/Shanghai', 'HH24:MI'), "
                  "revision FROM summary_latest WHERE school_code = 'W2' AND day = '%s'" % D1)
    check(first == [["11:05", "2"]], "revision 2 of a late day keeps its first arrival: %s" % first)
    answer, rows = agree(b, c, "D1 morning", D1, "morning")
    check(rows == [("建安区", "J1", "missing", "", ""),
                   ("襄城县", "X1", "late", "%s 10:00" % D1, "0"),
                   ("魏都区", "W2", "late", "%s 11:05" % D1, "65"),
                   ("魏都区", "W3", "missing", "", ""),
                   ("魏都区", "W4", "missing", "", "")],
          "D1 morning: never reported and late, by county and code: %s" % rows)
    check(answer.get("counts") == {"expected": 8, "on_time": 3, "late": 2, "missing": 3,
                                   "closed": 0, "reported_closed": 0},
          "D1 morning counts: %s" % answer.get("counts"))
    w2 = [s for k in answer["counties"] for s in k["schools"] if s["code"] == "W2"][0]
    check(w2["late_seconds"] == 3900 and w2["received_at"] == "2026-10-12T03:05:00Z" and
          w2["contact_name"] == "李老师" and w2["contact_phone"] == "+86 138 0000 0000",
          "W2: late by 3900 s, UTC arrival, its contact: %s" % w2)
    x1 = [s for k in answer["counties"] for s in k["schools"] if s["code"] == "X1"][0]
    check(x1["late_seconds"] == 1, "one second after the deadline is late: %s" % x1)
    check(answer["deadline_at"] == "2026-10-12T02:00:00Z" and
          answer["deadline_local"] == "2026-10-12 10:00" and answer["school_day"] is True,
          "the deadline: 10:00 in Asia/Shanghai is 02:00 UTC")
    out = text(b, "--day", D1, "--deadline", "morning")
    want = ["2026-10-12 Mon, morning deadline 2026-10-12 10:00 (Asia/Shanghai)",
            "8 schools expected: 3 on time, 2 late, 3 no report yet",
            "魏都区: 4 expected, 1 late, 2 no report yet",
            "  W2\t学校W2\t李老师\t+86 138 0000 0000\tlate by 1h05 (received 2026-10-12 11:05)",
            "  W3\t学校W3\t-\t-\tno report yet",
            "襄城县: 2 expected, 1 late, 0 no report yet",
            "  X1\t学校X1\t孙老师\t0374-2222222\tlate by 1s (received 2026-10-12 10:00)"]
    gone = [w for w in want if w not in out]
    check(not gone, "the text: by county, contacts, how late%s" % (
        "" if not gone else "; missing %s in\n%s" % (gone, out)))
    _, csv_all = cli_rows(b, "--day", D1, "--deadline", "morning")
    check(csv_all[3][6] == "'+86 138 0000 0000", "a phone starting with + is no formula in CSV")
    answer, rows = agree(b, c, "D1 day", D1, "day")
    check([r[1] for r in rows] == ["J1", "W3", "W4"] and answer["counts"]["on_time"] == 5,
          "D1 by the day's deadline: only those that never reported: %s" % rows)
    answer, rows = agree(b, c, "D1 morning, 魏都区", D1, "morning", county="魏都区")
    check([r[1] for r in rows] == ["W2", "W3", "W4"] and answer["county"] == "魏都区" and
          answer["counts"]["expected"] == 4, "--county: that county only: %s" % rows)
    run(b, "school", "disable", "W4")
    answer, rows = agree(b, c, "D1 morning, W4 disabled", D1, "morning")
    check("W4" not in [r[1] for r in rows] and answer["counts"]["expected"] == 7,
          "a disabled school is not expected")


def closures(b, c):
    for code in ("W1", "W2", "W3", "X1", "X2"):
        report(b, c, code, D2, "09:00:00")
    run(b, "closure", "add", D2, "--county", "建安区", "--reason", "暴雨红色预警")
    answer, rows = agree(b, c, "D2, 建安区 closed", D2, "morning")
    check(rows == [] and answer["counts"] == {"expected": 5, "on_time": 5, "late": 0,
                                              "missing": 0, "closed": 2,
                                              "reported_closed": 0},
          "a closed county is not expected; everyone else reported: empty list, exit 0")
    check(answer["closures"] == [{"county": "建安区", "reason": "暴雨红色预警"}],
          "the closure is in the answer")
    jian = [k for k in answer["counties"] if k["county"] == "建安区"]
    check(jian and jian[0]["closed"] == 2 and jian[0]["expected"] == 0 and
          jian[0]["schools"] == [], "the closed county: 2 closed, none expected")
    out = text(b, "--day", D2, "--deadline", "morning")
    check("closed: 建安区: 暴雨红色预警" in out and "5 on time, 0 late, 0 no report yet; 2 closed"
          in out, "the text says which county is closed: %s" % out.splitlines()[1:3])
    run(b, "closure", "add", D3, "--reason", "全市停课")
    answer, rows = agree(b, c, "D3, every school closed", D3)
    check(rows == [] and answer["counts"]["expected"] == 0 and answer["counts"]["closed"] == 7
          and answer["closures"] == [{"county": None, "reason": "全市停课"}],
          "a closure of every school: nobody expected")
    r = run(b, "closure", "add", D3, "--county", "魏都", "--reason", "x", status=1)
    check("no school is in county 魏都 (the counties: 建安区, 襄城县, 魏都区)" in r.stderr,
          "a closure of a county no school is in is refused: %s" % r.stderr.strip())
    r = run(b, "closure", "remove", D3)
    check("1 closure of all schools removed" in r.stdout, "closure remove: %s" % r.stdout.strip())
    run(b, "closure", "remove", D3, status=1)
    answer, _ = agree(b, c, "D3 reopened", D3, "morning")
    check(answer["counts"]["missing"] == 7, "without the closure, all 7 are missing on D3")


def calendar(b, c):
    r = run(b, "calendar", "holiday", "2026-10-01..2026-10-07", "--name", "国庆")
    check("2026-10-01..2026-10-07 (7 days): holiday 国庆 (7 changed)" in r.stdout,
          "calendar holiday: %s" % r.stdout.strip())
    r = run(b, "calendar", "holiday", "2026-10-01..2026-10-07", "--name", "国庆")
    check("(0 changed)" in r.stdout, "the same again changes nothing")
    answer, rows = agree(b, c, "a holiday", "2026-10-05")
    check(rows == [] and answer["school_day"] is False and
          answer["calendar"] == {"kind": "holiday", "name": "国庆"} and
          answer["counts"]["expected"] == 0, "a holiday on a Monday: nobody expected")
    out = text(b, "--day", "2026-10-05")
    check("not a school day (holiday 国庆): no school is expected" in out, "the text says so")
    answer, rows = agree(b, c, "a plain Saturday", SAT)
    check(rows == [] and answer["school_day"] is False, "a Saturday: not a school day")
    r = run(b, "calendar", "workday", SAT, "--name", "国庆调休")
    check("2026-10-10 (Saturday): make-up school day 国庆调休 (1 changed)" in r.stdout,
          "calendar workday: %s" % r.stdout.strip())
    report(b, c, "X1", SAT, "09:00:00")
    answer, rows = agree(b, c, "the make-up Saturday", SAT, "morning")
    check(answer["school_day"] is True and answer["calendar"]["kind"] == "workday" and
          answer["counts"]["expected"] == 7 and answer["counts"]["on_time"] == 1 and
          len(rows) == 6, "a make-up Saturday: everyone expected, one reported")
    answer, rows = agree(b, c, "the Sunday", SUN)
    check(rows == [] and answer["school_day"] is False, "the Sunday after: not a school day")
    r = run(b, "calendar", "workday", D1)
    check("note: 2026-10-12 is a Monday, a school day anyway" in r.stdout,
          "a make-up day on a weekday: said")
    run(b, "calendar", "clear", D1)
    r = run(b, "calendar", "clear", D1, status=1)
    check("nothing to remove on 2026-10-12" in r.stderr, "clearing nothing: %s" % r.stderr)
    r = run(b, "calendar", "list", "2026-10-01..2026-10-31")
    lines = r.stdout.splitlines()
    check(len(lines) == 9 and lines[1].startswith("2026-10-01\tThu\tholiday\t国庆\t") and
          lines[8].startswith("2026-10-10\tSat\tworkday\t国庆调休\t"),
          "calendar list: the 7 holidays and the Saturday: %s" % lines[:2])
    audit = b.sql("SELECT action, target, detail FROM audit_log WHERE action LIKE 'calendar%' "
                  "ORDER BY id LIMIT 1")
    check(audit == [["calendar holiday", "2026-10-01..2026-10-07", "7 days changed: 国庆"]],
          "every change in audit_log: %s" % audit)
    answer, _ = agree(b, c, "a day to come", "2030-01-07")
    check(answer["deadline_passed"] is False and answer["counts"]["missing"] == 7 and
          answer["deadline"] == "morning", "a day to come: everyone still to report, the "
          "morning's deadline by default")


def bad_input(b, c):
    cases = [(["missing", "--day", "2026-02-30"], 2,
              "missing: --day \"2026-02-30\" is not a date YYYY-MM-DD"),
             (["missing", "--day", "12/10/2026"], 2, "is not a date YYYY-MM-DD"),
             (["missing", "--deadline", "noon"], 2,
              "missing: --deadline \"noon\" is not a deadline (morning or day)"),
             (["missing", "--county", ""], 2, "missing: --county is empty"),
             (["missing", "--county", "a\x01b"], 2, "missing: --county has a control character"),
             (["missing", "--everything"], 2, "missing: bad option '--everything'"),
             (["missing", "today"], 2, "missing: unexpected argument 'today'"),
             (["missing", "--county", "不存在区"], 1, "no active school is in county 不存在区"),
             (["calendar", "holiday", "2026-10-07..2026-10-01"], 2,
              "2026-10-07..2026-10-01: the range ends before it starts"),
             (["calendar", "holiday", "2026-01-01..2027-06-30"], 2,
              "2026-01-01..2027-06-30: 546 days; at most 366 at once"),
             (["calendar", "holiday", "2026-10-01..", "--name", "x"], 2,
              "\"\" is not a date YYYY-MM-DD"),
             (["calendar", "workday"], 2, "calendar workday: expected one DAY or FROM..TO"),
             (["calendar", "holiday", D1, "--county", "魏都区"], 2,
              "calendar holiday: --county is not an option of this command"),
             (["calendar", "holiday", D1, "--name", "a\tb"], 2,
              "--name has a control character"),
             (["closure", "add", D1], 2, "closure add: --reason is required"),
             (["closure", "add", D1, "--reason", ""], 2, "closure add: --reason is empty")]
    for args, status, message in cases:
        r = run(b, *args, status=status)
        check(message in r.stderr, "%s: %s" % (" ".join(args), message))
    before = b.sql("SELECT count(*) FROM calendar_days UNION ALL SELECT count(*) FROM closures")
    check(before == [["8"], ["1"]], "nothing was written by the refused commands: %s" % before)
    for query, status, param, message in [
            ({"day": "2026-02-30"}, 400, "day", "day: \"2026-02-30\" is not a date"),
            ({"deadline": "noon"}, 400, "deadline", "deadline: \"noon\" is not a deadline"),
            ({"dya": D1}, 400, "dya", "dya: no such parameter here"),
            ({"county": ""}, 400, "county", "county: is empty"),
            ("county=%FF%FE", 400, "county", "county: is not UTF-8"),
            ("d%FFy=1", 400, "d?y", "d?y: no such parameter here"),
            ({"county": "不存在区"}, 404, "county", "no active school is in county 不存在区")]:
        st, answer, raw = get(b, c, query)
        check(st == status and message in (answer or {}).get("error", "") and
              answer.get("parameter") == param,
              "GET /v1/missing?%s: %d, %s (%s)" % (query if isinstance(query, str) else
                                                    urllib.parse.urlencode(query), status,
                                                    message, raw[:100]))
    st, answer, raw = bl.post(c, b, None, method="GET", path="/v1/missing?day=%s&day=%s" % (
        D1, D2), token=TOKEN, kind=None, ctype=None, cert=False)
    check(st == 400 and answer["error"] == "day: given twice" and answer["parameter"] == "day",
          "a repeated parameter: 400 (%s)" % raw[:80])
    st, answer, raw = get(b, c, {"day": D1}, token=None)
    check(st == 401 and "needs Authorization: Bearer TOKEN" in answer["error"],
          "no token: 401 (%s)" % raw[:80])
    st, answer, raw = get(b, c, {"day": D1}, token=TOKEN + "x")
    check(st == 401 and "not one of this collector's pull tokens" in answer["error"],
          "a wrong token: 401")
    st, answer, raw = get(b, c, {"day": D1}, token=b.schools["W1"].token)
    check(st == 401, "a school's upload token is no pull token: 401")
    st, answer, raw = get(b, c, {"day": D1}, method="DELETE")
    check(st == 405, "DELETE /v1/missing: 405 (%s)" % raw[:80])


def write_tokens(b, *tokens, mode=0o600):
    """[pull] token_files: one secret file per token."""
    for i, token in enumerate(tokens):
        path = os.path.join(b.dir, "pull-%d.token" % i)
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, mode)
    return ", ".join("pull-%d.token" % i for i in range(len(tokens)))


def configure(b, deadlines, pull="pull-0.token"):
    """The stand's configuration with these [deadlines] lines (and [pull])."""
    with open(b.conf, encoding="utf-8") as f:
        base = f.read().split("\n[deadlines]")[0].rstrip("\n") + "\n"
    extra = "\n[deadlines]\n" + "".join("%s\n" % line for line in deadlines)
    if pull:
        extra += "\n[pull]\ntoken_files = %s\n" % pull
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(base + extra)


def check_config(b):
    good = b.conf
    bad = os.path.join(b.dir, "bad.conf")
    with open(good, encoding="utf-8") as f:
        text = f.read().split("\n[deadlines]")[0]
    with open(bad, "w", encoding="utf-8") as f:
        f.write(text + "\n[deadlines]\nmorning = 9\nday = 08:00\ntimezone = Asia/Nowhere\n")
    n = text.count("\n") + 2
    r = subprocess.run([bl.BUREAUD, "--check-config", bad], capture_output=True, text=True)
    want = ["bad.conf:%d: [deadlines] morning: \"9\" is not a time of day HH:MM" % (n + 1),
            "bad.conf:%d: [deadlines]: morning (10:00) must be before day (08:00)" % (n + 2),
            "bad.conf:%d: [deadlines] timezone: \"Asia/Nowhere\" is not a time zone known"
            % (n + 3)]
    gone = [w for w in want if w not in r.stderr]
    check(r.returncode == 2 and not gone, "--check-config: every [deadlines] problem as "
          "FILE:LINE%s" % ("" if not gone else "; missing %s in %s" % (gone, r.stderr)))
    r = subprocess.run([bl.BCLI, "-c", bad, "missing"], capture_output=True, text=True)
    check(r.returncode == 2 and "must be before day" in r.stderr,
          "the CLI refuses the same file (exit 2)")
    write_tokens(b, TOKEN, mode=0o644)
    r = subprocess.run([bl.BUREAUD, "--check-config", good], capture_output=True, text=True)
    check(r.returncode == 2 and "pull-0.token" in r.stderr, "a pull token file others can "
          "read: refused (%s)" % r.stderr.strip()[:120])
    write_tokens(b, "short")
    r = subprocess.run([bl.BUREAUD, "--check-config", good], capture_output=True, text=True)
    check(r.returncode == 2 and "pull-0.token: a pull token must be one line" in r.stderr,
          "a token that is no token: refused as the start would (%s)" % r.stderr.strip()[:120])
    write_tokens(b, TOKEN)
    r = subprocess.run([bl.BUREAUD, "--check-config", good], capture_output=True, text=True)
    check(r.returncode == 0 and "configuration OK" in r.stdout, "the good file: OK")


def reload(b, c):
    files = write_tokens(b, TOKEN, TOKEN2)
    configure(b, ["morning = 02:30", "day = 09:00", "timezone = UTC"], pull=files)
    c.proc.send_signal(signal.SIGHUP)
    check(c.wait_for("collector: reload: deadlines morning 02:30, day 09:00 (UTC)"),
          "reload: the new deadlines and zone are in force")
    answer, rows = agree(b, c, "D1 after the reload", D1, "morning")
    check(answer.get("deadline_at") == "2026-10-12T02:30:00Z" and answer["timezone"] == "UTC"
          and [r[1] for r in rows] == ["J1", "W2", "W3"] and rows[1][3] == "2026-10-12 03:05"
          and rows[1][4] == "35", "02:30 UTC: X1 is on time now, W2 late by 35 min: %s" % rows)
    st, _, _ = get(b, c, {"day": D1}, token=TOKEN2)
    check(st == 200, "the token added on reload is taken")
    write_tokens(b, "short")
    c.proc.send_signal(signal.SIGHUP)
    check(c.wait_for("the [pull] tokens could not be read; the earlier ones stay in force"),
          "a bad token file on reload: the tokens in force are kept")
    st, _, _ = get(b, c, {"day": D1}, token=TOKEN2)
    check(st == 200, "... and still taken")
    write_tokens(b, TOKEN, TOKEN2)


def readers_across_reloads(b, c):
    """Four readers at once while the deadlines change three times (the lock that
    guards them; ThreadSanitizer runs this test too): every answer 200, each with
    one of the deadlines in force."""
    results = []

    def reader():
        for _ in range(10):
            st, answer, _ = get(b, c, {"day": D1, "deadline": "morning"})
            results.append((st, (answer or {}).get("deadline_local")))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for t in threads:
        t.start()
    for minute in ("10:00", "10:30", "11:00"):
        configure(b, ["morning = %s" % minute, "day = 17:00", "timezone = Asia/Shanghai"],
                  pull="pull-0.token, pull-1.token")
        c.proc.send_signal(signal.SIGHUP)
        c.wait_for("deadlines morning %s, day 17:00 (Asia/Shanghai)" % minute)
    for t in threads:
        t.join()
    seen = {local for _, local in results}
    check(len(results) == 40 and all(st == 200 for st, _ in results) and
          seen <= {"2026-10-12 02:30", "2026-10-12 10:00", "2026-10-12 10:30",
                   "2026-10-12 11:00"},  # 02:30 UTC: reload()'s, in force at the start
          "40 reads from 4 threads across 3 reloads: all 200, each with a deadline in force "
          "(%s)" % sorted(seen))


def no_token_file(b):
    c2 = b.collector("bureau-b")  # a configuration of its own, without [pull]
    st, answer, raw = get(b, c2, {"day": D1})
    check(st == 403 and "the pull API is off" in answer["error"],
          "without [pull] the pull API, /v1/missing too, answers 403 (%s)" % raw[:90])
    c2.stop()


def concurrent_writes(b):
    """Two administrators at the same moment: one row per day and scope."""
    procs = []
    for _ in range(2):
        procs.append(subprocess.Popen([bl.BCLI, "-c", b.conf, "calendar", "holiday",
                                       "2027-01-01..2027-01-03", "--name", "元旦"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        procs.append(subprocess.Popen([bl.BCLI, "-c", b.conf, "closure", "add", "2027-01-04",
                                       "--county", "魏都区", "--reason", "停电"],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    codes = [p.wait(60) for p in procs]
    rows = b.sql("SELECT (SELECT count(*) FROM calendar_days WHERE day >= '2027-01-01'), "
                 "(SELECT count(*) FROM closures WHERE day = '2027-01-04')")
    check(codes == [0, 0, 0, 0] and rows == [["3", "1"]],
          "the same calendar range and closure at once: both succeed, each day once (%s %s)"
          % (codes, rows))


def today(b, c):
    """A report of today arriving now, with its real arrival time: on time for a
    deadline at 23:59, late for one at 00:00."""
    now = b.sql("SELECT to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD HH24:MI')")[0][0]
    day, hhmm = now.split()
    if hhmm >= "23:58" or hhmm < "00:01":
        check(True, "today's part skipped: too close to midnight (%s)" % now)
        return
    configure(b, ["morning = 00:00", "day = 23:59", "timezone = Asia/Shanghai"],
              pull="pull-0.token, pull-1.token")
    c.proc.send_signal(signal.SIGHUP)
    c.wait_for("collector: reload: deadlines morning 00:00, day 23:59", count=1)
    run(b, "calendar", "workday", day, "--name", "today")  # whatever weekday it is
    report(b, c, "W1", day, None)
    answer, rows = agree(b, c, "today, the day's deadline", day, "day")
    check("W1" not in [r[1] for r in rows] and answer["counts"]["on_time"] == 1,
          "a report that arrived now is on time for 23:59 today")
    answer, rows = agree(b, c, "today, the morning's deadline", day, "morning")
    w1 = [r for r in rows if r[1] == "W1"]
    check(w1 and w1[0][2] == "late" and w1[0][3][:10] == day, "... and late for 00:00: %s" % w1)
    st, answer, _ = get(b, c)
    check(st == 200 and answer["day"] == day and answer["deadline"] == "morning",
          "no parameters: today, and the morning's deadline until the day's has passed")


def main():
    with bl.Bureau() as b:
        write_tokens(b, TOKEN)
        configure(b, ["morning = 10:00", "day = 17:00", "timezone = Asia/Shanghai"])
        c = b.collector()
        setup(b, c)
        on_time_late_never(b, c)
        closures(b, c)
        calendar(b, c)
        bad_input(b, c)
        check_config(b)
        reload(b, c)
        concurrent_writes(b)
        readers_across_reloads(b, c)
        today(b, c)
        no_token_file(b)
    gslib.finish()


if __name__ == "__main__":
    main()
