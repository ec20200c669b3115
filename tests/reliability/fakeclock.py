"""The clock-jump tests' tools: a wall clock the test moves, for the daemon (and the
CLI) only, and the gate's promise checked from the test indicator's lights.

libfaketime is preloaded into the daemon and reads its offset from a file at every
call (FAKETIME_NO_CACHE), so writing the file steps the daemon's wall clock at once,
forwards or back. The monotonic clock stays real (FAKETIME_DONT_FAKE_MONOTONIC):
timers, holds and the light lines' mono_us go on as they would on a controller whose
wall clock NTP or an administrator steps. The test itself runs on the real clock."""
import contextlib
import datetime
import os
import subprocess
import time
import zoneinfo

import gslib

LIB = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"

# What the screening rules decide (a light line with another outcome is a reason
# shown instead of a decision, such as ledger-error).
OUTCOMES = frozenset(("admit", "fever", "invalid", "unknown_card", "no_identity", "see_nurse",
                      "no_measurement"))


class FakeClock:
    """The daemon's wall clock, as local times in `zone` (an IANA name)."""

    def __init__(self, folder, zone):
        self.path = os.path.join(folder, "faketime.txt")
        self.zone = zoneinfo.ZoneInfo(zone)
        self.offset = 0
        self._write()

    def _write(self):
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            f.write("%+ds\n" % self.offset)
        os.replace(tmp, self.path)  # never a half-written offset

    def set(self, day, hms):
        """Steps the clock to local `hms` ("HH:MM:SS") on `day` (a datetime.date)."""
        h, m, s = map(int, hms.split(":"))
        target = datetime.datetime(day.year, day.month, day.day, h, m, s, tzinfo=self.zone)
        self.offset = round(target.timestamp() - time.time())
        self._write()

    def now(self):
        """The daemon's local time now."""
        return datetime.datetime.fromtimestamp(time.time() + self.offset, self.zone)

    def wait_past(self, day, hms, timeout=60.0):
        """Until the daemon's clock has passed local `hms` on `day` (as time runs)."""
        h, m, s = map(int, hms.split(":"))
        target = datetime.datetime(day.year, day.month, day.day, h, m, s, tzinfo=self.zone)
        return gslib.wait_until(lambda: self.now() > target, timeout, 0.05)

    def env(self):
        e = dict(os.environ)
        # FORCE_MONOTONIC_FIX=0: with the fix on, a pthread_cond_timedwait on the
        # monotonic clock (the stop guard's) returns at once when the offset is large.
        e.update(LD_PRELOAD=LIB, FAKETIME_TIMESTAMP_FILE=self.path, FAKETIME_NO_CACHE="1",
                 FAKETIME_DONT_FAKE_MONOTONIC="1", FAKETIME_FORCE_MONOTONIC_FIX="0")
        # The sanitizer build: AddressSanitizer's runtime is not first in the list
        # once libfaketime is preloaded, which it refuses unless told it is fine.
        e["ASAN_OPTIONS"] = ":".join(o for o in (e.get("ASAN_OPTIONS"),
                                                  "verify_asan_link_order=0") if o)
        return e

    @contextlib.contextmanager
    def preloaded(self):
        """Programs started inside (gslib.Daemon) run on this clock."""
        saved = dict(os.environ)
        os.environ.update(self.env())
        try:
            yield
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def cli(self, conf, *args):
        """The admin CLI on this clock (the nurse's commands check days against it)."""
        return subprocess.run([gslib.CLI, "-c", conf, *args], capture_output=True, text=True,
                              env=self.env(), timeout=60)


