"""gatescreend <-> gatescreen-sim over real Modbus TCP (issue 3): readings, stale
values, device faults, a device that dies and comes back."""
import re
import signal
import time

import gslib
from gslib import check

READING = re.compile(r"reading: device (\S+) lane (\S+) body (\S+) raw (\S+) ambient (\S+) "
                     r"status 0x(\w+) seq (\d+) card (\S+)")
COUNTERS = re.compile(r"device (\S+): (\w+); polls (\d+) good (\d+) timeouts (\d+) exceptions (\d+) "
                      r"crc (\d+) bad-frames (\d+) io (\d+) reconnects (\d+) readings (\d+)")

POLL_MS = 100
RT_MS = 300


def config(port):
    return """\
[school]
code = T002
name = 测试学校

[ledger]
database = ledger.db

[windows]
morning = 07:00-08:30

[bus gw]
tcp = 127.0.0.1:%d
response_timeout = %dms
retry_max = 1s

[lane a]
gate = 东门
[lane b]
gate = 东门
[lane c]
gate = 北门
identity = none

[device ir-a]
bus = gw
unit = 1
poll = %dms
lane = a

[device ir-b]
bus = gw
unit = 2
poll = %dms
offset = 0.3
lane = b

[device py-c]
bus = gw
unit = 3
profile = pyrometer
poll = %dms
lane = c
""" % (port, RT_MS, POLL_MS, POLL_MS, POLL_MS)


def readings(dm):
    return [m.groups() for m in READING.finditer(dm.text())]


def counters(dm):
    return {m.group(1): m.groups() for m in COUNTERS.finditer(dm.text())}


