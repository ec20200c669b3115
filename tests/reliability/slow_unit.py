"""A slow unit on a Modbus TCP bus (issue 14, finding 6). Three units poll every
50 ms with a 500 ms response timeout. One of them starts answering late:

- 550 ms: every answer comes after its request timed out. The late reply must not
  be taken as a neighbour's answer: the neighbours see no error, no reconnect, no
  state change (before: "Invalid data", degraded, reconnect, 5 times in 25 s).
- 450 ms: it answers in time, but each answer holds the bus for 450 ms. It may
  cost its neighbours its own time once per probe period (retry_max, 2 s), so they
  keep at least 70% of their 20 polls/s (before: 11 polls/s).
"""
import time

import gslib
from gslib import check

import mbfaults
from mbfaults import figure

NEIGHBOURS = ("n1", "n2")
UNITS = ("slow",) + NEIGHBOURS
SECONDS = 25 if mbfaults.LONG else 10


def neighbour_trouble(dm, since):
    """Lines after `since` that show a neighbour taking a late reply for its own."""
    bad = []
    for line in dm.text()[since:].splitlines():
        if any(("device %s" % n) in line for n in NEIGHBOURS) and (
                "Invalid data" in line or "degraded" in line or "offline" in line):
            bad.append(line)
    return bad


def main():
    port = gslib.free_port()
    _, conf = gslib.scratch(mbfaults.bus_config(port, UNITS))
    sim, dm = mbfaults.start(conf)
    check(dm.wait_for("state ok", count=3), "three units ok")
    time.sleep(1.0)
    base = mbfaults.measure_rates(dm, NEIGHBOURS, 4.0)
    figure("neighbour_polls_per_s_before", min(base.values()))

    # Late by 550 ms: every reply arrives 50 ms after its request gave up.
    since = len(dm.text())
    a = mbfaults.snapshot(dm, UNITS)
    check(sim.cmd("slow slow 550ms") == "ok", "sim: slow unit 550 ms")
    time.sleep(SECONDS)
    b = mbfaults.snapshot(dm, UNITS)
    trouble = neighbour_trouble(dm, since)
    errors = sum(b[n]["bad_frames"] - a[n]["bad_frames"] + b[n]["reconnects"] - a[n]["reconnects"]
                 + b[n]["timeouts"] - a[n]["timeouts"] for n in NEIGHBOURS)
    figure("neighbour_errors_550ms", errors)
    figure("neighbour_error_lines_550ms", len(trouble))
    for line in trouble[:5]:
        print("     " + line)
    check(errors == 0 and not trouble,
          "late replies of a 550 ms unit never reach its neighbours (%d errors, %d lines in %d s)"
          % (errors, len(trouble), SECONDS))
    check(b["slow"]["state"] == "offline", "the 550 ms unit is offline (%s)" % b["slow"]["state"])

    # Slow by 450 ms: answers in time but holds the bus.
    check(sim.cmd("slow slow 450ms") == "ok", "sim: slow unit 450 ms")
    time.sleep(4.0)
    slow = mbfaults.measure_rates(dm, NEIGHBOURS + ("slow",), SECONDS)
    worst = min(slow[n] for n in NEIGHBOURS)
    figure("neighbour_polls_per_s_450ms", worst)
    figure("slow_unit_polls_per_s_450ms", slow["slow"])
    check(worst >= 0.7 * min(base.values()),
          "a 450 ms unit leaves its neighbours %.1f polls/s (at least 70%% of %.1f)"
          % (worst, min(base.values())))
    check(slow["slow"] > 0, "the 450 ms unit is still read (%.2f polls/s)" % slow["slow"])

    check(sim.cmd("clear slow") == "ok", "sim: slow unit answers at once again")
    check(gslib.wait_until(lambda: mbfaults.snapshot(dm, UNITS)["slow"]["state"] == "ok", 5),
          "the unit is ok again")
    check(mbfaults.stop(sim, dm) == 0, "daemon stopped cleanly")


if __name__ == "__main__":
    main()
    gslib.finish()
