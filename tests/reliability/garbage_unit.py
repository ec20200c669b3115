"""A unit that answers garbage (issue 14, findings 8 and 11): for 10 s (GS_LONG=1:
60 s) one unit of a TCP bus sends broken replies in turn (a wrong byte count, a
frame cut short, a wrong transaction id). Its failures are counted as they
happen and logged at a falling rate; its neighbours on the same connection see no
error and keep at least 70% of their poll rate (a reply with a wrong id is waited
past, for the whole response timeout, so the unit is probed within the bus's
budget, which is at most a quarter of the bus)."""
import time

import gslib
from gslib import check

import mbfaults
from mbfaults import figure

NEIGHBOURS = ("n1", "n2")
UNITS = ("garb",) + NEIGHBOURS
SECONDS = 60 if mbfaults.LONG else 10
FAILS = ("timeouts", "exceptions", "crc", "bad_frames", "io")


def main():
    port = gslib.free_port()
    _, conf = gslib.scratch(mbfaults.bus_config(port, UNITS))
    sim, dm = mbfaults.start(conf)
    check(dm.wait_for("state ok", count=3), "three units ok")
    time.sleep(1.0)
    base = mbfaults.measure_rates(dm, NEIGHBOURS, 3.0)

    since = len(dm.text())
    a = mbfaults.snapshot(dm, UNITS)
    check(sim.cmd("malformed garb") == "ok", "sim: garb answers garbage")
    during = mbfaults.measure_rates(dm, NEIGHBOURS, SECONDS)
    b = mbfaults.snapshot(dm, UNITS)
    lines = [l for l in dm.text()[since:].splitlines()
             if "device garb" in l and "; polls " not in l]  # not the counters asked for
    failed = sum(b["garb"][f] - a["garb"][f] for f in FAILS)
    figure("garbage_failures", failed)
    figure("garbage_log_lines", len(lines))
    worst = min(during[n] / base[n] for n in NEIGHBOURS)
    figure("neighbour_poll_rate_kept", worst)
    errors = sum(b[n][f] - a[n][f] for n in NEIGHBOURS for f in FAILS)
    figure("neighbour_errors", errors)
    check(failed >= 3 and b["garb"]["polls"] - b["garb"]["good"] == failed + a["garb"]["polls"]
          - a["garb"]["good"], "garbage counted as it comes: %d failed polls" % failed)
    check(b["garb"]["state"] == "offline", "garb offline (%s)" % b["garb"]["state"])
    allowed = 2 * (failed.bit_length() + 3)
    check(len(lines) <= allowed, "%d log lines for %d failures (at most %d)"
          % (len(lines), failed, allowed))
    check(errors == 0, "neighbours see no error (%d)" % errors)
    check(worst >= 0.7, "neighbours keep %.0f%% of their poll rate (at least 70%%: the unit "
          "is probed within the bus's budget)" % (100 * worst))

    check(sim.cmd("clear garb") == "ok", "sim: garb answers well again")
    check(gslib.wait_until(lambda: mbfaults.snapshot(dm, UNITS)["garb"]["state"] == "ok", 5),
          "garb ok again")
    check(mbfaults.stop(sim, dm) == 0, "daemon stopped cleanly")
    sent = mbfaults.sim_counts(sim).get("garb", {}).get("malformed", -1)
    counted = sum(mbfaults.last_counters(dm)["garb"][f] for f in FAILS)
    figure("garbage_replies_sent", sent)
    check(0 <= sent - counted <= 2, "each broken reply is one failed poll (sent %d, counted %d)"
          % (sent, counted))


if __name__ == "__main__":
    main()
    gslib.finish()
