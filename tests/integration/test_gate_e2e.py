"""A scripted school morning end to end (issue 4): gatescreen-sim serves two
screening units over real Modbus TCP, the real gatescreend decides at two lanes
with the test indicator, and the test checks every light change against the
ledger: admit, fever (buzzer, then hold), invalid then measure again, unknown and
inactive cards, no card, see the nurse (open flag, no certificate), a sweep absence
withdrawn by a check in the window, first reading wins the check, a restart in the
middle of the window, the 37.29 / 37.30 threshold edge, a device going offline
(amber blinking) and back, and the safe state on stop."""
import datetime
import os
import signal

import gslib
from gslib import check

ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,1001,1
S2,student,李四,一年级,一年级1班,1002,1
S3,student,王五,一年级,一年级1班,1003,1
S4,student,赵六,一年级,一年级2班,1004,1
S5,student,钱七,一年级,一年级2班,1005,1
S6,student,孙八,一年级,一年级2班,1006,0
S7,student,周九,二年级,二年级1班,1007,1
T1,teacher,吴老师,,一年级1班,2001,1
S8,student,郑十,二年级,二年级1班,1008,1
"""


def config(port, zone, now):
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = E2E
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
threshold = 37.3
pair_window = 2s
hold_admit = 300ms
hold_fever = 1500ms
buzzer = 500ms
hold_invalid = 400ms
hold_deny = 400ms
hold_nurse = 400ms
hold_no_measurement = 400ms

[bus gw]
tcp = 127.0.0.1:%d
response_timeout = 200ms
retry_max = 1s

[lane a]
gate = 东门
indicator = test
[lane b]
gate = 北门
indicator = test

[device ir-a]
bus = gw
unit = 1
poll = 50ms
lane = a

[device ir-b]
bus = gw
unit = 2
poll = 50ms
lane = b
""" % (zone, gslib.hhmm(start), gslib.hhmm(end), port)


def is_decision(ln):
    """A change caused by a new decision (later changes of the same decision, such
    as the buzzer stopping, have no latency)."""
    return ln["latency_us"] != "-1" and ln["outcome"] not in ("ledger-error",)


class Morning:
    def __init__(self):
        self.zone, self.now = gslib.school_zone(9)
        self.dir, self.conf = gslib.scratch(config(gslib.free_port(), self.zone, self.now))
        self.db = os.path.join(self.dir, "ledger.db")
        self.lights_path = os.path.join(self.dir, "lights.log")
        self.today = self.now.strftime("%Y-%m-%d")
        self.seen = 0

    def lights(self):
        return gslib.read_lights(self.lights_path)

    def next_decision(self, lane, timeout=5.0):
        """The next light change on `lane` that shows a decision (after the ones
        already taken)."""
        found = []

        def scan():
            for i, ln in enumerate(self.lights()):
                if i >= self.seen and ln["lane"] == lane and is_decision(ln):
                    found.append((i, ln))
                    return True
            return False
        if not gslib.wait_until(scan, timeout):
            return None
        i, ln = found[0]
        self.seen = i + 1
        return ln

    def q(self, sql, args=()):
        return gslib.db_query(self.db, sql, args)


def arrive(sim, m, dev, lane, args):
    reply = sim.cmd("arrive %s %s" % (dev, args) if not args.startswith("invalid")
                    else "invalid %s %s" % (dev, args.split(" ", 1)[1]))
    check(reply == "ok", "sim took %s %s (%r)" % (dev, args, reply))
    return m.next_decision(lane)


def expect(ln, what, **fields):
    ok = ln is not None and all(ln.get(k) == v for k, v in fields.items())
    check(ok, "%s: %s (got %r)" % (what, fields, ln))


