"""Helpers of the Modbus fault scripts: a bus of units behind the simulator, the
daemon's live counters (SIGUSR1) and poll rates taken from them, figures."""
import os
import re
import signal
import time

import gslib

LONG = os.environ.get("GS_LONG") == "1"

COUNTERS = re.compile(r"device (\S+): (\w+); polls (\d+) good (\d+) timeouts (\d+) "
                      r"exceptions (\d+) crc (\d+) bad-frames (\d+) io (\d+) reconnects (\d+) "
                      r"readings (\d+) at (-?\d+)")
FIELDS = ("polls", "good", "timeouts", "exceptions", "crc", "bad_frames", "io", "reconnects",
          "readings", "at")


def figure(name, value):
    """One measured figure, as the reliability README asks: `figure: name value`."""
    if isinstance(value, float):
        value = "%.2f" % value
    print("figure: %s %s" % (name, value))


def bus_config(port, units, poll="50ms", timeout="500ms", extra_bus="", head=""):
    """A school with one TCP bus on 127.0.0.1:port and one lane per unit; units is a
    list of device names, unit ids 1..n in that order."""
    lanes = "".join("[lane l-%s]\ngate = G\nindicator = test\n" % u for u in units)
    devices = "".join("[device %s]\nbus = gw\nunit = %d\npoll = %s\nlane = l-%s\n"
                      % (u, i + 1, poll, u) for i, u in enumerate(units))
    return ("[school]\ncode = REL\nname = 测试学校\n\n[ledger]\ndatabase = ledger.db\n\n"
            "[daemon]\nindicator_log = lights.log\n%s\n[windows]\nmorning = 07:00-08:30\n\n"
            "[bus gw]\ntcp = 127.0.0.1:%d\nresponse_timeout = %s\n%s\n"
            % (head, port, timeout, extra_bus) + lanes + "\n" + devices)


def snapshot(dm, names, timeout=5.0):
    """Asks for the counters (SIGUSR1) and returns {device: {field: int, "state": s}}
    for the devices named, from the lines that signal produced."""
    n = len(dm.text())
    dm.send(signal.SIGUSR1)
    gslib.wait_until(lambda: set(names) <= {m.group(1) for m in COUNTERS.finditer(dm.text()[n:])},
                     timeout)
    out = {}
    for m in COUNTERS.finditer(dm.text()[n:]):
        row = dict(zip(FIELDS, (int(x) for x in m.groups()[2:])))
        row["state"] = m.group(2)
        out[m.group(1)] = row
    return out


def rate(a, b, dev, field="good"):
    """Per second of `field` between two snapshots, on the bus thread's own clock
    (the time each device's counters were posted)."""
    if dev not in a or dev not in b:
        return 0.0
    dt = b[dev]["at"] - a[dev]["at"]
    return (b[dev][field] - a[dev][field]) * 1000.0 / dt if dt > 0 else 0.0


def measure_rates(dm, names, seconds):
    """Good polls per second of each named device over `seconds`."""
    a = snapshot(dm, names)
    time.sleep(seconds)
    b = snapshot(dm, names)
    return {n: rate(a, b, n) for n in names}


def start(conf, sim_conf=None):
    """The simulator (on sim_conf, default the daemon's config) and the daemon."""
    sim = gslib.Sim(sim_conf or conf)
    gslib.check(sim.wait_ready(), "simulator ready")
    dm = gslib.Daemon(conf)
    gslib.check(dm.wait_for("ready:"), "daemon ready")
    return sim, dm


SIM_COUNTS = re.compile(r"device (\S+) \(.*\): served (\d+) exceptions (\d+) malformed (\d+) "
                        r"silenced (\d+)")


def sim_counts(sim):
    """What the stopped simulator says it did per device (its stderr at exit):
    {device: {"served", "exceptions", "malformed", "silenced"}}."""
    with open(sim.err.name, encoding="utf-8", errors="replace") as f:
        text = f.read()
    return {m.group(1): dict(zip(("served", "exceptions", "malformed", "silenced"),
                                 map(int, m.groups()[1:])))
            for m in SIM_COUNTS.finditer(text)}


def last_counters(dm):
    """The last counters logged per device (after a stop: the stop log's)."""
    return {m.group(1): dict(zip(FIELDS, map(int, m.groups()[2:])))
            for m in COUNTERS.finditer(dm.text())}


def stop(sim, dm):
    rc, _ = dm.stop()
    if sim is not None:
        sim.kill(signal.SIGTERM)
    return rc
