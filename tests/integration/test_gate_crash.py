"""SIGKILL in the middle of a busy morning (issue 4): every decision that changed
a light has its ledger row, the database passes its integrity check, and a
restarted daemon goes on where the first one stopped (the morning checks already
taken stay, nothing is counted twice)."""
import os
import signal
import subprocess
import sys
import time

import gslib
from gslib import check

LANES = 4


def config(port, zone, now):
    import datetime
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = CRASH
name = 测试学校
timezone = %s

[ledger]
database = ledger.db

[daemon]
indicator_log = lights.log

[windows]
morning = %s-%s
days = mon-sun

[screening]
hold_admit = 100ms
hold_fever = 100ms
hold_invalid = 100ms
hold_deny = 100ms
hold_nurse = 100ms
hold_no_measurement = 100ms
buzzer = 50ms

[bus gw]
tcp = 127.0.0.1:%d

%s""" % (zone, gslib.hhmm(start), gslib.hhmm(end), port, gslib.busy_lanes_config(LANES))


def decisions(lights):
    return [ln for ln in lights if ln["latency_us"] != "-1" and ln["outcome"] != "ledger-error"]


def unmatched(db, lights):
    """Decisions shown without a readings row (same lane, outcome, body, person)."""
    rows = gslib.db_query(
        db, "SELECT l.name, r.outcome, coalesce(printf('%.2f', r.body_centi / 100.0), '-'),"
            " coalesce(p.external_id, '-') FROM readings r JOIN lanes l ON l.id = r.lane_id"
            " LEFT JOIN people p ON p.id = r.person_id")
    pool = {}
    for r in rows:
        pool[r] = pool.get(r, 0) + 1
    missing = []
    for ln in decisions(lights):
        key = (ln["lane"], ln["outcome"], ln["body"], ln["person"])
        if pool.get(key, 0):
            pool[key] -= 1
        else:
            missing.append(key)
    return missing, len(rows)


def main():
    zone, now = gslib.school_zone(9)
    d, conf = gslib.scratch(config(gslib.free_port(), zone, now))
    db = os.path.join(d, "ledger.db")
    lights = os.path.join(d, "lights.log")
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        subprocess.run([sys.executable, gslib.MAKE_ROSTER, "--students", "400", "--staff", "20",
                        "--classes", "12", "--seed", "7"], stdout=f, check=True)
    check(gslib.cli(conf, "roster", "import", roster).returncode == 0, "roster imported")
    sim = gslib.Sim(conf, "--random", "11", "--roster", roster, "--rate", "240",
                    "--duration", "120s")
    check(sim.wait_ready(), "simulator ready")

    dm = gslib.Daemon(conf)
    busy = gslib.wait_until(lambda: len(decisions(gslib.read_lights(lights))) >= 150, 30)
    check(busy, "a busy morning: 150 decisions before the kill")
    dm.proc.send_signal(signal.SIGKILL)
    dm.proc.wait(10)
    dm.log.close()
    shown = gslib.read_lights(lights)
    missing, nrows = unmatched(db, shown)
    check(not missing, "after SIGKILL, all %d decisions shown are in the ledger (missing %r)"
          % (len(decisions(shown)), missing[:5]))
    check(nrows >= len(decisions(shown)), "%d readings rows for %d decisions shown"
          % (nrows, len(decisions(shown))))
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 0 and "integrity check ok" in r.stdout, "integrity after SIGKILL: "
          + r.stdout + r.stderr)
    checks_before = gslib.db_query(db, "SELECT person_id, temp_centi FROM checks ORDER BY 1")

    dm = gslib.Daemon(conf)
    more = len(decisions(shown)) + 100
    check(gslib.wait_until(lambda: len(decisions(gslib.read_lights(lights))) >= more, 30),
          "the restarted daemon decides again")
    rc, _ = dm.stop()
    check(rc == 0, "second daemon stopped cleanly")
    sim.kill(signal.SIGTERM)
    missing, _ = unmatched(db, gslib.read_lights(lights))
    check(not missing, "every decision of both runs is in the ledger (missing %r)" % missing[:5])
    checks_after = dict(gslib.db_query(db, "SELECT person_id, temp_centi FROM checks"))
    kept = all(checks_after.get(p) == t for p, t in checks_before)
    check(kept, "the %d checks taken before the kill are unchanged" % len(checks_before))
    wrong = gslib.db_query(
        db, "SELECT c.person_id FROM checks c WHERE c.temp_centi <> (SELECT r.body_centi"
            " FROM readings r WHERE r.person_id = c.person_id AND r.day = c.day"
            " AND r.quality = 'valid' ORDER BY r.at_ms, r.id LIMIT 1)")
    check(wrong == [], "every check is its person's first valid reading, across the kill "
          "(wrong: %r)" % wrong[:5])
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 0, "integrity at the end")
    gslib.finish()


if __name__ == "__main__":
    main()