def prepare_ledger(m):
    roster = os.path.join(m.dir, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(m.conf, "roster", "import", roster)
    check(r.returncode == 0, "roster imported: " + r.stderr)
    yesterday = (m.now - datetime.timedelta(days=1)).strftime("%Y-%m-%d")
    import sqlite3
    con = sqlite3.connect(m.db)
    pid = {e: i for e, i in con.execute("SELECT external_id, id FROM people")}
    con.execute("INSERT INTO absences (person_id, day, cause, recorded_ms) VALUES (?, ?, 'illness', 1)",
                (pid["S4"], yesterday))
    con.execute("INSERT INTO flags (person_id, opened_ms, day, screen_centi, threshold_centi)"
                " VALUES (?, 1, ?, 3800, 3730)", (pid["S5"], yesterday))
    con.execute("INSERT INTO absences (person_id, day, cause, recorded_ms) VALUES (?, ?, 'unknown', 1)",
                (pid["S7"], m.today))
    con.execute("INSERT INTO absences (person_id, day, cause, recorded_ms) VALUES (?, ?, 'unknown', 1)",
                (pid["S8"], yesterday))
    con.commit()
    con.close()
    return pid


def start_daemon(m):
    dm = gslib.Daemon(m.conf)
    check(dm.wait_for("device ir-a: state ok") and dm.wait_for("device ir-b: state ok"),
          "daemon up, both devices ok")
    return dm


def check_of(m, ext):
    return m.q("SELECT c.temp_centi, c.instrument, c.window FROM checks c JOIN people p"
               " ON p.id = c.person_id WHERE p.external_id = ? AND c.day = ?", (ext, m.today))


def first_arrivals(sim, m, pid):
    ln = arrive(sim, m, "ir-a", "a", "temp=36.50 card=1001")
    expect(ln, "known card, normal", lamp="green", outcome="admit", person="S1", body="36.50",
           relay="0", buzzer="0")
    check(check_of(m, "S1") == [(3650, "gate", "morning")], "S1's morning check is the gate reading")
    ln = arrive(sim, m, "ir-b", "b", "temp=38.20 card=1002")
    expect(ln, "fever", lamp="red", buzzer="1", outcome="fever", person="S2")
    flags = m.q("SELECT state, screen_centi, threshold_centi FROM flags WHERE person_id = ?", (pid["S2"],))
    check(flags == [("open", 3820, 3730)], "fever opened a recheck flag: %r" % flags)
    check(m.q("SELECT health_status FROM people WHERE id = ?", (pid["S2"],)) == [("screened",)],
          "S2 is now 'screened'")
    check(check_of(m, "S2") == [(3820, "gate", "morning")], "a fever screen is still the check")


def fever_pattern(m):
    """After the fever: buzzer off at 500 ms, red until 1500 ms, then idle."""
    def changes():
        return [ln for ln in m.lights() if ln["lane"] == "b"]
    gslib.wait_until(lambda: any(ln["outcome"] == "idle" for ln in changes()[1:]), 5)
    b = changes()
    fever = [i for i, ln in enumerate(b) if ln["outcome"] == "fever"][0]
    t0 = int(b[fever]["mono_us"])
    quiet = b[fever + 1] if fever + 1 < len(b) else None
    idle = b[fever + 2] if fever + 2 < len(b) else None
    check(quiet and quiet["lamp"] == "red" and quiet["buzzer"] == "0"
          and 450e3 <= int(quiet["mono_us"]) - t0 < 1200e3, "buzzer stops after 500 ms: %r" % quiet)
    check(idle and idle["lamp"] == "off" and 1450e3 <= int(idle["mono_us"]) - t0 < 2500e3,
          "red held 1500 ms, then off: %r" % idle)


def refusals(sim, m, pid):
    ln = arrive(sim, m, "ir-a", "a", "invalid temp=31.00 card=1003")
    expect(ln, "invalid reading", lamp="amber", outcome="invalid", person="S3")
    check(check_of(m, "S3") == [], "an invalid reading is not a check")
    ln = arrive(sim, m, "ir-a", "a", "temp=36.60 card=1003")
    expect(ln, "measured again", lamp="green", outcome="admit", person="S3")
    ln = arrive(sim, m, "ir-a", "a", "temp=36.50 card=999999")
    expect(ln, "unknown card", lamp="red", outcome="unknown_card", person="-", buzzer="0")
    rows = m.q("SELECT person_id, card_no, outcome FROM readings WHERE card_no = 999999")
    check(rows == [(None, 999999, "unknown_card")], "unknown card stored as presented: %r" % rows)
    ln = arrive(sim, m, "ir-b", "b", "temp=36.50 card=1006")
    expect(ln, "inactive holder", lamp="red", outcome="unknown_card", person="S6")
    ln = arrive(sim, m, "ir-b", "b", "temp=36.50")
    expect(ln, "no card", lamp="red", outcome="no_identity")
    check(m.q("SELECT count(*) FROM checks WHERE person_id = ?", (pid["S6"],)) == [(0,)],
          "no check for an inactive person")


def nurse_business(sim, m, pid):
    ln = arrive(sim, m, "ir-a", "a", "temp=36.40 card=1004")
    expect(ln, "back after illness, no certificate", lamp="amber", outcome="see_nurse", person="S4")
    ln = arrive(sim, m, "ir-b", "b", "temp=36.40 card=1005")
    expect(ln, "open flag", lamp="amber", outcome="see_nurse", person="S5")
    ln = arrive(sim, m, "ir-b", "b", "temp=36.50 card=1008")
    expect(ln, "absent yesterday, cause not traced", lamp="amber", outcome="see_nurse", person="S8")
    r = gslib.cli(m.conf, "absence", "S8", "--date", (m.now - datetime.timedelta(days=1))
                  .strftime("%Y-%m-%d"), "--cause", "personal", "--by", "nurse")
    check(r.returncode == 0, "the nurse records the cause: " + r.stdout + r.stderr)
    ln = arrive(sim, m, "ir-b", "b", "temp=36.50 card=1008")
    expect(ln, "cause recorded", lamp="green", outcome="admit", person="S8")
    gslib.db_query(m.db, "SELECT 1")  # the certificate goes in through SQL: the CLI has its own test
    import sqlite3
    con = sqlite3.connect(m.db, timeout=10)
    con.execute("INSERT INTO certificates (person_id, issuer, issued_day, checked_by, recorded_ms)"
                " VALUES (?, '社区医院', ?, 'nurse', 1)", (pid["S4"], m.today))
    con.commit()
    con.close()
    ln = arrive(sim, m, "ir-a", "a", "temp=36.40 card=1004")
    expect(ln, "certificate recorded", lamp="green", outcome="admit", person="S4")
    returned = m.q("SELECT returned_day FROM absences WHERE person_id = ?", (pid["S4"],))
    check(returned == [(m.today,)], "the illness absence ended today: %r" % returned)
    # S7's 'unknown' absence today is what a sweep on a clock that ran ahead leaves:
    # a check in the window withdraws it (a real late arrival, after the window, is
    # 'late': tests/reliability/test_clock_jumps.py).
    ln = arrive(sim, m, "ir-b", "b", "temp=36.40 card=1007")
    expect(ln, "absent by the sweep, admitted", lamp="green", outcome="admit", person="S7")
    late = m.q("SELECT cause FROM absences WHERE person_id = ?", (pid["S7"],))
    check(late == [], "today's absence withdrawn by the check in the window: %r" % late)


def restart_mid_window(m, dm, sim):
    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly")
    stopped = [ln for ln in m.lights() if ln["outcome"] == "stopped"]
    check(len(stopped) >= 2 and all(ln["lamp"] == "amber" and ln["blink"] == "0"
                                    and ln["relay"] == "0" for ln in stopped[-2:]),
          "stop leaves every lane amber steady, relay released")
    m.seen = len(m.lights())
    dm = start_daemon(m)
    ln = arrive(sim, m, "ir-a", "a", "temp=36.90 card=1001")
    expect(ln, "after the restart", lamp="green", outcome="admit", person="S1")
    check(check_of(m, "S1") == [(3650, "gate", "morning")], "the first reading stays the check")
    ln = arrive(sim, m, "ir-b", "b", "temp=37.29 card=2001")
    expect(ln, "37.29 at threshold 37.30", lamp="green", outcome="admit", person="T1")
    ln = arrive(sim, m, "ir-a", "a", "temp=37.30 card=1003")
    expect(ln, "37.30 at threshold 37.30", lamp="red", outcome="fever", person="S3")
    check(check_of(m, "T1") == [(3729, "gate", "morning")], "a check made after the restart")
    return dm


def offline_and_back(sim, m):
    check(sim.cmd("silent ir-b 4s") == "ok", "unit b goes silent")
    blink = lambda: any(ln["lane"] == "b" and ln["lamp"] == "amber" and ln["blink"] == "1"
                        and ln["outcome"] == "offline" for ln in m.lights())
    check(gslib.wait_until(blink, 10), "lane b blinks amber while its device is offline")
    check(not any(ln["lane"] == "a" and ln["blink"] == "1" for ln in m.lights()),
          "lane a does not blink")
    back = lambda: m.lights()[-1]["lane"] == "b" and m.lights()[-1]["outcome"] == "idle"
    check(gslib.wait_until(back, 15), "lane b back to idle when the device answers again")


def every_light_has_its_row(m):
    """Each decision shown has a readings row with the same lane, outcome and body."""
    rows = m.q("SELECT l.name, r.outcome, coalesce(printf('%.2f', r.body_centi / 100.0), '-')"
               " FROM readings r JOIN lanes l ON l.id = r.lane_id")
    pool = {}
    for r in rows:
        pool[r] = pool.get(r, 0) + 1
    missing = []
    for ln in m.lights():
        if not is_decision(ln):
            continue
        key = (ln["lane"], ln["outcome"], ln["body"])
        if pool.get(key, 0) == 0:
            missing.append(key)
        else:
            pool[key] -= 1
    check(not missing, "every decision shown is in the ledger (missing: %r)" % missing)
    check(not any(ln["lamp"] == "green" and ln["outcome"] != "admit" for ln in m.lights()),
          "green only for admit")


def main():
    m = Morning()
    pid = prepare_ledger(m)
    sim = gslib.Sim(m.conf)
    check(sim.wait_ready(), "simulator ready")
    dm = start_daemon(m)
    idle = [ln for ln in m.lights() if ln["outcome"] == "idle"]
    check(len(idle) == 2 and all(ln["lamp"] == "off" for ln in idle), "both lanes start idle")
    first_arrivals(sim, m, pid)
    fever_pattern(m)
    refusals(sim, m, pid)
    nurse_business(sim, m, pid)
    dm = restart_mid_window(m, dm, sim)
    offline_and_back(sim, m)
    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly at the end")
    sim.kill(signal.SIGTERM)
    every_light_has_its_row(m)
    r = gslib.cli(m.conf, "db", "check")
    check(r.returncode == 0, "db check passes: " + r.stdout + r.stderr)
    gslib.finish()


if __name__ == "__main__":
    main()
