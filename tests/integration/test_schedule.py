"""The school day in the daemon (issue 4): started after the morning window, the
absence sweep, the noon close and the end of the day have all passed, so the
daemon catches up at once — absences for exactly the right people (a check, leave,
a late arrival, another kind, an inactive pupil are not 'unknown'), the day's
figures stored — readings older than the retention purged with their day's
figures kept, and a restart in the middle of the day does nothing twice."""
import datetime
import os
import sqlite3
import time

import gslib
from gslib import check

ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张一,一年级,一年级1班,1001,1
S2,student,张二,一年级,一年级1班,1002,1
S3,student,张三,一年级,一年级1班,1003,1
S4,student,张四,一年级,一年级1班,1004,1
S5,student,张五,一年级,一年级1班,1005,0
T1,teacher,王老师,,一年级1班,2001,1
"""


def config(zone, now):
    m = lambda minutes: gslib.hhmm(now + datetime.timedelta(minutes=minutes))
    return """\
[school]
code = SCHED
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[windows]
morning = %s-%s
noon = %s-%s
absence_grace = 1min
days = mon-sun

[upstream]
day_end = %s

[bus gw]
tcp = 127.0.0.1:%d

[lane a]
gate = 东门
[device ir-a]
bus = gw
unit = 1
lane = a
""" % (zone, m(-30), m(-20), m(-10), m(-5), m(-2), gslib.free_port())


OLD_DAY = YESTERDAY = None  # set in main: local days 200 days and 1 day ago


def seed_day(db, today, now_ms):
    con = sqlite3.connect(db)
    pid = dict(con.execute("SELECT external_id, id FROM people"))
    con.execute("INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi,"
                " instrument, at_ms) VALUES (?, ?, 'morning', 3650, 3730, 'gate', ?)",
                (pid["S1"], today, now_ms - 1500000))
    con.execute("INSERT INTO leaves (person_id, from_day, to_day, at_ms) VALUES (?, ?, ?, 1)",
                (pid["S2"], today, today))
    con.execute("INSERT INTO readings (at_ms, person_id, card_no, raw_centi, body_centi, quality,"
                " threshold_centi, outcome, day) VALUES (?, ?, 1003, 3660, 3660, 'valid', 3730,"
                " 'admit', ?)", (now_ms - 900000, pid["S3"], today))
    # Yesterday the gate worked (S1 checked) and the daemon was off at the sweep.
    con.execute("INSERT INTO readings (at_ms, person_id, raw_centi, body_centi, quality,"
                " threshold_centi, outcome, day) VALUES (?, ?, 3650, 3650, 'valid', 3730, 'admit', ?)",
                (now_ms - 86400000, pid["S1"], YESTERDAY))
    con.execute("INSERT INTO checks (person_id, day, window, temp_centi, threshold_centi,"
                " instrument, at_ms) VALUES (?, ?, 'morning', 3650, 3730, 'gate', ?)",
                (pid["S1"], YESTERDAY, now_ms - 86400000))
    # Two readings 200 days ago: past the default retention of 120 days.
    for body in (3650, 3700):
        con.execute("INSERT INTO readings (at_ms, person_id, raw_centi, body_centi, quality,"
                    " threshold_centi, outcome, day) VALUES (?, ?, ?, ?, 'valid', 3730, 'admit', ?)",
                    (now_ms - 200 * 86400000, pid["S1"], body, body, OLD_DAY))
    con.commit()
    con.close()
    return pid


def main():
    zone, now = gslib.school_zone(9)
    today = now.strftime("%Y-%m-%d")
    d, conf = gslib.scratch(config(zone, now))
    db = os.path.join(d, "ledger.db")
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    check(gslib.cli(conf, "roster", "import", roster).returncode == 0, "roster imported")
    now_ms = int(time.time() * 1000)
    global OLD_DAY, YESTERDAY
    OLD_DAY = (now - datetime.timedelta(days=200)).strftime("%Y-%m-%d")
    YESTERDAY = (now - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    pid = seed_day(db, today, now_ms)

    dm = gslib.Daemon(conf)
    check(dm.wait_for("day %s:" % today), "the day's figures are logged at start (catch-up)")
    text = dm.text()
    order = [text.find(s) for s in ("morning window closed on " + today,
                                    "absence sweep for " + today, "noon window closed on " + today,
                                    "day %s:" % today)]
    check(all(i >= 0 for i in order) and order == sorted(order),
          "events in the day's order: morning close, sweep, noon close, day end (%r)" % order)
    check("absence sweep for %s: 2 new absences (1 of them came late)" % today in text,
          "the sweep found one unexplained absence and one late arrival")
    rows = dict(gslib.db_query(db, "SELECT p.external_id, a.cause FROM absences a JOIN people p"
                                   " ON p.id = a.person_id WHERE a.day = ?", (today,)))
    check(rows == {"S3": "late", "S4": "unknown"}, "absences: %r" % rows)
    late = gslib.db_query(db, "SELECT late_ms FROM absences WHERE person_id = ? AND day = ?",
                          (pid["S3"], today))
    check(late == [(now_ms - 900000,)], "late_ms is the first reading's time")
    figures = dict(gslib.db_query(db, "SELECT name, value FROM day_figures WHERE day = ?", (today,)))
    check(figures.get("expected") == 3 and figures.get("checks.morning.expected_done") == 1
          and figures.get("absences.unknown") == 1 and figures.get("absences.late") == 1,
          "the day's figures stored: %r" % {k: v for k, v in figures.items()
                                             if k.startswith(("expected", "checks.m", "absences"))})
    old = gslib.db_query(db, "SELECT count(*) FROM readings WHERE day = ?", (OLD_DAY,))
    kept = dict(gslib.db_query(db, "SELECT name, value FROM day_figures WHERE day = ?", (OLD_DAY,)))
    check(old == [(0,)] and kept.get("readings.all") == 2 and kept.get("readings.valid") == 2,
          "readings older than the retention purged at start, their day's figures kept: %r %r"
          % (old, {k: v for k, v in kept.items() if k.startswith("readings")}))
    missed = dict(gslib.db_query(db, "SELECT p.external_id, a.cause FROM absences a JOIN people p"
                                     " ON p.id = a.person_id WHERE a.day = ?", (YESTERDAY,)))
    check(missed == {"S2": "unknown", "S3": "unknown", "S4": "unknown"},
          "yesterday's missed sweep is caught up at start: %r" % missed)
    kept_y = dict(gslib.db_query(db, "SELECT name, value FROM day_figures WHERE day = ?",
                                 (YESTERDAY,)))
    check(kept_y.get("checks.morning.expected_done") == 1 and kept_y.get("absences.unknown") == 3,
          "yesterday's figures stored: %r" % {k: v for k, v in kept_y.items()
                                              if k.startswith(("checks.m", "absences.u"))})
    check("purged 2 readings older than 120 days, from 1 day(s)" in text,
          "the purge is logged")
    rc, _ = dm.stop()
    check(rc == 0, "stopped cleanly")

    before = gslib.db_query(db, "SELECT * FROM absences ORDER BY id")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("absence-sweep of %s was done already" % today),
          "after a restart the sweep does not run again")
    rc, _ = dm.stop()
    check(rc == 0, "stopped cleanly again")
    check(gslib.db_query(db, "SELECT * FROM absences ORDER BY id") == before,
          "the restart changed no absence")
    audits = gslib.db_query(db, "SELECT count(*) FROM audit_log WHERE action LIKE '%sweep%'")
    check(audits == [(2,)], "one audit row for each sweep that created something (yesterday's "
          "and today's): %r" % audits)
    gslib.finish()


if __name__ == "__main__":
    main()
