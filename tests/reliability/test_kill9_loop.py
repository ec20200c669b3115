"""kill -9 at random moments of a busy morning, again and again: 20 rounds (GS_LONG:
100) of start, SIGKILL after a random moment (one round in five within 15 ms of
the spawn, during the start; the others 0.1-2 s in, while the four lanes decide
about 16 readings a second), and the checks of
test_gate_crash.py after each kill:
- never green without a committed row: every decision shown as recorded, in all
  rounds so far, has its readings row;
- nothing lost: every row there after one kill is there after the next;
- the ledger passes its integrity check after every kill;
- recovers by itself: each start works (the daemon never exits on its own), and
  a last, clean run decides, stops with status 0 and leaves every check its
  person's first valid reading.
GS_SEED=N repeats a run's kill moments (the seed is printed as a figure)."""
import os
import random
import signal
import time

import gslib
from gslib import check, figure

ROUNDS = 100 if gslib.LONG else 20


def main():
    seed = int(os.environ.get("GS_SEED", "0")) or random.SystemRandom().randrange(1, 1 << 30)
    figure("seed", seed)
    rng = random.Random(seed)
    g = gslib.BusyGate("KILL9", seed=37, duration=ROUNDS * 4 + 90)
    conf, db = g.conf, g.db
    rows = set()
    lost, missing_max, bad_integrity, died, before_ready = [], 0, [], [], 0
    start_ms, shown_per_round = [], []
    t_all = time.monotonic()
    try:
        for i in range(1, ROUNDS + 1):
            n0 = len(gslib.committed(g.read()))
            t0 = time.monotonic()
            dm = gslib.Daemon(conf, log_path=conf + ".round.log")
            # One round in five during the start (it is ready in some 30 ms), the
            # others while it decides.
            delay = rng.uniform(0.0, 0.015) if rng.random() < 0.2 else rng.uniform(0.1, 2.0)
            ready_at = None
            while dm.proc.poll() is None:
                left = t0 + delay - time.monotonic()
                if left <= 0:
                    break
                if ready_at is None and "ready:" in dm.text():
                    ready_at = time.monotonic()
                time.sleep(min(0.01, left))
            if dm.proc.poll() is not None:
                died.append((i, dm.proc.returncode, dm.text().strip().splitlines()[-1:]))
                dm.log.close()
                continue
            dm.proc.send_signal(signal.SIGKILL)
            dm.proc.wait(10)
            dm.log.close()
            if ready_at is None and "ready:" not in dm.text():
                before_ready += 1
            elif ready_at is not None:
                start_ms.append((ready_at - t0) * 1000.0)
            lights = g.read()
            shown = len(gslib.committed(lights))
            shown_per_round.append(shown - n0)
            missing, _ = gslib.unmatched(db, lights)
            missing_max = max(missing_max, len(missing))
            now = g.reading_keys()
            gone = rows - now
            if gone:
                lost.append((i, len(gone)))
            rows = now
            r = gslib.cli(conf, "db", "check")
            ok = r.returncode == 0 and "integrity check ok" in r.stdout
            if not ok:
                bad_integrity.append((i, (r.stdout + r.stderr).strip()[-200:]))
            print("# round %d: kill after %.2f s (%s), %d decisions shown, %d missing, %d rows, "
                  "integrity %s" % (i, delay, "ready" if ready_at or "ready:" in dm.text()
                                    else "starting", shown - n0, len(missing), len(rows),
                                    "ok" if ok else "BAD"))
            if missing:
                print("#   missing: %r" % missing[:5])

        # The last run: a clean one after all those kills.
        n0 = len(gslib.committed(g.read()))
        dm = gslib.Daemon(conf, log_path=conf + ".last.log")
        started = dm.wait_for("ready:", 20)
        decided = started and g.wait_decisions(n0 + 50, 30)
        rc, _ = dm.stop() if dm.proc.poll() is None else (dm.proc.returncode, 0)
    finally:
        g.close()
    lights = g.read()
    missing, nrows = gslib.unmatched(db, lights)
    gone = rows - g.reading_keys()
    figure("rounds", ROUNDS)
    figure("loop_s", "%.1f" % (time.monotonic() - t_all))
    figure("kills_during_start", before_ready)
    figure("start_to_ready_max_ms", "%.0f" % max(start_ms, default=0))
    figure("decisions_shown", len(gslib.committed(lights)))
    figure("decisions_per_round_min", min(shown_per_round, default=0))
    figure("readings_rows", nrows)
    figure("lost_decisions", len(missing))
    figure("lost_decisions_max_in_a_round", missing_max)
    figure("rows_lost", sum(n for _, n in lost) + len(gone))
    figure("integrity_failures", len(bad_integrity))
    figure("starts_that_exited", len(died))
    check(not died, "every start ran until killed (exited: %r)" % died[:3])
    check(missing_max == 0 and not missing, "never green without a committed row: after every "
          "kill, every decision shown is in the ledger (worst round: %d missing)" % missing_max)
    check(not lost and not gone, "nothing lost: rows committed before a kill are there after "
          "it (%r)" % lost[:5])
    check(not bad_integrity, "integrity ok after all %d kills (%r)" % (ROUNDS, bad_integrity[:2]))
    check(started and decided, "recovers by itself: a start after the last kill decides again")
    check(rc == 0, "the last run stopped cleanly (status %r)" % rc)
    wrong = gslib.wrong_checks(db)
    check(wrong == [], "every check is its person's first valid reading, across all the kills "
          "(wrong: %r)" % wrong[:5])
    gslib.finish()


if __name__ == "__main__":
    main()
