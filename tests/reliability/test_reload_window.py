"""Reloads in the middle of the morning window (issue 14, finding 5), on a fake
wall clock (libfaketime) in Asia/Shanghai; morning 07:00-08:30, one minute of
absence grace (sweep 08:31), Mon-Fri.

Monday 07:59, while two lanes decide through a burst of reloads, the window is
cut to 07:00-07:50: its close and the sweep (07:51) are now past, so they run at
once, and only once. Tuesday, the sweep runs at 08:31; at 08:35 the window is
stretched to 08:40 (the sweep's time is in the future again): people who come in
the reopened window get their check and lose the sweep's absence, and at 08:41
the close and the sweep do not run a second time.

Throughout: every decision shown has its ledger row, nothing is lost, and the
lanes decide after every reload without help."""
import datetime
import os
import signal

import gslib
from gslib import check
import fakeclock
from fakeclock import School, figure

ZONE = "Asia/Shanghai"
MON = datetime.date(2025, 3, 3)
TUE = MON + datetime.timedelta(days=1)
RELOADS = 40 if os.environ.get("GS_LONG", "") not in ("", "0") else 10


def config_text(port, morning):
    return fakeclock.two_lane_config("RLD", ZONE, port, "morning = %s\nabsence_grace = 1min"
                                     % morning)


class Reloads:
    def __init__(self):
        self.port = None

        def config(port):
            self.port = port
            return config_text(port, "07:00-08:30")
        self.s = School(config, ZONE)
        self.applied = 0

    def reload(self, morning=None):
        """Rewrites the window (when given) and sends SIGHUP; waits until applied."""
        if morning:
            with open(self.s.conf, "w", encoding="utf-8") as f:
                f.write(config_text(self.port, morning))
        self.applied += 1
        self.s.dm.send(signal.SIGHUP)
        check(self.s.dm.wait_for("reload: configuration", count=self.applied),
              "reload %d applied%s" % (self.applied,
                                       " (morning = %s)" % morning if morning else ""))


def window_cut(r):
    """Monday 07:59: reloads while people arrive, then the window ends at 07:50."""
    s = r.s
    for i in range(1, 11):
        check(s.arrive(i), "arrival %d decided during the reloads" % i)
        r.reload()
    for _ in range(RELOADS - 10):
        r.reload()
    s.promise("reloads in the window")
    mark = s.mark()
    r.reload("07:00-07:50")
    swept = gslib.wait_until(lambda: "absence sweep for %s" % MON in s.log_since(mark), 5)
    text = s.log_since(mark)
    figure("cut.sweeps", text.count("absence sweep for %s" % MON))
    check(swept, "the sweep, now past, runs at once")
    check(text.count("morning window closed on %s" % MON) == 1, "the close, now past, runs once")
    unknown = sum(1 for c in s.absences(MON).values() if c == "unknown")
    check(unknown == 30, "the 30 who did not come are absent (%d)" % unknown)
    s.arrive_all([11], "an arrival after the reload, late")
    check(s.absences(MON).get("S11") == "late", "S11 came after the window: late")
    s.promise("window cut")


def window_stretched(r):
    """Tuesday: swept at 08:31; at 08:35 the window is stretched to 08:40."""
    s = r.s
    r.reload("07:00-08:30")
    s.clock.set(TUE, "08:30:55")
    check(s.dm.wait_for("absence sweep for %s" % TUE), "Tuesday's sweep at 08:31")
    s.clock.set(TUE, "08:35:00")
    mark = s.mark()
    r.reload("07:00-08:40")
    s.arrive_all(range(1, 6), "five arrivals in the stretched window")
    both = s.checked_and_late(TUE)
    figure("stretch.check_and_late", both)
    check(both == 0, "nobody has both a morning check and a late absence (%d have)" % both)
    absent = s.absences(TUE)
    check(all("S%02d" % i not in absent for i in range(1, 6)),
          "the five who came in the window have no absence")
    s.clock.set(TUE, "08:40:55")
    check(s.clock.wait_past(TUE, "08:41:02", 15), "08:41 passes")
    s.arrive_all([6], "an arrival after the stretched window")
    text = s.log_since(mark)
    sweeps = text.count("absence sweep for %s" % TUE)
    closes = text.count("morning window closed on %s" % TUE)
    figure("stretch.sweeps_again", sweeps)
    check(sweeps == 0 and closes == 0,
          "the sweep and the close do not run again (%d sweeps, %d closes)" % (sweeps, closes))
    check(s.absences(TUE).get("S06") == "late", "S06 came after the window: late")
    s.promise("window stretched")


def main():
    r = Reloads()
    r.s.clock.set(MON, "07:58:50")
    r.s.start()
    try:
        window_cut(r)
        window_stretched(r)
    finally:
        r.s.close()
    gslib.finish()


if __name__ == "__main__":
    main()
