#!/usr/bin/env python3
"""Modbus benchmarks (issue 3), run on demand; prints its figures.

tcp: CPU microseconds per poll of gatescreend polling N simulated TCP devices at
     H Hz, side by side in the same run with collectd's modbus plugin and a bare
     libmodbus loop polling the same simulator at the same rate. Every contender
     runs `--repeat` times, interleaved; medians are quoted. Two layouts: every
     device at its own address (N buses, N bus threads), and all N behind one
     Modbus TCP gateway as units 1..N (one bus, one thread).
rtu: transactions per second gatescreend achieves on a 9600 8E1 line with
     wire-faithful simulator timing, 3 devices, against the wire limit.

  python3 tests/bench/bench_modbus.py [--seconds 60] [--repeat 3]
                                      [tcp|tcp-devices|tcp-gateway|rtu|all]
Needs collectd-core (apt-get install collectd-core) for the tcp comparison."""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../integration"))
import gslib  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
SERVED = re.compile(r"device (\S+) \(bus \S+ unit \d+\): served (\d+)")
POLLS = re.compile(r"device (\S+): \w+; polls (\d+) good (\d+) .* at (-?\d+)")


def cpu_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def school(extra):
    return ("[school]\ncode = BENCH\nname = bench\n[ledger]\ndatabase = ledger.db\n"
            "[windows]\nmorning = 07:00-08:30\n" + extra)


