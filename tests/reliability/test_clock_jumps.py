"""Clock jumps (issue 14, finding 4): the daemon's wall clock is stepped with
libfaketime while two lanes work, through one school week in Asia/Shanghai
(morning 07:00-08:00, sweep 08:10, noon 11:30-12:00, day end 17:00, Mon-Fri):

1. forward within Monday, 07:20 -> 08:25, over the morning close and the sweep;
2. back into the morning window after the sweep, 08:25 -> 07:40: people who now
   come get their morning check, and the sweep's absence is withdrawn rather than
   made 'late' (a check and a late absence never coexist); 08:20 again, and a
   real late arrival is still 'late';
3. back across midnight after the day end: Tuesday 00:00:03 -> Monday 23:59:52,
   after an evening fever screen and two causes recorded by the nurse: one
   rollover a day, Monday's events not run again, its stored figures unchanged;
4. three days forward, Tuesday 00:00 -> Friday 10:00: Tuesday, Wednesday and
   Thursday are caught up in order (sweep and figures), then Friday.

Throughout: every decision shown has its ledger row, no decision is lost, the
lanes decide again after each jump by themselves; a restart at the end runs
nothing again."""
import datetime

import gslib
from gslib import check
import fakeclock
from fakeclock import School, ext, figure

ZONE = "Asia/Shanghai"
MON = datetime.date(2025, 3, 3)
TUE, WED, THU, FRI = (MON + datetime.timedelta(days=i) for i in range(1, 5))


def config(port):
    return fakeclock.two_lane_config("CLK", ZONE, port, "morning = 07:00-08:00\n"
                                     "noon = 11:30-12:00\nabsence_grace = 10min")


def forward(s):
    """Monday 07:20 -> 08:25: the morning close and the sweep once each, in order."""
    s.arrive_all(range(1, 3), "two fevers at 07:20", temp="38.00")
    s.arrive_all(range(3, 21), "18 normal arrivals at 07:20")
    mark = s.mark()
    s.clock.set(MON, "08:25:00")
    check(s.dm.wait_for("absence sweep for %s" % MON), "the sweep ran after the jump")
    text = s.log_since(mark)
    close, sweep = "morning window closed on %s" % MON, "absence sweep for %s" % MON
    check(text.count(close) == 1 and text.count(sweep) == 1 and text.find(close) < text.find(sweep),
          "morning close then sweep, once each")
    check("absence sweep for %s: 20 new absences" % MON in text, "20 absent after the sweep")
    s.arrive_all([21], "one arrival right after the jump, late (recovers by itself)")
    s.promise("forward")


def back_into_window(s):
    """Monday 08:25 -> 07:40, after the sweep: the late comers' check withdraws their
    sweep absence; 08:20 again, and a late arrival after the window is 'late'."""
    mark = s.mark()
    s.clock.set(MON, "07:40:00")
    s.arrive_all(range(22, 36), "14 arrivals in the window again")
    s.clock.set(MON, "08:20:00")
    s.arrive_all([36], "one arrival after the window")
    both = s.checked_and_late(MON)
    figure("back_window.check_and_late", both)
    check(both == 0, "nobody has both a morning check and a late absence (%d have)" % both)
    absent = s.absences(MON)
    figure("back_window.withdrawn", sum(1 for i in range(22, 36) if ext(i) not in absent))
    check(all(ext(i) not in absent for i in range(22, 36)),
          "the 14 who came in the window have no absence: %r"
          % {ext(i): absent.get(ext(i)) for i in range(22, 36) if ext(i) in absent})
    late = (absent.get(ext(21)), absent.get(ext(36)))
    check(late == ("late", "late"), "the arrivals after the window (08:25, 08:20) are late: %r"
          % (late,))
    rest = sorted(p for p, c in absent.items() if c == "unknown")
    check(rest == [ext(i) for i in (37, 38, 39, 40)],
          "the four who never came stay unexplained: %r" % rest)
    withdrawn = s.q("SELECT count(*) FROM audit_log WHERE action = 'absence withdrawn'")[0][0]
    check(withdrawn == 14, "each withdrawal is in the audit log (%d)" % withdrawn)
    text = s.log_since(mark)
    check("morning window closed" not in text and "absence sweep" not in text,
          "the morning close and the sweep do not run again")
    s.promise("back into the window")


