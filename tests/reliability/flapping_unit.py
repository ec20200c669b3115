"""A unit that comes and goes (issue 14, findings 8 and 11): answering for 2 s,
silent for 1 s, in turn, for 21 s (GS_LONG=1: 120 s), on a TCP bus with two
neighbours. Every change still reaches the gate (its lane blinks while the unit
is offline), but the log says so at a falling rate, like every repeated device
error: the 1st, 2nd, 4th, 8th... time, each with the number left out since
(before: five lines per flap). The neighbours see nothing of it."""
import math
import os
import time

import gslib
from gslib import check

import mbfaults
from mbfaults import figure

UNITS = ("flappy", "n1", "n2")
SECONDS = 120 if mbfaults.LONG else 21


def main():
    port = gslib.free_port()
    _, conf = gslib.scratch(mbfaults.bus_config(port, UNITS))
    lights = os.path.join(os.path.dirname(conf), "lights.log")
    sim, dm = mbfaults.start(conf)
    check(dm.wait_for("state ok", count=3), "three units ok")
    time.sleep(1.0)
    since = len(dm.text())
    a = mbfaults.snapshot(dm, UNITS)
    t0 = time.monotonic()
    check(sim.cmd("flap flappy 2s/1s for %ds" % SECONDS) == "ok", "sim: flappy flaps")
    time.sleep(SECONDS + 0.5)

    shown = [x for x in gslib.read_lights(lights)
             if x["lane"] == "l-flappy" and int(x["mono_us"]) / 1e6 > t0]
    flaps = sum(1 for x in shown if x["outcome"] == "offline")
    lines = [l for l in dm.text()[since:].splitlines()
             if "device flappy" in l and "; polls " not in l]  # not the counters asked for
    allowed = 4 * (int(math.log2(max(flaps, 1))) + 1)
    figure("flaps_shown_at_the_lane", flaps)
    figure("log_lines_about_the_flapping_unit", len(lines))
    for l in lines[:12]:
        print("     " + l)
    check(flaps >= 2, "the lane shows the unit offline at the flaps the bus sees (%d)" % flaps)
    check(len(lines) <= allowed, "%d log lines about the unit for %d flaps (at most %d: a "
          "falling rate)" % (len(lines), flaps, allowed))

    check(gslib.wait_until(lambda: mbfaults.snapshot(dm, UNITS)["flappy"]["state"] == "ok", 5),
          "ok again once it stops flapping")
    b = mbfaults.snapshot(dm, UNITS)
    errors = sum(b[n][f] - a[n][f] for n in ("n1", "n2")
                 for f in ("timeouts", "bad_frames", "io", "reconnects"))
    figure("neighbour_errors", errors)
    check(errors == 0, "the neighbours see nothing of it (%d errors)" % errors)
    check(mbfaults.stop(sim, dm) == 0, "daemon stopped cleanly")


if __name__ == "__main__":
    main()
    gslib.finish()
