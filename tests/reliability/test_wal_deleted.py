"""The ledger's WAL file is removed while the gate runs, then the daemon is killed
(finding 3: `rm ledger.db-wal`, then SIGKILL; 108 decisions that were shown, 105 of
them green, were lost, and nothing was logged).

Expected:
- within ~1 s of the rm the daemon logs an error containing "deleted or replaced",
  every lane shows amber with the reason "ledger-lost", and no green after that
  (it saves what the WAL held into the main file when it notices);
- after SIGKILL a plain start works (the main file is still there) and the gate
  decides green again;
- every decision the lanes showed as recorded is in the ledger, every row committed
  before the rm is still there, and the integrity check passes."""
import os
import signal
import time

import gslib
from gslib import check, figure

OBSERVE_S = 20.0 if gslib.LONG else 3.0
BEFORE = 300 if gslib.LONG else 80


def main():
    g = gslib.BusyGate("WAL", seed=29, duration=int(OBSERVE_S + 120))
    db = g.db
    try:
        dm = gslib.Daemon(g.conf)
        check(dm.wait_for("ready:", 20), "daemon ready")
        check(g.wait_decisions(BEFORE, 60), "a busy morning: %d decisions" % BEFORE)
        before = g.reading_keys()
        t_rm = time.monotonic()
        os.remove(db + "-wal")
        figure("decisions_before_rm", len(gslib.committed(
            [ln for ln in g.read() if int(ln["mono_us"]) < int(t_rm * 1e6)])))
        gslib.check_ledger_lost(g, dm, t_rm, OBSERVE_S)
        dm.proc.send_signal(signal.SIGKILL)
        dm.proc.wait(10)
        dm.log.close()
        shown = g.read()
        figure("decisions_shown_as_recorded", len(gslib.committed(shown)))
        figure("greens_shown", sum(1 for ln in gslib.committed(shown) if ln["lamp"] == "green"))
        figure("files_after_kill", ",".join(sorted(
            f for f in os.listdir(g.d) if f.startswith(os.path.basename(db)))))
        missing, nrows = gslib.unmatched(db, shown)  # the file alone, as the kill left it
        figure("lost_after_kill", len(missing))
        figure("lost_green_after_kill", sum(1 for k in missing if k[1] == "admit"))

        dm = gslib.Daemon(g.conf, log_path=g.conf + ".restart.log")
        started = dm.wait_for("ready:", 20)
        check(started, "a plain start after the kill works (%s)"
              % (dm.text().strip().splitlines()[-1:] or ["no output"])[0])
        n0 = len(shown)
        again = started and gslib.wait_until(
            lambda: [ln for ln in g.read()[n0:] if ln["lamp"] == "green"], 20, 0.05)
        check(again, "the restarted gate shows green again")
        alive = dm.proc.poll() is None
        rc, _ = dm.stop() if alive else (dm.proc.wait(), 0)
        check(alive and rc == 0, "the restarted daemon stopped cleanly (status %r)" % rc)

        missing, _ = gslib.unmatched(db, shown)
        figure("lost_decisions", len(missing))
        check(not missing, "every decision shown as recorded before the kill is in the ledger "
              "(%d of %d missing: %r)" % (len(missing), len(gslib.committed(shown)),
                                          missing[:3]))
        lost = before - g.reading_keys()
        figure("rows_lost", len(lost))
        check(not lost, "nothing lost: the %d rows committed before the rm are there (%d lost)"
              % (len(before), len(lost)))
        missing, _ = gslib.unmatched(db, g.read())
        check(not missing, "never green without a committed row, both runs (%d missing)"
              % len(missing))
        r = gslib.cli(g.conf, "db", "check")
        check(r.returncode == 0 and "integrity check ok" in r.stdout,
              "integrity at the end: " + (r.stdout + r.stderr).strip())
    finally:
        g.close()
    gslib.finish()


if __name__ == "__main__":
    main()
