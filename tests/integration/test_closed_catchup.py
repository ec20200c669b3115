"""Holidays and closed days missed while the box was off (issue 19): schools switch
their gate boxes off over holidays, and the bureau must still tell a closed school
from a silent one. A ledger whose last day end was six days ago; since then, with
the daemon off: a school day, a closure (`gatescreen calendar close`), two holidays
of [calendar], a school day. gatescreend starts with a real HTTPS receiver as the
bureau (tests/integration/https_receiver.py) and sends a "closed" summary for each
closed day (kind closure with its reason, kind holiday) and none for the school days
missed (nothing happened: the bureau sees them missing, which is true) nor for a
holiday before the last day end (the box was not in service then). No sweep runs
and nobody is absent on those days. A restart sends nothing new: the same facts
make no new revision, each key is accepted once."""
import datetime
import os
import sqlite3
import time

import https_receiver as hr

hr.need_jsonschema()

import gslib  # noqa: E402
from gslib import check  # noqa: E402

CODE = "T001"
ROSTER = """\
external_id,kind,name,grade,class,card,active
A1,student,张一,一年级,一年级1班,1001,1
A2,student,张二,一年级,一年级1班,1002,1
T1,teacher,王老师,,一年级1班,3001,1
"""


def config(zone, now, d, rx, certs, days):
    m = lambda minutes: gslib.hhmm(now + datetime.timedelta(minutes=minutes))  # noqa: E731
    return (gslib.BASE_CONFIG.replace("timezone = Asia/Shanghai", "timezone = " + zone)
            .replace("morning = 07:00-08:30\nnoon = 11:30-13:00\n",
                     "morning = %s-%s\nnoon = off\ndays = mon-sun\n" % (m(60), m(90)))
            .replace("tcp = 127.0.0.1:15999", "tcp = 127.0.0.1:%d" % gslib.free_port())
            + "\n[calendar]\nholidays = %s, %s..%s\n\n" % (days[7], days[3], days[2])
            + hr.upstream_section(rx.url(), d, certs, day_end=m(180)))


def summaries(rx):
    """{day: [(revision, closed)]} of the summaries the bureau accepted."""
    out = {}
    for ev in rx.accepted():
        doc = hr.doc_of(ev)
        if doc and "date" in doc and "revision" in doc:
            out.setdefault(doc["date"], []).append((doc["revision"], doc.get("closed")))
    return out


def main():
    t0 = time.monotonic()
    zone, now = gslib.school_zone(9)
    days = {k: (now - datetime.timedelta(days=k)).strftime("%Y-%m-%d") for k in range(8)}
    d, conf = gslib.scratch("")
    certs = hr.make_certs(os.path.join(d, "certs"))
    rx = hr.Receiver(os.path.join(d, "receiver"), certs["server"], certs["server.key"])
    hr.write_secrets(d)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(config(zone, now, d, rx, certs, days))
    db = os.path.join(d, "ledger.db")
    with open(os.path.join(d, "roster.csv"), "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(conf, "roster", "import", os.path.join(d, "roster.csv"))
    check(r.returncode == 0, "roster imported %s" % r.stderr.strip())
    r = gslib.cli(conf, "calendar", "close", days[4], "--reason", "台风停课")
    check(r.returncode == 0, "%s closed by hand: %s" % (days[4], (r.stdout + r.stderr).strip()))
    # The box's last day in service, six days ago: its events done (as gatescreend
    # records them), then it was switched off.
    con = sqlite3.connect(db)
    with con:
        con.executemany("INSERT INTO day_events (day, event, done_ms) VALUES (?, ?, 1)",
                        [(days[6], e) for e in ("rollover", "morning-closed", "absence-sweep",
                                                "day-end")])
    con.close()
    dm = gslib.Daemon(conf)
    closed = {days[4]: "closure", days[3]: "holiday", days[2]: "holiday"}
    got = rx.wait(lambda r: set(closed) <= set(summaries(r)), timeout=20)
    time.sleep(1.5)  # whatever else the start sends
    s = summaries(rx)
    print("     summaries received: %s" % sorted((day, [(rev, (c or {}).get("kind"))
                                                         for rev, c in v]) for day, v in s.items()))
    check(got, "the closed days missed while off got a summary each (%d of %d)"
          % (len(set(closed) & set(s)), len(closed)))
    for day, kind in sorted(closed.items()):
        c = s.get(day, [(0, None)])[0][1] or {}
        check(c.get("kind") == kind and (kind != "closure" or c.get("reason") == "台风停课"),
              "%s: the summary says closed, kind %s (%s)" % (day, kind, c))
    check(days[1] not in s and days[5] not in s,
          "no summary for the school days missed while off (%s, %s)" % (days[1], days[5]))
    check(days[7] not in s, "none for the holiday before the last day in service (%s)" % days[7])
    held = gslib.db_query(db, "SELECT count(*) FROM absences")[0][0]
    swept = gslib.db_query(db, "SELECT day, event FROM day_events WHERE day > ? AND event "
                               "<> 'day-end' AND event <> 'rollover' ORDER BY day", (days[6],))
    check(held == 0 and swept == [], "no sweep and nobody absent on the days missed (%d "
          "absences, events %s)" % (held, swept))
    ends = [x for (x,) in gslib.db_query(db, "SELECT day FROM day_events WHERE day > ? AND "
                                             "event = 'day-end' ORDER BY day", (days[6],))]
    check(ends == sorted(closed), "the closed days' ends are recorded, the school days' not "
          "(%s)" % ends)
    rc, _ = dm.stop()
    check(rc == 0, "the daemon stops cleanly (%s)" % rc)
    before = len(rx.received())
    dm = gslib.Daemon(conf)
    time.sleep(3)
    again = [e["key"] for e in rx.received()[before:]]
    revs = gslib.db_query(db, "SELECT day, max(revision) FROM summaries GROUP BY day")
    check(all(rev == 1 for _, rev in revs) and not [k for k in again if any(
        day in k for day in closed)], "a restart makes no new revision nor send for the closed "
          "days (revisions %s; sent again %s)" % (revs, again))
    rc, _ = dm.stop()
    check(rc == 0, "the daemon stops cleanly again (%s)" % rc)
    rx.stop()
    print("figure: seconds %.1f" % (time.monotonic() - t0))
    gslib.finish()


if __name__ == "__main__":
    main()
