"""Half of a Modbus TCP bus dies at once (issue 14, finding 7): 16 units polled
every 50 ms with a 500 ms response timeout, 8 of them go silent (GS_LONG=1: 64
units, 32 silent; before the fix the live half was polled about once every 10 s
for the first minute, 0.7/s in the second, 3/s after).

Asserted: every dead unit is found offline within two timeouts of its own; while
they are found, no live unit goes two seconds without a good poll; once they are
found, the dead half costs the live half less than 10% of its poll rate (measured
against the live half alone on the bus)."""
import time

import gslib
from gslib import check

import mbfaults
from mbfaults import figure

N = 64 if mbfaults.LONG else 16
LIVE = ["live%d" % i for i in range(N // 2)]
DEAD = ["dead%d" % i for i in range(N // 2)]
UNITS = [u for pair in zip(LIVE, DEAD) for u in pair]  # live and dead in turn
TIMEOUT_S = 0.5
MEASURE_S = 20 if mbfaults.LONG else 12


def baseline(port):
    """Poll rate of the live half alone on the bus (the dead units not configured)."""
    _, sim_conf = gslib.scratch(mbfaults.bus_config(port, UNITS))
    _, conf = gslib.scratch(mbfaults.bus_config(port, [u for u in UNITS if u in LIVE]))
    sim, dm = mbfaults.start(conf, sim_conf)
    check(dm.wait_for("state ok", count=len(LIVE), timeout=20), "live half alone: all ok")
    time.sleep(1.0)
    r = mbfaults.measure_rates(dm, LIVE, MEASURE_S)
    mbfaults.stop(sim, dm)
    return sum(r.values()) / len(r)


def offline_times(dm, since, t0):
    """Seconds from t0 at which each dead unit was reported offline (by the daemon's
    own timestamps is not needed: the test polls the log every 20 ms)."""
    found = {}
    end = time.monotonic() + 4 * N * TIMEOUT_S + 10
    while time.monotonic() < end and len(found) < len(DEAD):
        text = dm.text()[since:]
        for u in DEAD:
            if u not in found and ("device %s: state offline" % u) in text:
                found[u] = time.monotonic() - t0
        time.sleep(0.02)
    return found


def failures_before_offline(text, unit):
    """The failed polls logged for `unit` before it was reported offline (the first
    two of a unit's errors are always logged)."""
    n = 0
    for line in text.splitlines():
        if ("device %s: state offline" % unit) in line:
            return n
        n += ("device %s (unit " % unit) in line
    return n


def live_gaps(dm, names, until):
    """Samples the live units' good counters every 0.5 s until `until` (a callable
    that says when to stop); returns the longest time any of them went without a
    good poll, as seen by these samples."""
    last_good, last_change, worst = {}, {}, 0.0
    while not until():
        snap = mbfaults.snapshot(dm, names)
        now = time.monotonic()
        for n in names:
            g = snap.get(n, {}).get("good", 0)
            if n not in last_good or g != last_good[n]:
                last_good[n], last_change[n] = g, now
            worst = max(worst, now - last_change[n])
        time.sleep(0.5)
    return worst


def main():
    port = gslib.free_port()
    base = baseline(port)
    figure("live_polls_per_s_alone", base)

    _, conf = gslib.scratch(mbfaults.bus_config(port, UNITS))
    sim, dm = mbfaults.start(conf)
    check(dm.wait_for("state ok", count=N, timeout=30), "all %d units ok" % N)
    time.sleep(1.0)
    since = len(dm.text())
    for u in DEAD:
        sim.cmd("silent %s 1h" % u)
    t0 = time.monotonic()

    import threading
    found = {}
    watcher = threading.Thread(target=lambda: found.update(offline_times(dm, since, t0)))
    watcher.start()
    gap = live_gaps(dm, LIVE, lambda: not watcher.is_alive())
    watcher.join()
    detect = max(found.values()) if found else float("inf")
    figure("dead_found_s", detect)
    figure("live_longest_gap_while_finding_s", gap)
    check(len(found) == len(DEAD), "every dead unit found offline (%d of %d)"
          % (len(found), len(DEAD)))
    most = max(failures_before_offline(dm.text()[since:], u) for u in DEAD)
    figure("dead_failed_polls_before_offline_most", most)
    check(most <= 2, "each dead unit is offline after at most two failed polls (%d)" % most)
    check(gap < 2.0, "no live unit waits 2 s for a poll while the dead are found (%.1f s)" % gap)

    time.sleep(3.0)
    after = mbfaults.measure_rates(dm, LIVE, MEASURE_S)
    mean = sum(after.values()) / len(after)
    figure("live_polls_per_s_after", mean)
    figure("live_polls_per_s_after_worst", min(after.values()))
    check(mean >= 0.9 * base, "the dead half costs the live half less than 10%% of its polls "
          "(%.2f/s against %.2f/s alone: %.0f%%)" % (mean, base, 100 * (1 - mean / base)))
    check(mbfaults.stop(sim, dm) == 0, "daemon stopped cleanly")


if __name__ == "__main__":
    main()
    gslib.finish()
