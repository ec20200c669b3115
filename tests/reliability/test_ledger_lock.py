"""Another program holds a write transaction on the ledger (a real sqlite3 shell in
BEGIN EXCLUSIVE) during a busy morning, about 16 readings a second over 4 lanes
(finding 1: every light froze for the whole lock, then 128 ambers came at once,
21-30 s late, and no watchdog ping was sent for 33 s).

Part 1, the lock comes while the daemon runs (8 s; GS_LONG: 30 s):
- every reading gets its light within 1.1 s (latency_us of the test indicator),
  and every reading the daemon logged got one;
- no lane stays green longer than its hold + 1 s;
- every decision shown while the lock is held is amber, never green;
- the watchdog pings keep coming (WATCHDOG_USEC=2 s: no ping later than a
  quarter of the period after its due time);
- green again within 0.2 s of the release, for a reading received after it;
- never green without a committed row, nothing committed before is lost.

Part 2, the daemon starts while the lock is held (4 s; GS_LONG: 15 s): it does not
exit, every lane shows amber with the reason "ledger-locked", the log has a line
containing "locked", the sd_notify STATUS too. READY=1 comes at once, with a STATUS
that names the lock: the daemon is up and doing its job (amber, retrying), and a
daemon that only said READY after the lock's end would be killed by systemd's
start timeout during a long backup. After the release the STATUS says so and
decisions are green.

The failed decisions' light lines must carry latency_us (the daemon's test
indicator sets it for them) whatever reason they show."""
import os
import queue
import socket
import subprocess
import threading
import time

import gslib
from gslib import check, figure

HOLD_S = 30.0 if gslib.LONG else 8.0
START_HOLD_S = 15.0 if gslib.LONG else 4.0
WATCHDOG_USEC = 2000000
LATENCY_MAX_US = 1100000
GREEN_AFTER_RELEASE_MAX_MS = 200
HOLD_MS = 100  # the config's hold_admit
LANES = 4