def back_across_midnight(s):
    """After Monday's day end, an evening fever and two causes; Tuesday 00:00:03 ->
    Monday 23:59:52 -> Tuesday again: one rollover, Monday's figures stay."""
    s.clock.set(MON, "16:59:57")
    check(s.dm.wait_for("day %s:" % MON), "Monday's day end")
    kept = {n: s.stored(MON, n) for n in ("fevers.screens", "absences.unknown", "absences.late")}
    check(kept == {"fevers.screens": 2, "absences.unknown": 4, "absences.late": 2},
          "Monday's figures stored at its end: %r" % kept)
    mark = s.mark()
    s.clock.set(MON, "20:00:00")
    s.arrive_all([3], "a fever in the evening", temp="38.20")
    for p in ("S37", "S38"):
        r = s.clock.cli(s.conf, "absence", p, "--date", MON.isoformat(), "--cause", "personal")
        check(r.returncode == 0, "the nurse records %s's cause: %s" % (p, r.stdout + r.stderr))
    s.clock.set(TUE, "00:00:03")
    check(s.dm.wait_for("day rollover: %s begins" % TUE), "Tuesday begins")
    s.clock.set(MON, "23:59:52")
    s.arrive_all([4], "an arrival at 23:59:5x, back on Monday")
    check(s.clock.wait_past(TUE, "00:00:02", 20), "midnight passes again")
    s.arrive_all([5], "an arrival on Tuesday again")
    text = s.log_since(mark)
    rollovers = text.count("day rollover:")
    figure("night.rollovers", rollovers)
    check(rollovers == 1, "one rollover in the night (%d)" % rollovers)
    again = [e for e in ("morning window closed on %s" % MON, "absence sweep for %s" % MON,
                         "noon window closed on %s" % MON, "day %s:" % MON) if e in text]
    figure("night.monday_events_again", len(again))
    check(not again, "Monday's events do not run again: %r" % again)
    now = {n: s.stored(MON, n) for n in kept}
    figure("night.stored_fever_screens", "%s -> %s" % (kept["fevers.screens"],
                                                       now["fevers.screens"]))
    figure("night.stored_unexplained", "%s -> %s" % (kept["absences.unknown"],
                                                     now["absences.unknown"]))
    check(now == kept, "Monday's stored figures unchanged: %r (were %r)" % (now, kept))
    evening = s.q("SELECT p.external_id, r.outcome, r.day FROM readings r JOIN people p"
                  " ON p.id = r.person_id WHERE p.external_id IN ('S03', 'S04') AND r.day = ?"
                  " ORDER BY r.id", (MON.isoformat(),))
    check(evening[-2:] == [("S03", "fever", MON.isoformat()), ("S04", "admit", MON.isoformat())],
          "the evening's and 23:59's decisions are Monday's rows: %r" % evening[-2:])
    s.promise("back across midnight")


def three_days_forward(s):
    """Tuesday 00:00 -> Friday 10:00: Tuesday to Thursday caught up in order."""
    mark = s.mark()
    s.clock.set(FRI, "10:00:00")
    check(s.dm.wait_for("absence sweep for %s" % FRI), "Friday's sweep")
    check(s.dm.wait_for("day %s:" % THU), "Thursday's day end")
    text = s.log_since(mark)
    sweeps = [text.find("absence sweep for %s" % d) for d in (TUE, WED, THU, FRI)]
    ends = [text.find("day %s:" % d) for d in (TUE, WED, THU)]
    caught = sum(1 for d in (WED, THU) if s.stored(d, "expected") is not None)
    figure("forward3.skipped_days_with_figures", caught)
    figure("forward3.skipped_days_swept", sum(1 for i in sweeps[1:3] if i >= 0))
    check(all(i >= 0 for i in sweeps) and sweeps == sorted(sweeps),
          "sweeps of Tuesday, Wednesday, Thursday, Friday, in order: %r" % sweeps)
    check(all(i >= 0 for i in ends) and ends == sorted(ends) and ends[-1] < sweeps[-1],
          "the day ends of Tuesday to Thursday in order, before Friday's sweep: %r" % ends)
    check(caught == 2, "figures stored for Wednesday and Thursday")
    rollovers = text.count("day rollover:")
    check(rollovers == 1 and "day rollover: %s begins" % FRI in text,
          "one rollover, Friday's (%d)" % rollovers)
    s.arrive_all([6], "an arrival at 10:00 on Friday")
    check(s.absences(FRI).get("S06") == "late", "Friday's 10:00 arrival is late")
    s.promise("three days forward")


def restart(s):
    """Friday 10:05, a restart: nothing runs again."""
    rc, _ = s.dm.stop()
    check(rc == 0, "stopped cleanly")
    s.clock.set(FRI, "10:05:00")
    s.start()
    s.arrive_all([7], "an arrival after the restart")
    rc, _ = s.dm.stop()
    check(rc == 0, "stopped cleanly again")
    text = s.dm.text()
    again = [ln for ln in text.splitlines() if "absence sweep for" in ln or "day rollover:" in ln
             or "window closed on" in ln or ("day 2025-" in ln and "expected" in ln)]
    figure("restart.events_again", len(again))
    check(not again, "a restart runs no event again: %r" % again[:4])


def main():
    s = School(config, ZONE)
    s.clock.set(MON, "07:20:00")
    s.start()
    try:
        forward(s)
        back_into_window(s)
        back_across_midnight(s)
        three_days_forward(s)
        restart(s)
    finally:
        s.close()
    gslib.finish()


if __name__ == "__main__":
    main()
