"""Boarders and the part-day sweeps (issue 19) with the real gatescreen and
gatescreend on a real SQLite ledger. The daemon is started after the day's windows
(placed before now in a zone where it is about 21:00), so its first tick runs the
morning sweep, the noon sweep ([windows] noon_sweep = yes, 午检缺勤) and the
boarders' evening sweep ([windows] evening, 晚检):

- noon: who was at school in the morning and has no noon check is absent for the
  afternoon (a part_absences row, part 'noon', cause unknown); not who was absent
  all day, who has a noon check, who is on leave;
- evening: the boarders without an evening check (`gatescreen check --window
  evening`, the dormitory staff's), not the day pupils, not a boarder absent all day;
- morning: a boarder without a gate reading is present only with the dormitory's
  manual morning check;
- each sweep once a school day: a restart does not run them again;
- `--window evening` is refused with a clear message when [windows] evening is off;
- the part-day absences still without a cause are the nurse's to see: the Today
  queue's `part_absences` (a class teacher sees their class's only) and the
  second table of `gatescreen absences`;
- they are counted: the day's figures (`part_absences.noon.all`, ... stored at the
  day's end, `gatescreen day`, the day report) and the summary for the bureau
  (`part_absences`, valid by the collector's own schema checker);
- the 晨午检 register's noon column says 午检缺勤 for a pupil the noon sweep found
  gone (the JSON's `noon_absence`, the CSV's 午检体温 column);
- the nurse records what a noon or evening absence was (`gatescreen absence P --part
  noon --cause ...`, `POST /api/v1/people/P/absence` with `"part"`): cause, symptoms,
  note, audited; it leaves the queue and the figures count it by cause."""
import csv
import datetime
import io
import json
import os
import subprocess
import time

import gslib
from gslib import check
from test_web_api import PASSWORD, Client

ROSTER = """\
external_id,kind,name,grade,class,card,active,住校
A1,student,张一,一年级,一年级1班,1001,1,否
A2,student,张二,一年级,一年级1班,1002,1,否
A3,student,张三,一年级,一年级1班,1003,1,否
A4,student,张四,一年级,一年级1班,1004,1,否
B1,student,李一,一年级,一年级1班,2001,1,是
B2,student,李二,一年级,一年级1班,2002,1,是
B3,student,李三,一年级,一年级1班,2003,1,是
C1,student,王一,一年级,一年级2班,3001,1,否
"""


def must(conf, *args, status=0):
    r = gslib.cli(conf, *args)
    check(r.returncode == status, "gatescreen %s: exit %d (want %d) %s" % (
        " ".join(args)[:70], r.returncode, status, (r.stderr or r.stdout).strip()[:160]))
    return r


def parts(db, day):
    return sorted(gslib.db_query(
        db, "SELECT p.external_id, a.part, a.cause FROM part_absences a JOIN people p "
            "ON p.id = a.person_id WHERE a.day = ?", (day,)))


def absences(db, day):
    return sorted(x for (x,) in gslib.db_query(
        db, "SELECT p.external_id FROM absences a JOIN people p ON p.id = a.person_id "
            "WHERE a.day = ?", (day,)))


def cli_part_absences(conf, day, *more):
    """The second table of `gatescreen absences`: (id, part, cause) rows."""
    out = must(conf, "absences", "--date", day, *more).stdout
    head = "noon and evening absences (午检缺勤, 晚检缺勤):\n"
    if head not in out:
        return None
    rows = out.split(head, 1)[1].splitlines()[1:-1]
    return [tuple(r.split("\t")[i] for i in (0, 3, 4)) for r in rows]


def add_users(conf):
    for name, role, cls in (("nurse1", "nurse", None), ("teach2", "teacher", "一年级2班")):
        args = ["user", "add", name, "--role", role] + (["--class", cls] if cls else [])
        r = gslib.cli(conf, *args, input_text=PASSWORD + "\n")
        check(r.returncode == 0, "user %s added: %s" % (name, r.stderr.strip()))


def queue_shows_parts(conf, port, today):
    """The nurse's queue and the CLI list the noon and evening absences."""
    want = [("A2", "noon"), ("C1", "noon"), ("B1", "evening")]
    got = cli_part_absences(conf, today)
    check(got == [w + ("unknown",) for w in want],
          "`gatescreen absences` lists the noon and evening absences by part, class and "
          "person: %r" % (got,))
    check(cli_part_absences(conf, today, "--class", "一年级2班") == [("C1", "noon", "unknown")],
          "`gatescreen absences --class` only that class's")
    for who, expect in (("nurse1", want), ("teach2", [("C1", "noon")])):
        c = Client(port)
        check(c.login(who), "%s logs in" % who)
        t = c.get("/api/v1/today").json() or {}
        items = t.get("part_absences")
        got = [(a["person"]["id"], a["part"]) for a in items] if items is not None else None
        print("figure: %s part_absences %r" % (who, got))
        check(got == expect, "%s: Today's part_absences %r (want %r)" % (who, got, expect))
        check(t.get("totals", {}).get("part_absences") == len(expect),
              "%s: totals.part_absences %r" % (who, t.get("totals", {}).get("part_absences")))
        if items:
            a = items[0]
            check(a["day"] == today and a["person"].get("name") and a["recorded_ms"] > 0,
                  "an item has the person, day and recorded_ms: %r" % a)


