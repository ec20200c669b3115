"""Shared helpers for the integration tests: find the programs, make a scratch
folder with a config, run the real daemon and the real CLI."""
import atexit
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = os.environ.get("GS_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE = os.environ.get("GS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
DAEMON = os.path.join(BUILD, "gatescreend")
CLI = os.path.join(BUILD, "gatescreen")
MAKE_ROSTER = os.path.join(SOURCE, "tests/tools/make_roster.py")

BASE_CONFIG = """\
[school]
code = T001
name = 测试学校
timezone = Asia/Shanghai

[ledger]
database = ledger.db

[windows]
morning = 07:00-08:30
noon = 11:30-13:00

[bus sim]
tcp = 127.0.0.1:15999

[lane east-1]
gate = 东门
identity = device
indicator = console

[device ir-1]
bus = sim
unit = 1
lane = east-1
"""

failures = 0
_children = []


def spawn(argv, **kw):
    """subprocess.Popen, and the process is killed when the test script exits, also
    when it raised before stopping it (a daemon left running would hold its port and
    files, and keep a ctest run from ending)."""
    p = subprocess.Popen(argv, **kw)
    _children.append(p)
    return p


@atexit.register
def _kill_children():
    for p in _children:
        if p.poll() is None:
            p.kill()
            p.wait()


def check(cond, what):
    """Records one assertion; the test exits non-zero if any failed."""
    global failures
    if cond:
        print("ok   - " + what)
    else:
        failures += 1
        print("FAIL - " + what)
    sys.stdout.flush()


def finish():
    print("%d failed" % failures)
    sys.exit(1 if failures else 0)


def latest_schema():
    """The ledger schema version this tree builds: the highest sql/NNN_*.sql (not a
    number written into each test, which every new migration would have to edit)."""
    return max(int(f[:3]) for f in os.listdir(os.path.join(SOURCE, "sql"))
               if f[:3].isdigit() and f.endswith(".sql"))


def scratch(config_text=BASE_CONFIG):
    d = tempfile.mkdtemp(prefix="gs-it-")
    path = os.path.join(d, "gatescreen.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(config_text)
    return d, path


def cli(conf, *args, input_text=None):
    return subprocess.run([CLI, "-c", conf, *args], capture_output=True, text=True,
                          input=input_text, timeout=120)


class Daemon:
    """gatescreend -f on a config; stderr collected into a file to read from (the
    config's path + .log unless log_path is given); env: the daemon's environment."""

    def __init__(self, conf, *extra, env=None, log_path=None):
        self.log_path = log_path or conf + ".log"
        self.log = open(self.log_path, "w")
        self.proc = spawn([DAEMON, "-f", "-c", conf, *extra], env=env,
                          stdout=self.log, stderr=subprocess.STDOUT)

    def text(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for(self, needle, timeout=15.0, count=1):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.text().count(needle) >= count:
                return True
            if self.proc.poll() is not None:
                return self.text().count(needle) >= count
            time.sleep(0.02)
        return False

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=10.0):
        """Sends sig, returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc, time.monotonic() - t0


def db_query(db, sql, args=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def db_dump(db):
    """Every row of the tables an import may touch, to compare before and after."""
    out = {}
    for t in ("people", "cards", "audit_log", "health_status_history"):
        out[t] = db_query(db, "SELECT * FROM %s ORDER BY 1" % t)
    return out

SIM = os.path.join(BUILD, "gatescreen-sim")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Sim:
    """gatescreen-sim on a config, driven through its stdin."""

    def __init__(self, conf, *extra):
        self.out_path = conf + ".sim.out"
        self.out = open(self.out_path, "w")
        self.err = open(conf + ".sim.err", "w")
        self.proc = spawn([SIM, "-c", conf, *extra], stdin=subprocess.PIPE,
                          stdout=self.out, stderr=self.err, text=True)
        self.sent = 0

    def text(self):
        with open(self.out_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_ready(self, timeout=10.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if "ready" in self.text():
                return True
            if self.proc.poll() is not None:
                return False
            time.sleep(0.02)
        return False

    def cmd(self, line, timeout=5.0):
        """Sends one command; waits for its 'ok' (or error) reply."""
        before = self.text().count("\n")
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            lines = self.text().splitlines()
            if len(lines) > before:
                return lines[before]
            time.sleep(0.01)
        return None

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(10)
        self.out.close()
        self.err.close()


def wait_until(pred, timeout=10.0, step=0.01):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def school_zone(local_hour=9):
    """A time zone in which it is now about local_hour o'clock (Etc/GMT-N zones),
    so that windows around 'now' never cross local midnight whatever the time of
    the test run. Returns (zone, local time as a datetime)."""
    import datetime
    utc = datetime.datetime.now(datetime.timezone.utc)
    off = (local_hour - utc.hour) % 24
    if off > 14:
        off -= 24
    zone = "Etc/GMT" if off == 0 else ("Etc/GMT-%d" % off if off > 0 else "Etc/GMT+%d" % -off)
    return zone, utc + datetime.timedelta(hours=off)


def busy_lanes_config(n, poll="25ms"):
    """n lanes with the test indicator, two to a gate, and one device each on bus gw
    (units 1..n), as config text: the busy gate of the crash and reload tests."""
    lanes = "".join("[lane l%d]\ngate = G%d\nindicator = test\n" % (i, i // 2) for i in range(n))
    devices = "".join("[device ir-%d]\nbus = gw\nunit = %d\npoll = %s\nlane = l%d\n"
                      % (i, i + 1, poll, i) for i in range(n))
    return lanes + "\n" + devices


def hhmm(dt):
    return "%02d:%02d" % (dt.hour, dt.minute)


def read_lights(path):
    """The test indicator's lines ([daemon] indicator_log) as dicts."""
    out = []
    try:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(dict(kv.split("=", 1) for kv in line.split()))
    except FileNotFoundError:
        pass
    return out


def gate_config_head(code, zone, now):
    """The head of a config for tests that watch lanes decide: [school] `code` in
    `zone`, [ledger], [daemon] with the test indicator's log (lights.log), a morning
    window from 5 min before `now` to 30 min after, every day, and [screening] with
    short holds."""
    import datetime
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = %s
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
hold_admit = 300ms
hold_fever = 600ms
buzzer = 200ms
""" % (code, zone, hhmm(start), hhmm(end))


class Lights:
    """The test indicator's lines read in order, as a terminal's or a lane's test waits for
    them: next() is the first line not seen yet of a lane that matches, within a timeout."""

    def __init__(self, path):
        self.path = path
        self.seen = 0

    def next(self, lane, pred=lambda ln: ln["latency_us"] != "-1", timeout=5.0):
        """The next line of `lane` matching pred (default: a decision), or None."""
        found = []

        def scan():
            for i, ln in enumerate(read_lights(self.path)):
                if i >= self.seen and ln["lane"] == lane and pred(ln):
                    found.append((i, ln))
                    return True
            return False
        if not wait_until(scan, timeout):
            return None
        i, ln = found[0]
        self.seen = i + 1
        return ln

    def skip_all(self):
        """What is there now counts as seen."""
        self.seen = len(read_lights(self.path))


def local_ms(zone, day, hhmm):
    """UTC milliseconds of local HH:MM on day (a datetime.date) in zone (a ZoneInfo)."""
    import datetime
    h, m = map(int, hhmm.split(":"))
    return int(datetime.datetime(day.year, day.month, day.day, h, m, tzinfo=zone).timestamp()
               * 1000)


def gate_row(db, zone, day, who, hhmm, body, quality="valid", outcome="admit", window="morning",
             flag=False):
    """One lane decision as ledger_gate.c records it, written straight into the ledger
    (for tests of what reads the ledger): the reading, the check (a valid reading in a
    window), the flag and the 'screened' status (a fever); who None is an unknown card."""
    ms, iso = local_ms(zone, day, hhmm), day.isoformat()
    con = sqlite3.connect(db, timeout=10)
    with con:
        con.execute("INSERT OR IGNORE INTO lanes (id, name, gate) VALUES (1, 'east-1', '东门')")
        pid = None
        if who:
            pid = con.execute("SELECT id FROM people WHERE external_id = ?", (who,)).fetchone()[0]
        rid = con.execute(
            "INSERT INTO readings (at_ms, lane_id, person_id, card_no, raw_centi, body_centi, "
            "quality, threshold_centi, outcome, day) VALUES (?, 1, ?, 99999, ?, ?, ?, 3730, ?, ?)",
            (ms, pid, body, body, quality, outcome, iso)).lastrowid
        if pid and quality == "valid" and window:
            con.execute("INSERT OR IGNORE INTO checks (person_id, day, window, temp_centi, "
                        "threshold_centi, instrument, reading_id, by_user, at_ms) "
                        "VALUES (?, ?, ?, ?, 3730, 'gate', ?, 'gate', ?)",
                        (pid, iso, window, body, rid, ms))
        if flag:
            con.execute("INSERT INTO flags (person_id, reading_id, opened_ms, day, screen_centi, "
                        "threshold_centi) VALUES (?, ?, ?, ?, ?, 3730)", (pid, rid, ms, iso, body))
            if pid:
                con.execute("UPDATE people SET health_status = 'screened' WHERE id = ?", (pid,))
    con.close()


# ---- the busy gate (the crash test and tests/reliability) -------------------

LONG = os.environ.get("GS_LONG", "") not in ("", "0")

# The decisions the screening rules make (screening.c outcome_names): a light line
# whose outcome is one of these showed a decision that was committed. Anything else
# (ledger-error, ...) is a reason shown instead of a decision.
OUTCOMES = frozenset(("admit", "fever", "invalid", "unknown_card", "no_identity", "see_nurse",
                      "no_measurement"))


def figure(name, value):
    """One measured figure, in the form the reliability suite reports."""
    print("figure: %s %s" % (name, value))
    sys.stdout.flush()


def decision_lines(lights):
    """Every light a reading (or card) caused, recorded or not (latency_us set)."""
    return [ln for ln in lights if ln["latency_us"] != "-1"]


def committed(lights):
    """The decisions shown as decisions: each must have its readings row."""
    return [ln for ln in decision_lines(lights) if ln["outcome"] in OUTCOMES]


def posted_us(line):
    """Monotonic µs at which the reading that caused this light was received."""
    return int(line["mono_us"]) - int(line["latency_us"])


def unmatched(db, lights):
    """Committed decisions shown without a readings row (same lane, outcome, body,
    person); returns (missing keys, number of readings rows)."""
    rows = db_query(
        db, "SELECT l.name, r.outcome, coalesce(printf('%.2f', r.body_centi / 100.0), '-'),"
            " coalesce(p.external_id, '-') FROM readings r JOIN lanes l ON l.id = r.lane_id"
            " LEFT JOIN people p ON p.id = r.person_id")
    pool = {}
    for r in rows:
        pool[r] = pool.get(r, 0) + 1
    missing = []
    for ln in committed(lights):
        key = (ln["lane"], ln["outcome"], ln["body"], ln["person"])
        if pool.get(key, 0):
            pool[key] -= 1
        else:
            missing.append(key)
    return missing, len(rows)


def wrong_checks(db):
    """Checks that are not their person's first valid reading of the day."""
    return db_query(
        db, "SELECT c.person_id FROM checks c WHERE c.temp_centi <> (SELECT r.body_centi"
            " FROM readings r WHERE r.person_id = c.person_id AND r.day = c.day"
            " AND r.quality = 'valid' ORDER BY r.at_ms, r.id LIMIT 1)")


def busy_config(port, zone, now, code, database="ledger.db", lanes=4):
    """A morning window around now, 100 ms holds, n busy lanes on bus gw."""
    import datetime
    start = now - datetime.timedelta(minutes=5)
    end = now + datetime.timedelta(minutes=30)
    return """\
[school]
code = %s
name = 测试学校
timezone = %s

[ledger]
database = %s

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

%s""" % (code, zone, database, hhmm(start), hhmm(end), port, busy_lanes_config(lanes))


class BusyGate:
    """A scratch folder with a busy morning: the config (lanes l0.. with devices
    ir-0.., the test indicator writing lights.log), 400 students and 20 staff
    imported, and the simulator's random morning at `rate` arrivals a minute per
    lane (240: about 16 readings a second over 4 lanes). The last `reserved`
    students are in the ledger but not in the simulator's roster: nobody else
    brings their card, so arrive() with a normal temperature gives them green."""

    def __init__(self, code, seed=7, sim_seed=None, duration=120, rate=240, lanes=4,
                 database="ledger.db", reserved=0):
        import csv
        import io
        zone, now = school_zone(9)
        self.lanes = lanes
        self.d, self.conf = scratch(busy_config(free_port(), zone, now, code, database, lanes))
        self.db = os.path.join(self.d, database)  # an absolute database stays itself
        self.lights = os.path.join(self.d, "lights.log")
        text = subprocess.run([sys.executable, MAKE_ROSTER, "--students", "400", "--staff", "20",
                               "--classes", "12", "--seed", str(seed)], capture_output=True,
                              text=True, check=True).stdout
        rows = list(csv.DictReader(io.StringIO(text)))
        students = [r for r in rows if r["kind"] == "student" and r["card"] and
                    r["active"] == "yes"]
        self.reserved = [(r["external_id"], r["card"]) for r in students[-reserved:]] \
            if reserved else []
        keep = set(p for p, _ in self.reserved)
        roster = os.path.join(self.d, "roster.csv")
        with open(roster, "w", encoding="utf-8") as f:
            f.write(text)
        sim_roster = os.path.join(self.d, "sim-roster.csv")
        with open(sim_roster, "w", encoding="utf-8", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0].keys()), lineterminator="\n")
            w.writeheader()
            w.writerows(r for r in rows if r["external_id"] not in keep)
        r = cli(self.conf, "roster", "import", roster)
        check(r.returncode == 0, "roster imported " + r.stderr.strip())
        self.sim = Sim(self.conf, "--random", str(seed if sim_seed is None else sim_seed),
                       "--roster", sim_roster, "--rate",
                       str(rate), "--duration", "%ds" % duration)
        check(self.sim.wait_ready(), "simulator ready")

    def read(self):
        return read_lights(self.lights)

    def arrive(self, lane, card, temp="36.50"):
        """One person at lane's device; returns the simulator's reply."""
        return self.sim.cmd("arrive ir-%d temp=%s card=%s" % (lane, temp, card))

    def wait_decisions(self, n, timeout=30.0):
        """Until at least n committed decisions were shown in all."""
        return wait_until(lambda: len(committed(self.read())) >= n, timeout, 0.05)

    def reading_keys(self, db=None):
        """Every readings row as (id, at_ms, lane, card, body): a lost row is missing
        even when a later row took its id."""
        return set(db_query(db or self.db, "SELECT id, at_ms, lane_id, card_no, body_centi"
                                           " FROM readings"))

    def close(self):
        if self.sim.proc.poll() is None:
            self.sim.kill(signal.SIGTERM)