class School:
    """A scratch school on the fake clock: `config` (a function of the bus port,
    with [daemon] indicator_log = lights.log and devices ir-a, ir-b on lanes a, b),
    PEOPLE students S01.. with cards 1001.., the simulator serving the devices."""

    PEOPLE = 40

    def __init__(self, config, zone):
        self.dir, self.conf = gslib.scratch(config(gslib.free_port()))
        self.db = os.path.join(self.dir, "ledger.db")
        self.lights = os.path.join(self.dir, "lights.log")
        self.clock = FakeClock(self.dir, zone)
        roster = os.path.join(self.dir, "roster.csv")
        with open(roster, "w", encoding="utf-8") as f:
            f.write("external_id,kind,name,grade,class,card,active\n")
            for i in range(1, self.PEOPLE + 1):
                f.write("%s,student,学生%d,一年级,一年级%d班,%d,1\n" % (ext(i), i, 1 + i % 2, 1000 + i))
        gslib.check(gslib.cli(self.conf, "roster", "import", roster).returncode == 0,
                    "roster imported")
        self.sim = gslib.Sim(self.conf)
        gslib.check(self.sim.wait_ready(), "simulator ready")
        self.dm = None
        self.lane = 0

    def start(self):
        """Starts the daemon on the fake clock; a daemon that does not come up ends
        the test at once (with its log's end)."""
        with self.clock.preloaded():
            self.dm = gslib.Daemon(self.conf)
        up = self.dm.wait_for("device ir-a: state ok") and self.dm.wait_for("device ir-b: state ok")
        gslib.check(up, "daemon up on the fake clock (%s)"
                    % self.clock.now().strftime("%a %H:%M:%S"))
        if not up:
            print(self.dm.text()[-2000:])
            self.close()
            gslib.finish()

    def close(self):
        if self.dm and self.dm.proc.poll() is None:
            self.dm.stop()
        self.sim.kill()

    def arrive(self, i, temp="36.50"):
        """Person i at the next lane; True once the lane showed its decision."""
        n = len(decisions(self.lights))
        self.lane = 1 - self.lane
        reply = self.sim.cmd("arrive ir-%s temp=%s card=%d" % ("ab"[self.lane], temp, 1000 + i))
        return reply == "ok" and gslib.wait_until(lambda: len(decisions(self.lights)) > n, 5)

    def arrive_all(self, people, what, temp="36.50"):
        ok = [self.arrive(i, temp) for i in people]
        gslib.check(all(ok), "%s: %d of %d decided" % (what, sum(ok), len(ok)))

    def q(self, sql, args=()):
        return gslib.db_query(self.db, sql, args)

    def absences(self, day):
        """{external id: cause} of the day's absences."""
        return dict(self.q("SELECT p.external_id, a.cause FROM absences a JOIN people p"
                           " ON p.id = a.person_id WHERE a.day = ?", (day.isoformat(),)))

    def checked_and_late(self, day):
        """People with both a morning check and a late absence that day."""
        return self.q("SELECT count(*) FROM absences a JOIN checks c ON c.person_id = a.person_id"
                      " AND c.day = a.day AND c.window = 'morning' WHERE a.day = ?"
                      " AND a.cause = 'late'", (day.isoformat(),))[0][0]

    def stored(self, day, name):
        """A stored day figure, None when not stored."""
        rows = self.q("SELECT value FROM day_figures WHERE day = ? AND name = ?",
                      (day.isoformat(), name))
        return rows[0][0] if rows else None

    def mark(self):
        return len(self.dm.text())

    def log_since(self, mark):
        return self.dm.text()[mark:]

    def promise(self, when):
        """Never green without a committed row, nothing lost."""
        missing, shown = shown_without_row(self.db, self.lights)
        gslib.check(not missing, "%s: all %d decisions shown have their ledger row (missing %r)"
                    % (when, shown, missing[:5]))


def two_lane_config(code, zone, port, windows):
    """The clock tests' school: two lanes of the test indicator on one simulated bus,
    short holds; `windows` is the [windows] section's body."""
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
%s
days = mon-fri

[upstream]
day_end = 17:00

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
""" % (code, zone, windows.strip(), port)


def ext(i):
    return "S%02d" % i


def decisions(lights_path):
    """The decisions the lanes showed (lights caused by a reading or a card)."""
    return [ln for ln in gslib.read_lights(lights_path)
            if ln["latency_us"] != "-1" and ln["outcome"] in OUTCOMES]


def shown_without_row(db, lights_path):
    """Decisions shown that have no readings row (same lane, outcome, body, person):
    the gate's promise is that this list is empty. Returns (missing, shown)."""
    rows = gslib.db_query(
        db, "SELECT l.name, r.outcome, coalesce(printf('%.2f', r.body_centi / 100.0), '-'),"
            " coalesce(p.external_id, '-') FROM readings r JOIN lanes l ON l.id = r.lane_id"
            " LEFT JOIN people p ON p.id = r.person_id")
    pool = {}
    for r in rows:
        pool[r] = pool.get(r, 0) + 1
    shown = decisions(lights_path)
    missing = []
    for ln in shown:
        key = (ln["lane"], ln["outcome"], ln["body"], ln["person"])
        if pool.get(key, 0):
            pool[key] -= 1
        else:
            missing.append(key)
    return missing, len(shown)


def figure(name, value):
    print("figure: %s %s" % (name, value), flush=True)
