"""gatescreend <-> gatescreen-sim over Modbus RTU on a socat pty pair (issue 3):
three units on one serial bus, readings exact, one dead unit does not starve the
others."""
import os
import re
import signal
import subprocess
import tempfile
import time

import gslib
from gslib import check

READING = re.compile(r"reading: device (\S+) lane \S+ body (\S+) raw \S+ ambient \S+ "
                     r"status 0x\w+ seq \d+ card (\S+)")
COUNTERS = re.compile(r"device (\S+): \w+; polls (\d+) good (\d+) timeouts (\d+) .* at (-?\d+)")

POLL_MS = 200
RT_MS = 150


def config(tty):
    devs = "".join("""
[lane l%d]
gate = 南门
[device u%d]
bus = rs485
unit = %d
poll = %dms
lane = l%d
""" % (i, i, i, POLL_MS, i) for i in (1, 2, 3))
    return """\
[school]
code = T003
name = 测试学校
[ledger]
database = ledger.db
[windows]
morning = 07:00-08:30
[bus rs485]
serial = %s
baud = 19200
parity = E
response_timeout = %dms
byte_timeout = 20ms
pause = 2ms
retry_max = 5s
""" % (tty, RT_MS) + devs


def snapshot(dm):
    """Latest counters per device: (good, at_ms)."""
    n = len(dm.text())
    dm.send(signal.SIGUSR1)
    gslib.wait_until(lambda: len(COUNTERS.findall(dm.text()[n:])) >= 3, 5)
    return {m.group(1): (int(m.group(3)), int(m.group(5))) for m in COUNTERS.finditer(dm.text()[n:])}


def rate(a, b, dev):
    (g0, t0), (g1, t1) = a[dev], b[dev]
    return (g1 - g0) * 1000.0 / (t1 - t0) if t1 > t0 else 0.0


def measure(conf, seconds):
    """Good polls per second of u1 and u2 over `seconds` of steady state."""
    dm = gslib.Daemon(conf)
    dm.wait_for("ready:")
    time.sleep(3.0)  # past start-up (and, with a dead unit, the first backoff steps)
    a = snapshot(dm)
    time.sleep(seconds)
    b = snapshot(dm)
    dm.stop()
    return dm, rate(a, b, "u1"), rate(a, b, "u2"), rate(a, b, "u3")


def main():
    tmp = tempfile.mkdtemp(prefix="gs-rtu-")
    a, b = os.path.join(tmp, "ttyA"), os.path.join(tmp, "ttyB")
    socat = subprocess.Popen(["socat", "-d", "-d", "pty,raw,echo=0,link=" + a,
                              "pty,raw,echo=0,link=" + b], stderr=subprocess.DEVNULL)
    check(gslib.wait_until(lambda: os.path.exists(a) and os.path.exists(b), 5), "socat pty pair")
    d, conf = gslib.scratch(config(a))
    sim = gslib.Sim(conf, "--serial", "rs485=" + b, "--wire-timing")
    check(sim.wait_ready(), "simulator ready on the pty")

    dm = gslib.Daemon(conf)
    check(dm.wait_for("state ok", count=3), "three RTU units ok")
    for i, t in ((1, "36.5"), (2, "37.3"), (3, "38.0")):
        sim.cmd("arrive u%d temp=%s card=%d" % (i, t, 1000 + i))
    check(gslib.wait_until(lambda: len(READING.findall(dm.text())) >= 3, 5), "three RTU readings")
    time.sleep(1.0)
    got = sorted(READING.findall(dm.text()))
    check(got == [("u1", "36.50", "1001"), ("u2", "37.30", "1002"), ("u3", "38.00", "1003")],
          "RTU readings exact, one each: %s" % got)
    dm.stop()

    _, r1, r2, r3 = measure(conf, 8.0)
    print("     all alive: u1 %.2f/s u2 %.2f/s u3 %.2f/s (poll %d ms)" % (r1, r2, r3, POLL_MS))
    check(r1 > 0 and r2 > 0, "baseline poll rates measured")

    sim.cmd("silent u3 120s")
    dm2, s1, s2, s3 = measure(conf, 8.0)
    print("     u3 dead:   u1 %.2f/s u2 %.2f/s u3 %.2f/s" % (s1, s2, s3))
    check("device u3: offline" in dm2.text() or "device u3: state offline" in dm2.text(),
          "dead unit reported offline")
    check(s1 >= 0.8 * r1 and s2 >= 0.8 * r2,
          "with u3 dead, u1/u2 keep >= 80%% of their poll rate (%.0f%%, %.0f%%)"
          % (100 * s1 / r1 if r1 else 0, 100 * s2 / r2 if r2 else 0))
    check(dm2.proc.returncode == 0, "daemon stopped cleanly")
    sim.kill(signal.SIGTERM)
    socat.terminate()
    socat.wait(5)


if __name__ == "__main__":
    main()
    gslib.finish()