def mono_us():
    """The clock of the light lines' mono_us (CLOCK_MONOTONIC, as time.monotonic)."""
    return int(time.monotonic() * 1e6)


def log_lines_since(text, start, levels=("error", "warning")):
    """The log lines after character offset start whose level is one of levels."""
    return [ln for ln in text[start:].splitlines()
            if any(" %s: " % lv in ln for lv in levels)]


def last_idle(lights):
    """Per lane, the last light line not caused by a reading: what the lane shows
    between decisions (idle, offline, or why it cannot decide)."""
    last = {}
    for ln in lights:
        if ln["latency_us"] == "-1":
            last[ln["lane"]] = ln
    return last


LOST_DETECT_MAX_MS = 1500  # "at the latest ~1 s": the next decision or a 1 s check


def check_ledger_lost(g, dm, t_rm, observe_s):
    """After a ledger file was removed at t_rm (time.monotonic) under a running,
    busy daemon: it logs a line containing "deleted or replaced" within ~1 s,
    every lane shows amber with the reason "ledger-lost", and nothing but amber
    (never green) is shown after that, for observe_s seconds of traffic. Returns
    the instant from which no green may be shown."""
    log_at = len(dm.text())  # called right after the rm
    seen = dm.wait_for("deleted or replaced", 5.0)
    t_seen = time.monotonic()
    detect_ms = (t_seen - t_rm) * 1000.0 if seen else float("inf")
    figure("detect_ms", "%.0f" % detect_ms)
    line = [ln for ln in dm.text().splitlines() if "deleted or replaced" in ln]
    check(seen and detect_ms <= LOST_DETECT_MAX_MS, "the daemon logs 'deleted or replaced' "
          "within %d ms of the rm (%s)" % (LOST_DETECT_MAX_MS, line[0] if line else "not logged"))
    end = time.monotonic() + observe_s
    while time.monotonic() < end and dm.proc.poll() is None:
        time.sleep(0.05)
    check(dm.proc.poll() is None, "the daemon keeps running (the lanes show why they wait)")
    figure("log_problems_after_rm", len(log_lines_since(dm.text(), log_at)))
    cut = min(t_seen, t_rm + LOST_DETECT_MAX_MS / 1000.0)
    lights = read_lights(g.lights)
    after_rm = [ln for ln in lights if int(ln["mono_us"]) >= int(t_rm * 1e6)]
    after = [ln for ln in lights if int(ln["mono_us"]) >= int(cut * 1e6)]
    figure("greens_after_rm", sum(1 for ln in after_rm if ln["lamp"] == "green"))
    figure("committed_after_rm", len(committed(after_rm)))
    greens = [ln for ln in after if ln["lamp"] == "green"]
    figure("greens_after_detection", len(greens))
    check(not greens, "no green after the detection (%d greens)" % len(greens))
    not_amber = [ln for ln in after if ln["lamp"] != "amber"]
    check(not not_amber, "only amber after the detection (%d lights not amber: %r)"
          % (len(not_amber), [(ln["lane"], ln["lamp"], ln["outcome"]) for ln in not_amber[:3]]))
    last = last_idle(lights)
    shown = sorted((k, v["lamp"], v["outcome"]) for k, v in last.items())
    figure("lanes_after_rm", ";".join("%s=%s/%s" % s for s in shown))
    check(len(last) == g.lanes and all(v["lamp"] == "amber" and v["outcome"] == "ledger-lost"
                                       for v in last.values()),
          "every lane shows amber 'ledger-lost' (%r)" % shown)
    return cut
