"""The school calendar (issue 19) with the real gatescreen and gatescreend on real
SQLite ledgers:

- `gatescreen calendar close DATE --reason` / `reopen` / `show`: a closed day has
  no absence sweep (by hand or by the daemon), its summary says closed with the
  reason and expects nobody; the sweep's unexplained absences of a day closed after
  its sweep go; reopening tells how to sweep after all; bad input is refused with a
  clear message and changes nothing;
- [calendar] holidays: the summary says holiday, the sweep makes nobody absent;
- staged return (分批开学): a grade not back yet is neither expected nor absent;
- the daemon started after the day's events on a closed day catches up without
  making anyone absent, and stores the day's figures with nobody expected."""
import datetime
import json
import os
import time

import gslib
from gslib import check

ROSTER = """\
external_id,kind,name,grade,class,card,active
A1,student,张一,一年级,一年级1班,1001,1
A2,student,张二,一年级,一年级1班,1002,1
A3,student,张三,一年级,一年级1班,1003,1
B1,student,李一,二年级,二年级1班,2001,1
B2,student,李二,二年级,二年级1班,2002,1
T1,teacher,王老师,,一年级1班,3001,1
"""


def calendar_text(holiday, back):
    return ("\n[calendar]\nholidays = %s\n\n[grade 二年级]\nreturn = %s\n" % (holiday, back))


def must(conf, *args, status=0):
    r = gslib.cli(conf, *args)
    check(r.returncode == status, "gatescreen %s: exit %d (want %d) %s" % (
        " ".join(args)[:70], r.returncode, status, (r.stderr or r.stdout).strip()[:160]))
    return r


