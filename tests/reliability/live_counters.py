"""The device counters are live and mean what they say (issue 14, finding 8).
Before: SIGUSR1 (and the stop log) showed the counters of the last state change
or good poll, so a unit that answered garbage 130 times showed "bad-frames 0 io 2"
and a refused TCP unit "io 2" after 59 refusals; `polls` counted block requests,
failed connects were not counted, and the first failure of any kind made a unit
"degraded".

Here, on one bus: a unit answering garbage, a unit with two blocks per poll
that loses one reply, a healthy unit; on a second bus nothing listens (every
connect is refused). Asserted, from two SIGUSR1 snapshots 3 s apart during the
faults and from the stop log:
- the failing units' counters grow between the snapshots;
- polls = good + timeouts + exceptions + crc + bad-frames + io (a poll is counted
  once, a failed connect too);
- a unit whose every poll fails is offline, never "degraded"; one lost reply
  changes no state at all."""
import time

import gslib
from gslib import check

import mbfaults
from mbfaults import figure

FAILS = ("timeouts", "exceptions", "crc", "bad_frames", "io")
UNITS = ("garb", "pyro", "ok1", "refused")


def config(port, dead_port, sim=False):
    """The daemon's config; sim: the simulator's, without the bus where nothing listens
    (the simulator serves every bus with devices)."""
    text = """\
[school]
code = CNT
name = 测试学校
[ledger]
database = ledger.db
[daemon]
indicator_log = lights.log
[windows]
morning = 07:00-08:30

[bus gw]
tcp = 127.0.0.1:%d
response_timeout = 300ms
[bus nothing]
tcp = 127.0.0.1:%d
response_timeout = 300ms

[lane l1]
gate = G
indicator = test
[lane l2]
gate = G
indicator = test
identity = none
[lane l3]
gate = G
indicator = test
[lane l4]
gate = G
indicator = test

[device garb]
bus = gw
unit = 1
poll = 50ms
lane = l1
# Two blocks per poll (the layout of the built-in pyrometer before issue 18).
[profile two-blocks]
block = 3:0:2
block = 3:0x15:1
body_temp = 0 int16 0.1
ambient_temp = 1 int16 0.1
status = 0x15 uint16
status_valid = 0x0001
status_fault = 0x0002
status_present = 0x0004
trigger = presence

[device pyro]
bus = gw
unit = 2
profile = two-blocks
poll = 50ms
lane = l2
[device ok1]
bus = gw
unit = 3
poll = 50ms
lane = l3
[device refused]
bus = nothing
unit = 1
poll = 50ms
lane = l4
""" % (port, dead_port)
    if sim:
        text = text.replace("[device refused]", "[lane l4x]").split("[lane l4x]")[0]
        text = text.replace("[lane l4]\ngate = G\nindicator = test\n", "")
    return text


def failed(row):
    return sum(row[f] for f in FAILS)


def balanced(row):
    """polls = good + failures; one poll may be under way when the counters are posted."""
    return 0 <= row["polls"] - row["good"] - failed(row) <= 1


def main():
    port = gslib.free_port()
    dead_port = port
    while dead_port == port:
        dead_port = gslib.free_port()
    _, conf = gslib.scratch(config(port, dead_port))
    _, sim_conf = gslib.scratch(config(port, dead_port, sim=True))
    sim, dm = mbfaults.start(conf, sim_conf)
    check(dm.wait_for("state ok", count=3), "garb, pyro and ok1 ok")
    time.sleep(1.0)

    since = len(dm.text())
    check(sim.cmd("silent pyro 200ms") == "ok", "sim: pyro loses one reply")
    check(sim.cmd("malformed garb") == "ok", "sim: garb answers garbage")
    time.sleep(3.0)
    a = mbfaults.snapshot(dm, UNITS)
    time.sleep(3.0)
    b = mbfaults.snapshot(dm, UNITS)
    for u in UNITS:
        print("     %-8s %s" % (u, " ".join("%s %s" % (k, b[u][k]) for k in
                                        ("state", "polls", "good") + FAILS + ("reconnects",))))

    grew = failed(b["garb"]) - failed(a["garb"])
    figure("garbage_failures_counted_in_3s", grew)
    check(grew >= 1, "garbage answers counted live (%d more in 3 s; the unit is probed, not "
          "polled every 50 ms)" % grew)
    refusals = b["refused"]["io"] - a["refused"]["io"]
    figure("refusals_counted_in_3s", refusals)
    check(refusals >= 10, "refused connects counted live (%d more in 3 s)" % refusals)
    check(refusals > 0 and b["refused"]["polls"] - a["refused"]["polls"] == refusals,
          "each refused connect is one poll (%d polls, %d refusals)"
          % (b["refused"]["polls"] - a["refused"]["polls"], refusals))
    for u in UNITS:
        check(balanced(b[u]), "%s: polls %d = good %d + failed %d"
              % (u, b[u]["polls"], b[u]["good"], failed(b[u])))
    check(b["garb"]["state"] == "offline" and b["refused"]["state"] == "offline",
          "units whose polls all fail are offline (garb %s, refused %s)"
          % (b["garb"]["state"], b["refused"]["state"]))
    check(b["pyro"]["timeouts"] == 1 and b["pyro"]["state"] == "ok",
          "pyro lost one reply: 1 timeout, still ok (%d, %s)" % (b["pyro"]["timeouts"],
                                                                b["pyro"]["state"]))
    degraded = [l for l in dm.text()[since:].splitlines() if "degraded" in l]
    check(not degraded, "nothing is called degraded without an exception answer (%s)"
          % degraded[:2])

    rc = mbfaults.stop(sim, dm)
    check(rc == 0, "daemon stopped cleanly")
    last = mbfaults.last_counters(dm)
    check(failed(last["garb"]) >= failed(b["garb"]) and last["refused"]["io"] >= b["refused"]["io"],
          "the stop log's counters are at least the last snapshot's (garb %d >= %d, refused %d >= "
          "%d)" % (failed(last["garb"]), failed(b["garb"]), last["refused"]["io"],
                   b["refused"]["io"]))
    # The simulator counts the broken replies it sent: each is one failed poll of garb
    # (the stop log may miss the polls of its last second).
    sent = mbfaults.sim_counts(sim).get("garb", {}).get("malformed", -1)
    figure("garbage_replies_sent", sent)
    figure("garbage_failures_counted", failed(last["garb"]))
    check(0 <= sent - failed(last["garb"]) <= 2, "every broken reply is one failed poll "
          "(simulator sent %d, daemon counted %d)" % (sent, failed(last["garb"])))


if __name__ == "__main__":
    main()
    gslib.finish()