def counted(conf, db, port, today, want_noon, want_evening):
    """The part-day absences in the figures and in the summary."""
    stored = dict(gslib.db_query(db, "SELECT name, value FROM day_figures WHERE day = ? AND "
                                     "name LIKE 'part_absences.%'", (today,)))
    print("figure: stored %r" % stored)
    check(stored.get("part_absences.noon.all") == want_noon
          and stored.get("part_absences.noon.unknown") == want_noon
          and stored.get("part_absences.evening.all") == want_evening,
          "the day's stored figures count the noon and evening absences: %r" % stored)
    day = must(conf, "day", "--date", today).stdout
    line = "Noon and evening absences: %d noon, %d evening" % (want_noon, want_evening)
    check(line in day, "`gatescreen day` says %r:\n%s" % (line, day))
    c = Client(port)
    check(c.login("nurse1"), "nurse1 logs in")
    fig = (c.get("/api/v1/day").json() or {}).get("figures") or {}
    check(fig.get("part_absences.noon.all") == want_noon
          and fig.get("part_absences.evening.all") == want_evening,
          "the day report's figures: %r" % {k: v for k, v in fig.items()
                                            if k.startswith("part_")})
    tr = c.get("/api/v1/trends?days=1").json() or {}
    series = {k: tr.get("series", {}).get(k) for k in ("noon_absences", "evening_absences")}
    check(series == {"noon_absences": [want_noon], "evening_absences": [want_evening]},
          "the trends' series: %r" % series)
    head = c.get("/api/v1/export/trends.csv?days=1").body.decode("utf-8-sig").splitlines()
    row = dict(zip(head[0].split(","), head[1].split(","))) if len(head) > 1 else {}
    check(row.get("noon_absences") == str(want_noon)
          and row.get("evening_absences") == str(want_evening),
          "the trends CSV's columns: %r" % row)
    text = must(conf, "summary", "--date", today).stdout
    doc = json.loads(text)
    got = doc.get("part_absences")
    print("figure: summary part_absences %r" % (got,))
    want = {part: {"all": n, "unexplained": n,
                   "by_cause": {"illness": 0, "personal": 0, "other": 0}}
            for part, n in (("noon", want_noon), ("evening", want_evening))}
    check(got == want, "the summary's part_absences %r (want %r)" % (got, want))
    r = subprocess.run([os.path.join(gslib.BUILD, "docschema_check"), "summary"],
                       input=json.dumps(doc) + "\n", capture_output=True, text=True)
    check(r.stdout.strip() == "valid", "the collector's checker accepts the summary: %s"
          % (r.stdout + r.stderr).strip())


def register_says(port, today):
    """The 晨午检 register of the day: A2 swept at noon, A1 checked at noon."""
    c = Client(port)
    check(c.login("nurse1"), "nurse1 logs in")
    r = c.get("/api/v1/registers?class=%s" % "%E4%B8%80%E5%B9%B4%E7%BA%A71%E7%8F%AD")
    pages = (r.json() or {}).get("pages") or [{}]
    rows = {x["id"]: x for x in pages[0].get("students", [])}
    noon = {k: rows.get(k, {}).get("noon_absence", "missing") for k in ("A1", "A2", "A3")}
    print("figure: register noon_absence %r" % noon)
    check(noon == {"A1": None, "A2": "unknown", "A3": None},
          "the register's noon_absence: A2 swept at noon, A1 checked, A3 absent all day: %r"
          % noon)
    text = c.get("/api/v1/export/registers.csv").body.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(text)))
    col = table[0].index("午检体温")
    noon_csv = {row[2]: row[col] for row in table[1:]}
    print("figure: register CSV noon %r" % noon_csv)
    check(noon_csv.get("A2") == "午检缺勤" and noon_csv.get("A1") == "36.50"
          and noon_csv.get("A3") == "",
          "the register CSV's noon column: 午检缺勤 for A2: %r" % noon_csv)