def main():
    port = gslib.free_port()
    d, conf = gslib.scratch(config(port))
    sim = gslib.Sim(conf)
    check(sim.wait_ready(), "simulator ready")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "daemon ready")
    check(dm.wait_for("state ok", count=3), "all three devices ok")

    check(sim.cmd("arrive ir-a temp=36.6 card=123456 ambient=24.5") == "ok", "sim: arrive ir-a")
    check(sim.cmd("arrive ir-b temp=37.1") == "ok", "sim: arrive ir-b")
    check(gslib.wait_until(lambda: len(readings(dm)) >= 2, 5), "two readings arrive")
    time.sleep(10 * POLL_MS / 1000)  # ten more polls of unchanged registers
    r = readings(dm)
    check(len(r) == 2, "stale values produce no reading (%d readings)" % len(r))
    by_dev = {x[0]: x for x in r}
    a, b = by_dev.get("ir-a"), by_dev.get("ir-b")
    check(a and a[2] == "36.60" and a[3] == "36.60" and a[4] == "24.50" and a[7] == "123456"
          and a[1] == "a", "ir-a reading exact: %s" % (a,))
    check(b and b[3] == "37.10" and b[2] == "37.40" and b[7] == "none",
          "ir-b calibration offset applied: %s" % (b,))

    # The pyrometer (no presence line, trigger = rise): one reading per rise.
    check(sim.cmd("arrive py-c temp=37.4") == "ok", "sim: arrive py-c")
    check(gslib.wait_until(lambda: any(x[0] == "py-c" for x in readings(dm)), 5),
          "pyrometer reading on the rise")
    time.sleep(2.0)
    check(sim.cmd("arrive py-c temp=36.9") == "ok", "sim: second arrival at py-c")
    check(gslib.wait_until(lambda: sum(x[0] == "py-c" for x in readings(dm)) == 2, 5),
          "second rise -> second reading")
    py = [x for x in readings(dm) if x[0] == "py-c"]
    check([x[2] for x in py] == ["37.40", "36.90"], "pyrometer values x0.1 exact: %s" % py)

    # Invalid and fault measurements still arrive, flagged by status bits.
    sim.cmd("invalid ir-a temp=45.2")
    sim.cmd("fault ir-b")
    check(gslib.wait_until(lambda: len([x for x in readings(dm) if x[0] != "py-c"]) == 4, 5),
          "invalid and fault measurements become readings")
    last = {x[0]: x for x in readings(dm) if x[0] != "py-c"}
    check(int(last["ir-a"][5], 16) & 0x1 == 0, "invalid reading: status not valid")
    check(int(last["ir-b"][5], 16) & 0x2 == 2, "fault reading: fault bit")

    # Exceptions and malformed frames: counted, the daemon survives, devices recover.
    sim.cmd("exception ir-a 4 for 1s")
    sim.cmd("malformed ir-b for 1s")
    time.sleep(1.0)
    check(dm.wait_for("device ir-a: degraded") or dm.wait_for("device ir-a: state degraded"),
          "exception answers make ir-a degraded")
    check(gslib.wait_until(lambda: dm.text().count("device ir-b: state ok again") >= 1, 5),
          "ir-b back after malformed frames")
    check(gslib.wait_until(lambda: dm.text().count("device ir-a: state ok again") >= 1, 5),
          "ir-a back after exceptions")
    check(dm.proc.poll() is None, "daemon alive after bad frames")

    # The simulator dies: every device offline within two response timeouts.
    n_off = dm.text().count(": state offline")
    t_kill = time.monotonic()
    sim.kill()
    check(dm.wait_for(": state offline", count=n_off + 3, timeout=5), "all devices offline")
    t_off = time.monotonic() - t_kill
    check(t_off <= 2 * RT_MS / 1000 + POLL_MS / 1000 + 0.2,
          "offline reported %.0f ms after the kill (limit 2 x %d ms + one poll)"
          % (t_off * 1000, RT_MS))

    # ... and back within one poll interval once it answers again (retry at the poll
    # interval: a refused connection costs the bus nothing, so no backoff there).
    n_ok = dm.text().count(": state ok")
    sim = gslib.Sim(conf)
    check(sim.wait_ready(), "simulator restarted")
    t_back = time.monotonic()
    check(dm.wait_for(": state ok", count=n_ok + 3, timeout=5), "all devices back")
    back = time.monotonic() - t_back
    check(back <= POLL_MS / 1000 + 0.15, "back %.0f ms after the restart (poll %d ms)"
          % (back * 1000, POLL_MS))
    before = len(readings(dm))
    time.sleep(0.5)
    check(len(readings(dm)) == before, "no reading from the restarted unit's old values")
    sim.cmd("arrive ir-a temp=36.8 card=42")
    check(gslib.wait_until(lambda: len(readings(dm)) == before + 1, 5), "readings flow again")

    rc, took = dm.stop()
    sim.kill(signal.SIGTERM)
    check(rc == 0 and took < 2.0, "clean stop with bus threads (%.3f s)" % took)
    c = counters(dm)
    check(set(c) == {"ir-a", "ir-b", "py-c"}, "counters logged for every device")
    if "ir-a" in c:
        polls, good, exc = int(c["ir-a"][2]), int(c["ir-a"][3]), int(c["ir-a"][5])
        check(polls > good > 0, "ir-a polls %d good %d" % (polls, good))
        check(exc >= 1, "ir-a exceptions counted (%d)" % exc)
        check(re.search(r"device ir-a: \w+; .* last-good \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                        dm.text()) is not None, "ir-a's last good read logged with its time")
        # A reconnect is the bus's; it is counted on the device whose poll made it.
        recon = sum(int(v[9]) for v in c.values())
        check(recon >= 2, "reconnects counted on the bus's devices (%d: after the malformed "
              "frames and after the restart)" % recon)
    if "ir-b" in c:
        check(int(c["ir-b"][6]) + int(c["ir-b"][7]) + int(c["ir-b"][8]) >= 1,
              "ir-b malformed frames counted: crc %s bad-frames %s io %s" % c["ir-b"][6:9])


if __name__ == "__main__":
    main()
    gslib.finish()