def tcp_config(port, n, hz, gateway):
    # No pause between requests: the other two contenders make none either.
    out = "[bus gw]\ntcp = 127.0.0.1:%d\npause = 0ms\n" % port if gateway else ""
    for i in range(n):
        if not gateway:
            out += "[bus b%d]\ntcp = 127.0.0.1:%d\n" % (i, port + i)
        out += ("[lane l%d]\ngate = g\nidentity = none\n"
                "[device d%d]\nbus = %s\nunit = %d\npoll = %dms\nlane = l%d\n"
                % (i, i, "gw" if gateway else "b%d" % i, i + 1 if gateway else 1,
                   1000 // hz, i))
    return school(out)


def sim_served(sim):
    sim.kill(signal.SIGTERM)
    with open(sim.out_path.replace(".sim.out", ".sim.err")) as f:
        return sum(int(m.group(2)) for m in SERVED.finditer(f.read()))


def run_gatescreend(conf, seconds):
    sim = gslib.Sim(conf)
    sim.wait_ready()
    dm = gslib.Daemon(conf)
    dm.wait_for("ready:")
    time.sleep(seconds)
    cpu = cpu_of(dm.proc.pid)
    dm.stop()
    polls = sim_served(sim)
    return cpu, polls


# The fields of the gatescreen-ir profile (registers 0-5). collectd reads one value
# per <Data>, one request each, so a poll that gets what gatescreend gets from its
# one 6-register request is 6 requests for collectd: polls = requests / 6.
COLLECTD_FIELDS = [("body", 0, "Int16"), ("ambient", 1, "Int16"), ("status", 2, "Uint16"),
                   ("sequence", 3, "Uint16"), ("card_lo", 4, "Uint16"), ("card_hi", 5, "Uint16")]


def collectd_config(d, port, n, hz, gateway):
    data = "".join('  <Data "%s">\n    RegisterBase %d\n    RegisterType %s\n'
                   '    RegisterCmd ReadHolding\n    Type "gauge"\n    Instance "%s"\n'
                   '  </Data>\n' % (name, reg, kind, name)
                   for name, reg, kind in COLLECTD_FIELDS)
    collect = "".join('      Collect "%s"\n' % name for name, _, _ in COLLECTD_FIELDS)
    def host(name, p, units):
        slaves = "".join('    <Slave %d>\n      Instance "u%d"\n%s    </Slave>\n'
                         % (u, u, collect) for u in units)
        return ('  <Host "%s">\n    Address "127.0.0.1"\n    Port "%d"\n    Interval %g\n'
                '%s  </Host>\n' % (name, p, 1.0 / hz, slaves))
    if gateway:
        hosts = host("gw", port, range(1, n + 1))
    else:
        hosts = "".join(host("dev%d" % i, port + i, [1]) for i in range(n))
    text = ('BaseDir "%s"\nPIDFile "%s/collectd.pid"\nTypesDB "/usr/share/collectd/types.db"\n'
            'Interval %g\nLoadPlugin modbus\n<Plugin modbus>\n%s%s</Plugin>\n'
            % (d, d, 1.0 / hz, data, hosts))
    path = os.path.join(d, "collectd.conf")
    with open(path, "w") as f:
        f.write(text)
    return path


def run_collectd(conf, d, port, n, hz, seconds, gateway):
    sim = gslib.Sim(conf)
    sim.wait_ready()
    cc = collectd_config(d, port, n, hz, gateway)
    p = subprocess.Popen(["collectd", "-f", "-C", cc], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(seconds)
    cpu = cpu_of(p.pid)
    p.terminate()
    p.wait(10)
    return cpu, sim_served(sim) // len(COLLECTD_FIELDS)


def run_raw(conf, port, n, hz, seconds, gateway):
    sim = gslib.Sim(conf)
    sim.wait_ready()
    r = subprocess.run([os.path.join(gslib.BUILD, "raw_modbus_loop"), "127.0.0.1", str(port),
                        str(n), str(hz), str(seconds), "6"] + (["gateway"] if gateway else []),
                       capture_output=True, text=True)
    served = sim_served(sim)
    m = re.search(r"([\d.]+) s CPU", r.stdout)
    return (float(m.group(1)) if m else float("nan")), served


def bench_tcp(args, gateway):
    n, hz = args.devices, args.hz
    port = gslib.free_port() + 100
    d, conf = gslib.scratch(tcp_config(port, n, hz, gateway))
    have_collectd = shutil.which("collectd") is not None
    results = {"gatescreend": [], "collectd": [], "raw libmodbus": []}
    print("tcp, %s: %d devices at %d Hz, %d s per run, %d runs each"
          % ("one gateway (1 bus, units 1..%d)" % n if gateway else
             "each device at its own address (%d buses)" % n, n, hz, args.seconds, args.repeat))
    for rep in range(args.repeat):
        runs = [("gatescreend", lambda: run_gatescreend(conf, args.seconds)),
                ("raw libmodbus", lambda: run_raw(conf, port, n, hz, args.seconds, gateway))]
        if have_collectd:
            runs.insert(1, ("collectd", lambda: run_collectd(conf, d, port, n, hz, args.seconds,
                                                             gateway)))
        for name, fn in runs:
            cpu, polls = fn()
            us = cpu * 1e6 / polls if polls else float("nan")
            results[name].append(us)
            print("  run %d %-14s %8d polls %7.2f s CPU %7.1f us/poll (%.1f polls/s)"
                  % (rep + 1, name, polls, cpu, us, polls / args.seconds))
    med = {k: statistics.median(v) for k, v in results.items() if v}
    print("tcp medians (us CPU per poll):")
    for k, v in med.items():
        print("  %-14s %7.1f" % (k, v))
    if "collectd" in med:
        print("  gatescreend / collectd = %.3f (target <= 0.1)" % (med["gatescreend"] / med["collectd"]))
    print("  gatescreend target <= 25 us per poll: %s" % ("met" if med["gatescreend"] <= 25 else "NOT met"))
    shutil.rmtree(d, ignore_errors=True)


def rtu_config(tty, n):
    out = ("[profile four]\nblock = 3:0:4\nbody_temp = 0 int16 0.01\nambient_temp = 1 int16 0.01\n"
           "status = 2 uint16\nsequence = 3 uint16\nstatus_valid = 0x1\nstatus_fault = 0x2\n"
           "status_present = 0x4\n"
           "[bus rs]\nserial = %s\nbaud = 9600\nparity = E\nresponse_timeout = 200ms\npause = 0ms\n"
           % tty)
    for i in range(n):
        out += ("[lane l%d]\ngate = g\nidentity = none\n[device d%d]\nbus = rs\nunit = %d\n"
                "profile = four\npoll = 10ms\nlane = l%d\n" % (i, i, i + 1, i))
    return school(out)


def bench_rtu(args):
    tmp = tempfile.mkdtemp(prefix="gs-bench-rtu-")
    a, b = os.path.join(tmp, "A"), os.path.join(tmp, "B")
    socat = subprocess.Popen(["socat", "pty,raw,echo=0,link=" + a, "pty,raw,echo=0,link=" + b],
                             stderr=subprocess.DEVNULL)
    gslib.wait_until(lambda: os.path.exists(a) and os.path.exists(b), 5)
    d, conf = gslib.scratch(rtu_config(a, 3))
    # 8-byte request + 13-byte reply (4 registers), 11 bits a character at 9600 baud,
    # and the 3.5-character silence that ends each of the two frames; the simulated
    # units answer with no turnaround of their own, so this is the wire's limit.
    char = 11 / 9600
    limit = 1 / ((21 + 2 * 3.5) * char)
    rates = []
    for rep in range(args.repeat):
        sim = gslib.Sim(conf, "--serial", "rs=" + b, "--wire-timing", "--turnaround", "0")
        sim.wait_ready()
        dm = gslib.Daemon(conf)
        dm.wait_for("ready:")
        time.sleep(2)
        n0 = len(dm.text())
        dm.send(signal.SIGUSR1)
        gslib.wait_until(lambda: len(POLLS.findall(dm.text()[n0:])) >= 3, 5)
        a0 = {m[0]: (int(m[2]), int(m[3])) for m in POLLS.findall(dm.text()[n0:])}
        time.sleep(min(args.seconds, 20))
        n1 = len(dm.text())
        dm.send(signal.SIGUSR1)
        gslib.wait_until(lambda: len(POLLS.findall(dm.text()[n1:])) >= 3, 5)
        a1 = {m[0]: (int(m[2]), int(m[3])) for m in POLLS.findall(dm.text()[n1:])}
        dm.stop()
        sim.kill(signal.SIGTERM)
        tps = sum((a1[k][0] - a0[k][0]) * 1000.0 / (a1[k][1] - a0[k][1]) for k in a1)
        rates.append(tps)
        print("  run %d: %.1f transactions/s (wire limit %.1f/s): %.0f%%"
              % (rep + 1, tps, limit, 100 * tps / limit))
    m = statistics.median(rates)
    print("rtu median: %.1f transactions/s = %.0f%% of the wire limit %.1f/s (target >= 90%%)"
          % (m, 100 * m / limit, limit))
    socat.terminate()
    shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("which", nargs="?", default="all",
                    choices=["tcp", "tcp-devices", "tcp-gateway", "rtu", "all"])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--devices", type=int, default=16)
    ap.add_argument("--hz", type=int, default=20)
    args = ap.parse_args()
    if args.which in ("tcp", "tcp-devices", "all"):
        bench_tcp(args, gateway=False)
    if args.which in ("tcp", "tcp-gateway", "all"):
        bench_tcp(args, gateway=True)
    if args.which in ("rtu", "all"):
        bench_rtu(args)


if __name__ == "__main__":
    main()