def roster(d, conf):
    path = os.path.join(d, "roster.csv")
    with open(path, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    must(conf, "roster", "import", path)


def summary(conf, day):
    r = gslib.cli(conf, "summary", "--date", day)
    return json.loads(r.stdout) if r.returncode == 0 else {}


def absences(db, day):
    return sorted(x for (x,) in gslib.db_query(
        db, "SELECT p.external_id FROM absences a JOIN people p ON p.id = a.person_id "
            "WHERE a.day = ?", (day,)))


def by_hand(zone_today):
    today = zone_today.isoformat()
    yesterday = (zone_today - datetime.timedelta(days=1)).isoformat()
    holiday = (zone_today - datetime.timedelta(days=2)).isoformat()
    back = (zone_today + datetime.timedelta(days=3)).isoformat()
    d, conf = gslib.scratch(gslib.BASE_CONFIG.replace("[windows]\n", "[windows]\ndays = mon-sun\n")
                            + calendar_text(holiday, back))
    db = os.path.join(d, "ledger.db")
    roster(d, conf)

    # Staged return: 二年级 is not back until `back`.
    s = summary(conf, yesterday)
    check(s.get("expected") == 3 and s.get("groups", {}).get("students", {}).get("expected") == 3,
          "二年级 not back: 3 expected, not 5 (%s)" % s.get("expected"))
    must(conf, "sweep", "--date", yesterday)
    check(absences(db, yesterday) == ["A1", "A2", "A3"],
          "the sweep leaves out the grade not back: %s" % absences(db, yesterday))

    # A closure after the day's sweep: the sweep's absences go; the summary says closed.
    r = must(conf, "calendar", "close", yesterday, "--reason", "暴雨红色预警")
    check("1 day(s) closed" in r.stdout and "3 absence(s) the sweep had made removed" in r.stdout,
          "close: %s" % r.stdout.strip().splitlines()[:1])
    check(absences(db, yesterday) == [], "the closed day's sweep absences are gone")
    s = summary(conf, yesterday)
    check(s.get("closed") == {"kind": "closure", "reason": "暴雨红色预警"} and
          s.get("expected") == 0, "the summary: closed, with the reason, nobody expected (%s, %s)"
          % (s.get("closed"), s.get("expected")))
    r = must(conf, "sweep", "--date", yesterday)
    check("the school is closed (暴雨红色预警)" in r.stderr and absences(db, yesterday) == [],
          "a sweep by hand on a closed day makes nobody absent: %s" % r.stderr.strip())
    r = must(conf, "calendar", "show")
    check("暴雨红色预警" in r.stdout and "二年级: back on %s" % back in r.stdout and
          "%s\tholiday" % holiday not in r.stdout,
          "show: the closure, the staged return (%s)" % r.stdout.strip().splitlines()[:4])
    r = must(conf, "calendar", "reopen", yesterday)
    check(r.stdout.strip() == "%s is open again" % yesterday,
          "reopen (the daemon's sweep had not run): %s" % r.stdout.strip())
    check(summary(conf, yesterday).get("closed") is None, "reopened: closed null again")
    audit = gslib.db_query(db, "SELECT action, target FROM audit_log WHERE action LIKE 'day %'")
    check(audit == [("day close", yesterday), ("day reopen", yesterday)],
          "close and reopen are audited: %s" % audit)

    # A holiday of [calendar].
    s = summary(conf, holiday)
    check((s.get("closed") or {}).get("kind") == "holiday" and s.get("expected") == 0,
          "a holiday: closed, kind holiday, nobody expected (%s)" % s.get("closed"))
    r = must(conf, "sweep", "--date", holiday)
    check("a holiday by [calendar]" in r.stderr and absences(db, holiday) == [],
          "no sweep on a holiday: %s" % r.stderr.strip())

    # Bad input: a clear message, nothing changed.
    before = gslib.db_query(db, "SELECT count(*) FROM closed_days")
    for args, status, msg in [
            (("calendar", "close", today), 2, "expected DATE or FROM..TO and --reason TEXT"),
            (("calendar", "close", "2026-02-30", "--reason", "x"), 1,
             "'2026-02-30' is not a date"),
            (("calendar", "close", "%s..%s" % (today, yesterday), "--reason", "x"), 1,
             "is not a range of 1 to 366 days"),
            (("calendar", "close", today, "--reason", ""), 1, "the reason is empty"),
            (("calendar", "close", today, "--reason", "长" * 201), 1, "the reason is too long"),
            (("calendar", "reopen", today), 1, "%s is not closed" % today),
            (("calendar", "show", "extra"), 2, "calendar show: takes no arguments")]:
        r = gslib.cli(conf, *args)
        check(r.returncode == status and msg in r.stderr,
              "%s: exit %d, '%s'" % (" ".join(args)[:50], r.returncode, r.stderr.strip()[:100]))
    check(gslib.db_query(db, "SELECT count(*) FROM closed_days") == before,
          "bad input closed nothing")
    r = must(conf, "calendar", "close", "%s..%s" % (today, back), "--reason", "流感停课")
    check("4 day(s) closed" in r.stdout, "a range closes each day: %s" % r.stdout.strip()[:80])


def daemon_on_a_closed_day():
    """Started after the day's events: the catch-up runs them, the sweep makes nobody
    absent, the stored figures expect nobody."""
    zone, now = gslib.school_zone(9)
    today = now.strftime("%Y-%m-%d")
    m = lambda minutes: gslib.hhmm(now + datetime.timedelta(minutes=minutes))
    conf_text = (gslib.BASE_CONFIG.replace("timezone = Asia/Shanghai", "timezone = " + zone)
                 .replace("morning = 07:00-08:30\nnoon = 11:30-13:00\n",
                          "morning = %s-%s\nnoon = off\nabsence_grace = 1min\ndays = mon-sun\n"
                          % (m(-30), m(-20)))
                 .replace("tcp = 127.0.0.1:15999", "tcp = 127.0.0.1:%d" % gslib.free_port())
                 + "\n[upstream]\nday_end = %s\n" % m(-2))
    d, conf = gslib.scratch(conf_text)
    db = os.path.join(d, "ledger.db")
    roster(d, conf)
    must(conf, "calendar", "close", today, "--reason", "暴雪停课")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("day %s:" % today), "the day's end is caught up at start")
    text = dm.text()
    check("%s: the school is closed (暴雪停课): nobody is absent, no sweep" % today in text,
          "the daemon's sweep is skipped on the closed day")
    check(absences(db, today) == [], "nobody absent")
    figures = dict(gslib.db_query(db, "SELECT name, value FROM day_figures WHERE day = ?",
                                  (today,)))
    check(figures.get("expected") == 0 and figures.get("population.student") == 5,
          "the stored figures: nobody expected, the population as it is (%s, %s)"
          % (figures.get("expected"), figures.get("population.student")))
    done = gslib.db_query(db, "SELECT event FROM day_events WHERE day = ? ORDER BY event",
                          (today,))
    check(("absence-sweep",) in done, "the sweep is recorded as done: a restart does not redo it")
    rc, _ = dm.stop()
    check(rc == 0, "the daemon stops cleanly (%s)" % rc)
    r = must(conf, "calendar", "reopen", today)
    check("run `gatescreen sweep --date %s` to make it now" % today in r.stdout,
          "reopened after the daemon skipped its sweep: it says how to sweep now (%s)"
          % r.stdout.strip().splitlines()[-1:])
    must(conf, "sweep", "--date", today)
    check(absences(db, today) == ["A1", "A2", "A3", "B1", "B2"],
          "the sweep by hand after reopening: %s" % absences(db, today))


def main():
    t0 = time.monotonic()
    zone_today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8))).date()
    by_hand(zone_today)
    daemon_on_a_closed_day()
    print("figure: seconds %.1f" % (time.monotonic() - t0))
    gslib.finish()


if __name__ == "__main__":
    main()