def causes_recorded(conf, db, port, today):
    """The causes of the noon absences, by the CLI and the API."""
    r = gslib.cli(conf, "absence", "A2", "--part", "noon", "--cause", "illness", "--symptoms",
                  "fever,cough", "--note", "发烧回家", "--by", "校医")
    print("figure: CLI --part exit %d: %s" % (r.returncode, (r.stdout + r.stderr).strip()))
    check(r.returncode == 0 and "A2: noon absence on %s updated: illness (fever,cough), was "
          "unknown" % today in r.stdout, "`gatescreen absence --part noon` records the cause: %s"
          % (r.stdout + r.stderr).strip())
    nurse, teacher = Client(port), Client(port)
    check(nurse.login("nurse1") and teacher.login("teach2"), "nurse1 and teach2 log in")
    before = gslib.db_dump(db)
    for who, body, status, words in (
            (teacher, {"day": today, "part": "noon", "cause": "other"}, 403, "class"),
            (nurse, {"day": today, "part": "night", "cause": "other"}, 400, "part"),
            (nurse, {"day": today, "part": "evening", "cause": "other"}, 404,
             "has no evening absence on"),
            (nurse, {"day": today, "part": "noon", "cause": "illness", "onset_day": today}, 400,
             "onset")):
        path = "/api/v1/people/%s/absence" % ("A2" if who is teacher or "night" in str(body)
                                               else "C1" if body.get("onset_day") else "A2")
        r = who.post(path, body)
        check(r.status == status and words in r.error(),
              "%s %r: %d (want %d) %s" % (path, body, r.status, status, r.error()))
    check(gslib.db_dump(db) == before, "refused requests change nothing")
    r = nurse.post("/api/v1/people/C1/absence", {"day": today, "part": "noon",
                                                 "cause": "personal", "note": "家长接走"})
    j = r.json() or {}
    print("figure: API part status %d %r" % (r.status, j.get("message") or r.error()))
    check(r.status == 200 and j.get("part") == "noon" and j.get("previous_cause") == "unknown"
          and j.get("cause") == "personal",
          "POST absence with part noon: %d %r" % (r.status, j))
    got = gslib.db_query(db, "SELECT p.external_id, a.cause, a.symptoms, a.note, a.recorded_by "
                             "FROM part_absences a JOIN people p ON p.id = a.person_id "
                             "WHERE a.part = 'noon' ORDER BY 1")
    check(got == [("A2", "illness", "fever,cough", "发烧回家", "校医"),
                  ("C1", "personal", "", "家长接走", "nurse1")],
          "the noon absences hold their causes: %r" % got)
    audit = gslib.db_query(db, "SELECT actor, target, detail FROM audit_log WHERE action = "
                               "'absence cause' ORDER BY id")
    check(audit == [("校医", "A2", "%s noon: illness (was unknown); symptoms fever,cough; note "
                     "发烧回家" % today), ("nurse1", "C1", "%s noon: personal (was unknown); note "
                     "家长接走" % today)], "audited as absence cause: %r" % audit)
    hist = (nurse.get("/api/v1/people/A2").json() or {}).get("part_absences")
    got = [(h["day"], h["part"], h["cause"], h["symptoms"], h["note"], h["recorded_by"])
           for h in hist] if hist is not None else None
    print("figure: A2's history part_absences %r" % (got,))
    check(got == [(today, "noon", "illness", ["fever", "cough"], "发烧回家", "校医")],
          "A2's history on the person page has the noon absence: %r" % (got,))
    t = nurse.get("/api/v1/today").json() or {}
    check([a["person"]["id"] for a in t.get("part_absences", [])] == ["B1"],
          "the queue keeps only the evening absence without a cause: %r" % t.get("part_absences"))
    check(cli_part_absences(conf, today)[:2] == [("A2", "noon", "illness"),
                                                 ("C1", "noon", "personal")],
          "`gatescreen absences` shows the causes")
    fig = (nurse.get("/api/v1/day").json() or {}).get("figures") or {}
    noon = {k.rsplit(".", 1)[1]: v for k, v in fig.items() if k.startswith("part_absences.noon")}
    print("figure: day report noon %r" % noon)
    check(noon == {"all": 2, "unknown": 0, "illness": 1, "personal": 1, "other": 0},
          "the day report counts them by cause (the ledger's, not the figures stored at the "
          "day's end: the day had no gate readings to purge): %r" % noon)
    check("(cause unknown: 0, 1)" in must(conf, "day", "--date", today).stdout,
          "`gatescreen day` too")
    doc = json.loads(must(conf, "summary", "--date", today).stdout)
    check(doc["part_absences"]["noon"] == {"all": 2, "unexplained": 0, "by_cause": {
        "illness": 1, "personal": 1, "other": 0}},
        "the summary by cause: %r" % doc["part_absences"]["noon"])
    text = nurse.get("/api/v1/export/registers.csv").body.decode("utf-8-sig")
    check(",A2,张二,36.50,午检缺勤（因病）," in text, "the register: 午检缺勤（因病） for A2")


