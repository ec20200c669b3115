"""--check-config says what a bus can carry (issue 14, finding 7): 64 units polled
every 50 ms on one TCP bus ask for 1,280 requests/s; with a 5 ms pause after each
request the bus carries about 170, so each unit is polled about 2.7 times a second,
not 20 (before: "configuration OK" and nothing else). The warning is a
`FILE:LINE: warning:` line at the bus's header, the configuration is still OK (a
warning, not an error), and the estimate is compared with what the real daemon gets
from the simulator on that configuration. A bus within its means, and the shipped
configurations, get no warning."""
import os
import re
import subprocess
import time

import gslib
from gslib import check

import mbfaults
from mbfaults import figure

WARNING = re.compile(r"^(.*):(\d+): warning: \[bus (\S+)\] .*about ([\d.]+) polls/s each", re.M)


def run(conf):
    return subprocess.run([gslib.DAEMON, "--check-config", conf], capture_output=True, text=True,
                          timeout=20)


def main():
    port = gslib.free_port()
    units = ["u%d" % i for i in range(64)]
    text = mbfaults.bus_config(port, units)
    _, conf = gslib.scratch(text)
    r = run(conf)
    print("     " + r.stderr.strip().replace("\n", "\n     "))
    check(r.returncode == 0 and r.stdout.strip() == "configuration OK",
          "64 units at 50 ms: still configuration OK (a warning is not an error)")
    m = WARNING.search(r.stderr)
    check(m is not None, "a warning names the bus and what each unit gets")
    if m:
        header = text.splitlines().index("[bus gw]") + 1
        check(m.group(1) == conf and int(m.group(2)) == header,
              "the warning is FILE:LINE at [bus gw] (line %s, header at %d)" % (m.group(2), header))
        estimate = float(m.group(4))
        figure("check_config_polls_per_s_each", estimate)
        sim, dm = mbfaults.start(conf)
        check(dm.wait_for("state ok", count=64, timeout=30), "the daemon on that configuration")
        time.sleep(1.0)
        rates = mbfaults.measure_rates(dm, units, 6.0)
        got = sum(rates.values()) / len(rates)
        figure("measured_polls_per_s_each", got)
        check(0.75 * got <= estimate <= 1.25 * got, "the estimate %.2f is within 25%% of what the "
              "bus delivers (%.2f)" % (estimate, got))
        check("cannot be served" in dm.text() or "bus gw: " in dm.text(),
              "the daemon logs the same warning at start")
        mbfaults.stop(sim, dm)

    # Within its means: four units at 50 ms.
    _, conf = gslib.scratch(mbfaults.bus_config(port, units[:4]))
    r = run(conf)
    check(r.returncode == 0 and "warning" not in r.stderr, "four units at 50 ms: no warning (%s)"
          % r.stderr.strip())

    # A serial line at 9600 baud: each request of six registers is about 45 ms on the wire
    # with its silences and the pause, so four units at 100 ms ask for more than it has.
    serial = mbfaults.bus_config(port, units[:4], poll="100ms").replace(
        "tcp = 127.0.0.1:%d" % port, "serial = /dev/ttyUSB9\nbaud = 9600\npause = 10ms")
    _, conf = gslib.scratch(serial)
    r = run(conf)
    check(r.returncode == 0 and WARNING.search(r.stderr) is not None,
          "four units at 100 ms on 9600 baud: warned (%s)" % r.stderr.strip())

    # The reference configuration names the installed key and token files, which
    # --check-config checks as the start does (issue 16, item 13): on a machine
    # without them those are its only complaints, and no bus is warned about.
    for name in ("gatescreen.conf", "demo.conf"):
        r = run(os.path.join(gslib.SOURCE, "config", name))
        others = [ln for ln in r.stderr.splitlines() if "/etc/gatescreen/" not in ln]
        check((r.returncode == 0 or not others) and "warning" not in r.stderr,
              "%s: no warning (%s)" % (name, r.stderr.strip()))


if __name__ == "__main__":
    main()
    gslib.finish()
