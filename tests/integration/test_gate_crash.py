"""SIGKILL in the middle of a busy morning (issue 4): every decision that changed
a light has its ledger row, the database passes its integrity check, and a
restarted daemon goes on where the first one stopped (the morning checks already
taken stay, nothing is counted twice). tests/reliability/test_kill9_loop.py does
the same 20 (GS_LONG: 100) times."""
import signal

import gslib
from gslib import check


def main():
    g = gslib.BusyGate("CRASH", seed=7, sim_seed=11)
    conf, db = g.conf, g.db

    dm = gslib.Daemon(conf)
    check(g.wait_decisions(150, 30), "a busy morning: 150 decisions before the kill")
    dm.proc.send_signal(signal.SIGKILL)
    dm.proc.wait(10)
    dm.log.close()
    shown = g.read()
    missing, nrows = gslib.unmatched(db, shown)
    check(not missing, "after SIGKILL, all %d decisions shown are in the ledger (missing %r)"
          % (len(gslib.committed(shown)), missing[:5]))
    check(nrows >= len(gslib.committed(shown)), "%d readings rows for %d decisions shown"
          % (nrows, len(gslib.committed(shown))))
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 0 and "integrity check ok" in r.stdout, "integrity after SIGKILL: "
          + r.stdout + r.stderr)
    checks_before = gslib.db_query(db, "SELECT person_id, temp_centi FROM checks ORDER BY 1")

    dm = gslib.Daemon(conf)
    more = len(gslib.committed(shown)) + 100
    check(g.wait_decisions(more, 30), "the restarted daemon decides again")
    rc, _ = dm.stop()
    check(rc == 0, "second daemon stopped cleanly")
    g.close()
    missing, _ = gslib.unmatched(db, g.read())
    check(not missing, "every decision of both runs is in the ledger (missing %r)" % missing[:5])
    checks_after = dict(gslib.db_query(db, "SELECT person_id, temp_centi FROM checks"))
    kept = all(checks_after.get(p) == t for p, t in checks_before)
    check(kept, "the %d checks taken before the kill are unchanged" % len(checks_before))
    wrong = gslib.wrong_checks(db)
    check(wrong == [], "every check is its person's first valid reading, across the kill "
          "(wrong: %r)" % wrong[:5])
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 0, "integrity at the end")
    gslib.finish()


if __name__ == "__main__":
    main()