def refused_when_off():
    d, conf = gslib.scratch(gslib.BASE_CONFIG)
    path = os.path.join(d, "roster.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    must(conf, "roster", "import", path)
    r = must(conf, "check", "B1", "36.5", "--instrument", "ear", "--window", "evening", status=1)
    check("evening checks are not enabled in this school's configuration ([windows] evening)"
          in r.stderr, "evening check refused when off: %s" % r.stderr.strip())
    doc = json.loads(must(conf, "summary").stdout)
    check("part_absences" not in doc, "a school without part-day sweeps sends no "
          "part_absences (a collector built before the member accepts its summary)")
    r = gslib.cli(conf, "check", "B1", "36.5", "--instrument", "ear", "--window", "night")
    check(r.returncode != 0 and "night" in r.stderr and "evening" in r.stderr,
          "an unknown window is refused, naming the windows: %s" % r.stderr.strip())


def main():
    t0 = time.monotonic()
    refused_when_off()
    zone, now = gslib.school_zone(21)
    today = now.strftime("%Y-%m-%d")
    m = lambda minutes: gslib.hhmm(now + datetime.timedelta(minutes=minutes))
    web_port = gslib.free_port()
    conf_text = (gslib.BASE_CONFIG.replace("timezone = Asia/Shanghai", "timezone = " + zone)
                 .replace("morning = 07:00-08:30\nnoon = 11:30-13:00\n",
                          "morning = %s-%s\nnoon = %s-%s\nnoon_sweep = yes\nevening = %s-%s\n"
                          "absence_grace = 1min\ndays = mon-sun\n"
                          % (m(-300), m(-290), m(-200), m(-190), m(-40), m(-20)))
                 .replace("tcp = 127.0.0.1:15999", "tcp = 127.0.0.1:%d" % gslib.free_port())
                 + "\n[upstream]\nday_end = %s\n" % m(-2)
                 + "\n[web]\nenabled = yes\nlisten = 127.0.0.1\nport = %d\n" % web_port)
    d, conf = gslib.scratch(conf_text)
    db = os.path.join(d, "ledger.db")
    path = os.path.join(d, "roster.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    must(conf, "roster", "import", path)
    add_users(conf)
    ear = ("36.5", "--instrument", "ear")
    for who in ("A1", "A2", "A4", "B1", "B2", "C1"):  # A3, B3: nobody saw them
        must(conf, "check", who, *ear, "--window", "morning", "--by", "宿管")
    for who in ("A1", "B1", "B2"):
        must(conf, "check", who, *ear, "--window", "noon")
    must(conf, "check", "B2", *ear, "--window", "evening", "--by", "宿管")
    must(conf, "leave", "A4", "--from", today, "--to", today, "--reason", "下午看病")

    dm = gslib.Daemon(conf)
    check(dm.wait_for("evening sweep for %s:" % today), "the evening sweep runs")
    check(dm.wait_for("day %s:" % today), "the day ends")
    text = dm.text()
    check("noon sweep for %s: 2 new noon absences" % today in text, "the noon sweep is logged")
    check("evening sweep for %s: 1 new evening absences" % today in text,
          "the evening sweep is logged")
    check(absences(db, today) == ["A3", "B3"],
          "morning: a boarder without a reading or a dormitory check is absent, one with the "
          "check is not: %s" % absences(db, today))
    got = parts(db, today)
    check(got == [("A2", "noon", "unknown"), ("B1", "evening", "unknown"),
                  ("C1", "noon", "unknown")],
          "noon: A2 and C1 (A1 checked, A3 absent all day, A4 on leave); evening: B1 only (B2 "
          "checked, B3 absent all day, day pupils go home): %s" % got)
    check(dm.wait_for("web: serving"), "the web page serves")
    queue_shows_parts(conf, web_port, today)
    counted(conf, db, web_port, today, 2, 1)
    register_says(web_port, today)
    causes_recorded(conf, db, web_port, today)
    done = gslib.db_query(db, "SELECT event FROM day_events WHERE day = ? ORDER BY event",
                          (today,))
    check(("noon-sweep",) in done and ("evening-sweep",) in done,
          "both sweeps recorded as done: %s" % done)
    rc, _ = dm.stop()
    check(rc == 0, "the daemon stops cleanly (%s)" % rc)

    # A restart the same evening: nothing again.
    dm = gslib.Daemon(conf)
    check(dm.wait_for("evening-sweep of %s was done already" % today),
          "after a restart the evening sweep does not run again")
    check("noon-sweep of %s was done already" % today in dm.text(),
          "nor the noon sweep")
    rc, _ = dm.stop()
    check(rc == 0, "stopped cleanly again")
    check([x[:2] for x in parts(db, today)] == [x[:2] for x in got],
          "the restart added or removed no part-day absence")
    print("figure: seconds %.1f" % (time.monotonic() - t0))
    gslib.finish()


if __name__ == "__main__":
    main()