class Notify:
    """A NOTIFY_SOCKET of our own: every sd_notify datagram with its arrival time."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.2)
        self.msgs = []
        self.lock = threading.Lock()
        self.done = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.done:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.msgs.append((time.monotonic(), data.decode("utf-8", "replace")))

    def env(self, watchdog_usec=None):
        e = dict(os.environ, NOTIFY_SOCKET=self.path)
        e.pop("WATCHDOG_PID", None)
        if watchdog_usec:
            e["WATCHDOG_USEC"] = str(watchdog_usec)
        return e

    def lines(self):
        """(time, line) for each assignment of each message."""
        with self.lock:
            return [(t, ln) for t, m in self.msgs for ln in m.split("\n") if ln]

    def times(self, line):
        return [t for t, ln in self.lines() if ln == line]

    def statuses(self):
        return [(t, ln[len("STATUS="):]) for t, ln in self.lines() if ln.startswith("STATUS=")]

    def clear(self):
        with self.lock:
            self.msgs = []

    def close(self):
        self.done = True
        self.thread.join(2)
        self.sock.close()


class LockHolder:
    """A sqlite3 shell on the ledger, fed on stdin; each step ends with a marker
    the shell prints, so we know when it is done."""

    def __init__(self, db):
        self.proc = subprocess.Popen(["sqlite3", "-batch", db], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, bufsize=1)
        self.out = queue.Queue()
        self.text = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.text.append(line)
            self.out.put(line.strip())

    def step(self, sql, marker, timeout=15.0):
        self.proc.stdin.write(sql + "\nSELECT '%s';\n" % marker)
        self.proc.stdin.flush()
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                if self.out.get(timeout=0.05) == marker:
                    return True
            except queue.Empty:
                pass
        return False

    def lock(self):
        """BEGIN EXCLUSIVE and a harmless write; returns when the shell holds it."""
        return self.step(".timeout 10000\nBEGIN EXCLUSIVE;\nINSERT INTO audit_log (at_ms, actor,"
                         " action, target, detail) VALUES (CAST(strftime('%s','now') AS INTEGER)"
                         " * 1000, 'reliability-test', 'hold-lock', 'ledger', 'test_ledger_lock');",
                         "locked")

    def release(self):
        ok = self.step("COMMIT;", "released")
        self.proc.stdin.write(".quit\n")
        self.proc.stdin.flush()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return ok

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def RESERVED_IDS(g, part):
    """The external ids of the reserved people brought in part `part` (0, 1, 2)."""
    return set(p for p, _ in g.reserved[part * LANES:(part + 1) * LANES])


def readings_logged(log_text):
    """Readings the daemon took from its queue as (lane, body) (the 'reading:' log
    lines: reading: device D lane L body B ...)."""
    out = []
    for line in log_text.splitlines():
        i = line.find("reading: device ")
        if i >= 0:
            w = line[i:].split()
            out.append((w[4], w[6]))
    return out


def unlit(logged, decisions):
    """The logged readings that no decision light answers: one with the same lane
    and body, else one of the lane's lights that shows no body (a decision that
    failed before it was made shows none)."""
    pool = {}
    for ln in decisions:
        k = (ln["lane"], ln["body"])
        pool[k] = pool.get(k, 0) + 1
    rest, missing = [], []
    for k in logged:
        if pool.get(k, 0):
            pool[k] -= 1
        else:
            rest.append(k)
    for k in rest:
        if pool.get((k[0], "-"), 0):
            pool[(k[0], "-")] -= 1
        else:
            missing.append(k)
    return missing


def green_spans(lights, upto_us):
    """Longest time any lane stayed green (from a green line to its lane's next line,
    or to upto_us), ms."""
    longest, since = 0.0, {}
    for ln in lights:
        lane, t = ln["lane"], int(ln["mono_us"])
        if lane in since:
            longest = max(longest, (t - since.pop(lane)) / 1000.0)
        if ln["lamp"] == "green":
            since[lane] = t
    for t in since.values():
        longest = max(longest, (upto_us - t) / 1000.0)
    return longest


def max_gap_ms(times, t0, t1):
    """Largest gap between watchdog pings in [t0, t1] (the edges count as pings
    only if a ping came before t0), ms."""
    before = [t for t in times if t < t0]
    inside = [t for t in times if t0 <= t <= t1]
    after = [t for t in times if t > t1]
    pts = ([before[-1]] if before else [t0]) + inside + ([after[0]] if after else [t1])
    return max((b - a) * 1000.0 for a, b in zip(pts, pts[1:]))


def running_lock(g, notify):
    """Part 1. Returns the daemon (stopped) and how many light lines it wrote."""
    dm = gslib.Daemon(g.conf, env=notify.env(WATCHDOG_USEC))
    check(gslib.wait_until(lambda: notify.times("READY=1"), 20), "daemon ready (READY=1)")
    check(g.wait_decisions(60, 30), "a busy morning: 60 decisions before the lock")
    time.sleep(3.0)  # watchdog and latencies before the lock
    before_ids = g.reading_keys()
    pings = notify.times("WATCHDOG=1")
    gaps = sorted(b - a for a, b in zip(pings, pings[1:]))
    nominal_ms = gaps[len(gaps) // 2] * 1000.0 if gaps else WATCHDOG_USEC / 2000.0
    figure("watchdog_interval_ms", "%.0f" % nominal_ms)

    # Green on every lane just before the lock: each must still go off after its
    # hold while the lock is held (the lights' timers run on the main loop).
    holder = LockHolder(g.db)
    t_greens = gslib.mono_us()
    for lane in range(LANES):
        g.arrive(lane, g.reserved[lane][1])
    check(gslib.wait_until(lambda: [ln for ln in g.read() if ln["lamp"] == "green" and
                                    int(ln["mono_us"]) > t_greens and
                                    ln["person"] in RESERVED_IDS(g, 0)], 5, 0.005),
          "a lane shows green just before the lock")
    got = holder.lock()
    t_lock = time.monotonic()
    check(got, "the sqlite3 shell holds BEGIN EXCLUSIVE on the ledger")
    # Hold, watching that the daemon lives on.
    end = t_lock + HOLD_S
    while time.monotonic() < end and dm.proc.poll() is None:
        time.sleep(0.05)
    t_unlock_sent = time.monotonic()
    released = holder.release()
    t_rel = time.monotonic()
    check(released, "the shell committed and let go after %.1f s" % (t_rel - t_lock))
    for lane in range(LANES):  # people only we bring: a normal reading is green
        g.arrive(lane, g.reserved[LANES + lane][1])
    time.sleep(1.5)
    # The readings taken until now must all be lit by the stop, 1.5 s later.
    log_upto = len(dm.text())
    time.sleep(1.5)
    alive = dm.proc.poll() is None
    check(alive, "the daemon still runs after the lock")
    rc, _ = dm.stop() if alive else (dm.proc.wait(), 0)
    log = dm.text()[:log_upto]

    lights = g.read()
    n_lines = len(lights)
    us = lambda t: int(t * 1e6)  # noqa: E731
    decisions = gslib.decision_lines(lights)
    pre = [ln for ln in decisions if int(ln["mono_us"]) < us(t_lock)]  # lit before it
    during = [ln for ln in decisions if us(t_lock) <= gslib.posted_us(ln) < us(t_unlock_sent)]
    shown_during = [ln for ln in lights if us(t_lock) <= int(ln["mono_us"]) < us(t_unlock_sent)]
    after = [ln for ln in decisions if gslib.posted_us(ln) >= us(t_rel)]

    lat = lambda lns: max((int(ln["latency_us"]) for ln in lns), default=0) / 1000.0  # noqa
    figure("latency_before_lock_max_ms", "%.1f" % lat(pre))
    figure("lock_held_s", "%.1f" % (t_rel - t_lock))
    figure("lock_readings", len(during))
    figure("lock_latency_max_ms", "%.1f" % lat(during))
    figure("latency_all_max_ms", "%.1f" % lat(decisions))
    late = [ln for ln in decisions if int(ln["latency_us"]) > LATENCY_MAX_US]
    figure("decisions_later_than_1.1s", len(late))
    figure("decisions_not_recorded", sum(1 for ln in decisions
                                         if ln["outcome"] not in gslib.OUTCOMES))
    lit_during = [ln for ln in shown_during if ln["latency_us"] != "-1"]
    figure("lock_decisions_shown", len(lit_during))
    check(len(lit_during) >= HOLD_S * 4, "the lanes kept deciding while the lock was held "
          "(%d decisions shown in %.0f s, %d readings received)"
          % (len(lit_during), t_unlock_sent - t_lock, len(during)))
    check(not late, "every reading got its light within 1.1 s (%d of %d later; the worst %.1f s)"
          % (len(late), len(decisions), lat(decisions) / 1000.0))

    logged = readings_logged(log)
    dark = unlit(logged, decisions)
    figure("readings_logged", len(logged))
    figure("readings_lit", len(decisions))
    figure("readings_unlit", len(dark))
    check(logged and not dark, "every reading the daemon took got a light (%d of %d not: %r)"
          % (len(dark), len(logged), dark[:3]))

    # Decided under the lock: received after it was taken, shown before the shell
    # was told to let go (a decision committed just before the lock may be shown
    # a moment after it).
    locked = [ln for ln in during if int(ln["mono_us"]) < us(t_unlock_sent)]
    greens_during = [ln for ln in locked if ln["lamp"] == "green"]
    not_amber = [ln for ln in locked if ln["lamp"] != "amber"]
    reasons = sorted(set(ln["outcome"] for ln in locked))
    figure("lock_greens", len(greens_during))
    figure("lock_decision_reasons", ",".join(reasons) or "-")
    check(not greens_during, "no green while the lock was held (%d greens)" % len(greens_during))
    check(not not_amber, "every decision shown during the lock is amber (%d not: %r)"
          % (len(not_amber), [(ln["lane"], ln["lamp"], ln["outcome"]) for ln in not_amber[:3]]))
    longest = green_spans(lights, us(time.monotonic()))
    figure("longest_green_ms", "%.0f" % longest)
    check(longest <= HOLD_MS + 1000, "no lane stayed green longer than its hold + 1 s "
          "(longest %.1f s)" % (longest / 1000.0))

    pings = notify.times("WATCHDOG=1")
    gap = max_gap_ms(pings, t_lock, t_rel)
    figure("watchdog_pings_during_lock", len([t for t in pings if t_lock <= t <= t_rel]))
    figure("watchdog_max_gap_ms", "%.0f" % gap)
    figure("watchdog_max_late_ms", "%.0f" % max(0.0, gap - nominal_ms))
    check(gap - nominal_ms < WATCHDOG_USEC / 4000.0,
          "watchdog pings kept coming during the lock (longest gap %.0f ms, due every %.0f ms, "
          "WATCHDOG_USEC %d ms)" % (gap, nominal_ms, WATCHDOG_USEC // 1000))

    greens_after = [ln for ln in after if ln["lamp"] == "green"]
    if greens_after:
        first = min(int(ln["mono_us"]) for ln in greens_after)
        green_ms = (first - us(t_rel)) / 1000.0
    else:
        green_ms = float("inf")
    figure("green_after_release_ms", "%.1f" % green_ms)
    check(green_ms <= GREEN_AFTER_RELEASE_MAX_MS, "green again %.0f ms after the release "
          "(at most %d)" % (green_ms, GREEN_AFTER_RELEASE_MAX_MS))
    settled = [ln for ln in after if gslib.posted_us(ln) >= us(t_rel + 0.2)]
    unrecorded = [ln for ln in settled if ln["outcome"] not in gslib.OUTCOMES]
    check(settled and not unrecorded, "recovers by itself: every reading from 0.2 s after the "
          "release is decided and recorded (%d of %d not)" % (len(unrecorded), len(settled)))

    missing, _ = gslib.unmatched(g.db, lights)
    figure("green_without_row", sum(1 for k in missing if k[1] == "admit"))
    check(not missing, "never green without a committed row: every decision shown is in the "
          "ledger (missing %d: %r)" % (len(missing), missing[:3]))
    lost = before_ids - g.reading_keys()
    figure("rows_lost", len(lost))
    check(not lost, "nothing lost: the %d rows committed before the lock are there"
          % len(before_ids))
    check(rc == 0, "the daemon stopped cleanly (status %r)" % rc)
    return n_lines


def start_locked(g, notify, skip_lines):
    """Part 2: the daemon starts while the shell holds the lock."""
    notify.clear()
    holder = LockHolder(g.db)
    check(holder.lock(), "the sqlite3 shell holds BEGIN EXCLUSIVE before the start")
    t_lock = time.monotonic()
    dm = gslib.Daemon(g.conf, env=notify.env(WATCHDOG_USEC), log_path=g.conf + ".start.log")
    end = t_lock + START_HOLD_S
    while time.monotonic() < end and dm.proc.poll() is None:
        time.sleep(0.05)
    exited = dm.proc.poll()
    figure("start_locked_exit_status", "running" if exited is None else exited)
    check(exited is None, "the daemon started under the lock does not exit (%s)"
          % ("still runs" if exited is None else "exited with status %d after %.1f s"
             % (exited, time.monotonic() - t_lock)))
    lights = g.read()[skip_lines:]
    last = gslib.last_idle(lights)
    shown = sorted((k, v["lamp"], v["outcome"]) for k, v in last.items())
    figure("start_locked_lanes", ";".join("%s=%s/%s" % s for s in shown) or "-")
    # A lane that just had a decision shows it amber ("ledger-error") for its hold.
    check(len(last) == LANES and all(v["lamp"] == "amber" and v["outcome"] in
                                     ("ledger-locked", "ledger-error") for v in last.values())
          and any(v["outcome"] == "ledger-locked" for v in last.values()),
          "every lane shows amber 'ledger-locked' while the lock is held (%r)" % shown)
    greens = [ln for ln in lights if ln["lamp"] == "green"]
    check(not greens, "never green while locked at start (%d greens)" % len(greens))
    log = dm.text()
    locked_lines = [ln for ln in log.splitlines() if "locked" in ln]
    figure("start_locked_log_lines", len(locked_lines))
    check(locked_lines, "the log says the ledger is locked (%r)"
          % (locked_lines[:1] or log.splitlines()[-3:]))
    statuses = notify.statuses()
    figure("start_locked_status", repr(statuses[-1][1] if statuses else None))
    check(any("locked" in s for _, s in statuses), "sd_notify STATUS says locked (%r)"
          % [s for _, s in statuses][:3])
    check(notify.times("READY=1"), "READY=1 while the ledger is locked (the daemon is up, amber)")
    pings = notify.times("WATCHDOG=1")
    figure("start_locked_watchdog_pings", len(pings))

    t_unlock_sent = time.monotonic()
    check(holder.release(), "the shell let go")
    t_rel = time.monotonic()
    holder.kill()
    def freed():
        # From the moment the release was asked for: the probe (every 50 ms) may see the
        # lock's end before the shell has told us it let go.
        return [t for t, st in notify.statuses() if t >= t_unlock_sent and "locked" not in st]
    free = gslib.wait_until(freed, 5)
    free_ms = (freed()[0] - t_unlock_sent) * 1000.0 if free else float("inf")
    figure("status_free_after_release_ms", "%.0f" % free_ms)
    check(free and free_ms < 2000, "STATUS no longer says locked within 2 s of the release "
          "(%.0f ms)" % free_ms)
    for lane in range(LANES):
        g.arrive(lane, g.reserved[2 * LANES + lane][1])
    green = gslib.wait_until(
        lambda: [ln for ln in g.read()[skip_lines:]
                 if ln["lamp"] == "green" and int(ln["mono_us"]) > int(t_unlock_sent * 1e6)], 5)
    check(green, "decisions are green after the release")
    time.sleep(1.0)
    alive = dm.proc.poll() is None
    rc, _ = dm.stop() if alive else (dm.proc.wait(), 0)
    check(alive and rc == 0, "the daemon stopped cleanly (status %r)" % rc)
    holder.kill()
    missing, _ = gslib.unmatched(g.db, g.read())
    check(not missing, "never green without a committed row, both parts (missing %r)"
          % missing[:3])
    r = gslib.cli(g.conf, "db", "check")
    check(r.returncode == 0 and "integrity check ok" in r.stdout, "integrity at the end")


def main():
    duration = int(HOLD_S + START_HOLD_S + 60)
    g = gslib.BusyGate("LOCK", seed=17, duration=duration, reserved=3 * LANES)
    notify = Notify(os.path.join(g.d, "notify.sock"))
    try:
        n = running_lock(g, notify)
        start_locked(g, notify, n)
    finally:
        notify.close()
        g.close()
    gslib.finish()


if __name__ == "__main__":
    main()
