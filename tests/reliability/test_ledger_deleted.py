"""The ledger's files are removed while the gate runs (finding 2: `rm ledger.db
ledger.db-wal ledger.db-shm` during a busy morning; the gate went on showing green
for 165 decisions, logged nothing, and all of it was gone at the stop; the next start
silently made an empty ledger and everyone got red "unknown card").

Expected:
- within ~1 s of the rm the daemon logs an error containing "deleted or replaced",
  every lane shows amber with the reason "ledger-lost", and no green after that;
- a rescue copy <database>.rescued-* appears in the same folder, a sound SQLite
  file holding every decision the lanes showed as recorded;
- after the stop, a plain start is refused (non-zero exit status, a message naming
  --new-ledger: the lost ledger had people), again on a second try;
- `gatescreend --new-ledger` starts with a fresh ledger and the rescue copy stays."""
import glob
import os
import time

import gslib
from gslib import check, figure

OBSERVE_S = 20.0 if gslib.LONG else 3.0
BEFORE = 300 if gslib.LONG else 80


def rescue_copies(db):
    return sorted(f for f in glob.glob(db + ".rescued-*")
                  if not f.endswith(("-wal", "-shm", "-journal")))


def plain_start_refused(g, tag):
    """A start without --new-ledger; True if it was refused as expected."""
    dm = gslib.Daemon(g.conf, log_path="%s.%s.log" % (g.conf, tag))
    gslib.wait_until(lambda: dm.proc.poll() is not None or "ready:" in dm.text(), 15, 0.05)
    rc = dm.proc.poll()
    if rc is None:
        dm.stop()
    else:
        dm.log.close()
    text = dm.text()
    figure("%s_exit_status" % tag, "running" if rc is None else rc)
    last = [ln for ln in text.splitlines() if ln.strip()][-1:] or ["(no output)"]
    check(rc is not None and rc != 0 and "--new-ledger" in text,
          "%s: a plain start is refused, naming --new-ledger (%s; %s)"
          % (tag, "it started" if rc is None else "status %d" % rc, last[0]))
    return text


def main():
    g = gslib.BusyGate("LOST", seed=23, duration=int(OBSERVE_S + 120))
    db = g.db
    try:
        dm = gslib.Daemon(g.conf)
        check(dm.wait_for("ready:", 20), "daemon ready")
        check(g.wait_decisions(BEFORE, 60), "a busy morning: %d decisions" % BEFORE)
        people = gslib.db_query(db, "SELECT count(*) FROM people")[0][0]
        t_rm = time.monotonic()
        for suffix in ("", "-wal", "-shm"):
            try:
                os.remove(db + suffix)
            except FileNotFoundError:
                pass
        shown_before = gslib.committed([ln for ln in g.read()
                                        if int(ln["mono_us"]) < int(t_rm * 1e6)])
        figure("decisions_before_rm", len(shown_before))
        gslib.check_ledger_lost(g, dm, t_rm, OBSERVE_S)
        appeared = gslib.wait_until(lambda: rescue_copies(db), 3.0, 0.05)
        figure("rescue_copy", os.path.basename(rescue_copies(db)[-1]) if appeared else "none")
        check(appeared, "a rescue copy %s.rescued-* appears beside it"
              % os.path.basename(db))
        alive = dm.proc.poll() is None
        rc, took = dm.stop() if alive else (dm.proc.wait(), 0.0)
        figure("stop_status", rc)
        figure("stop_s", "%.1f" % took)
        check(alive, "the daemon ran until stopped")

        lights = g.read()
        shown = gslib.committed(lights)
        figure("decisions_shown_as_recorded", len(shown))
        figure("greens_shown_in_all", sum(1 for ln in shown if ln["lamp"] == "green"))
        copies = rescue_copies(db)
        if copies:
            rescue = copies[-1]
            ok = gslib.db_query(rescue, "PRAGMA integrity_check")
            check(ok == [("ok",)], "the rescue copy passes its integrity check (%r)" % ok[:3])
            missing, nrows = gslib.unmatched(rescue, lights)
            figure("rescued_rows", nrows)
            figure("lost_decisions", len(missing))
            check(not missing, "nothing lost: every decision shown as recorded is in the rescue "
                  "copy (%d of %d missing: %r)" % (len(missing), len(shown), missing[:3]))
            rescued_people = gslib.db_query(rescue, "SELECT count(*) FROM people")[0][0]
            check(rescued_people == people, "the rescue copy has the %d people (%d)"
                  % (people, rescued_people))
            size = os.path.getsize(rescue)
        else:
            figure("rescued_rows", 0)
            figure("lost_decisions", len(shown))
            check(False, "nothing lost: no rescue copy holds the %d decisions shown"
                  % len(shown))
            size = None
        figure("ledger_after_stop", "present" if os.path.exists(db) else "absent")

        plain_start_refused(g, "restart")
        plain_start_refused(g, "restart_again")
        figure("ledger_after_refusals", "present" if os.path.exists(db) else "absent")

        dm = gslib.Daemon(g.conf, "--new-ledger", log_path=g.conf + ".new.log")
        started = dm.wait_for("ready:", 20)
        rc = dm.proc.poll()
        figure("new_ledger_start", "ready" if started else "status %r" % rc)
        check(started, "gatescreend --new-ledger starts (%s)"
              % (dm.text().strip().splitlines()[-1:] or ["no output"])[0])
        if started:
            n0 = len(gslib.decision_lines(g.read()))
            decided = gslib.wait_until(lambda: len(gslib.committed(
                gslib.decision_lines(g.read())[n0:])) >= 20, 20, 0.05)
            check(decided, "the new ledger's gate decides (and records) again")
            fresh = gslib.db_query(db, "SELECT count(*) FROM people")[0][0]
            check(fresh == 0, "the ledger is a fresh one (%d people)" % fresh)
            rc, _ = dm.stop()
            check(rc == 0, "stopped cleanly (status %d)" % rc)
            missing, _ = gslib.unmatched(db, gslib.decision_lines(g.read())[n0:])
            check(not missing, "never green without a committed row in the new ledger")
        elif rc is None:
            dm.stop()
        if size is not None:
            check(rescue_copies(db) and os.path.getsize(copies[-1]) == size,
                  "the rescue copy is left as it was")
    finally:
        g.close()
    gslib.finish()


if __name__ == "__main__":
    main()
