#!/usr/bin/env python3
"""What a gate controller's CPU and memory would be (issue 20), run on demand; prints
its figures.

The load: 8 lanes, each with an infrared unit at its own Modbus TCP address, polled at
20 Hz (160 polls a second), served by gatescreen-sim on 127.0.0.1. Three runs of it,
each `--repeat` times, medians quoted:

  native    the build machine's gatescreend: CPU (user and system) per second and per
            poll, resident memory (VmRSS, VmHWM).
  qemu      the arm64 gatescreend under qemu-user (make test-arm64 builds it): the same
            figures, which are qemu's (its translation and its own memory), NOT an ARM
            board's; printed to show how far off they are.
  callgrind the native gatescreend under valgrind's callgrind, counters zeroed once it is
            ready: user-space instructions per poll (the kernel's share is not counted).

The Raspberry Pi 4 estimate (Cortex-A72 at 1.5 GHz) is made from the instruction count:
user time = instructions / (1.5 GHz x IPC), with IPC 0.7 to 1.3 for this branchy,
syscall-heavy code (arm64 code takes about as many instructions as x86-64 for it;
the range covers the difference too); the kernel's time (sockets, epoll, timers) is the
native on-CPU time less that of the user-space instructions, scaled by the x86 core's clock over the A72's and a per-clock factor of
2 to 3 (an A72 does less per clock than a current x86 core). Memory: arm64 is LP64 like
x86-64, so the native resident set is the estimate.

  python3 tests/bench/bench_arm.py [--seconds 20] [--repeat 3] [--ghz-x86 GHZ]
Needs valgrind; the qemu run needs build-arm64 (make test-arm64)."""
import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "../integration"))
sys.path.insert(0, HERE)
import bench_modbus  # noqa: E402
import gslib  # noqa: E402

LANES, HZ = 8, 20
PI4_GHZ = 1.5


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M)
    return int(m.group(1)) if m else 0


def cpu_split(pid):
    """(user, system) seconds of a process."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) / bench_modbus.TICK, int(fields[12]) / bench_modbus.TICK


def on_cpu(pid):
    """Seconds every thread of a process has run, in nanoseconds' precision
    (/proc/PID/task/*/schedstat; the user/system split above ticks at 10 ms)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            pass  # a thread that ended in between
    return total / 1e9


def polls_now(dm):
    """The daemon's good polls so far, from its counters (SIGUSR1)."""
    n0 = len(dm.text())
    dm.send(signal.SIGUSR1)
    gslib.wait_until(lambda: len(bench_modbus.POLLS.findall(dm.text()[n0:])) >= LANES, 10)
    return sum(int(m[2]) for m in bench_modbus.POLLS.findall(dm.text()[n0:]))


def config():
    port = gslib.free_port()
    return gslib.scratch(bench_modbus.tcp_config(port, LANES, HZ, gateway=False))


def run(seconds, build=None, wrap=None):
    """One run: (user s/s, system s/s, polls/s, VmRSS kB, VmHWM kB, on-CPU s/s)."""
    d, conf = config()
    sim = gslib.Sim(conf)
    sim.wait_ready()
    daemon = os.path.join(build, "gatescreend") if build else gslib.DAEMON
    log = open(conf + ".log", "w")
    proc = subprocess.Popen([*(wrap or []), daemon, "-f", "-c", conf], stdout=log,
                            stderr=subprocess.STDOUT)
    dm = gslib.Daemon.__new__(gslib.Daemon)
    dm.log_path, dm.log, dm.proc = conf + ".log", log, proc
    dm.wait_for("ready:", timeout=60)
    time.sleep(2)  # past the start
    p0, (u0, s0), c0, t0 = polls_now(dm), cpu_split(proc.pid), on_cpu(proc.pid), time.monotonic()
    time.sleep(seconds)
    p1, (u1, s1), c1, t1 = polls_now(dm), cpu_split(proc.pid), on_cpu(proc.pid), time.monotonic()
    rss, hwm = status_kb(proc.pid, "VmRSS"), status_kb(proc.pid, "VmHWM")
    dm.stop()
    sim.kill(signal.SIGTERM)
    shutil.rmtree(d, ignore_errors=True)
    dt = t1 - t0
    return (u1 - u0) / dt, (s1 - s0) / dt, (p1 - p0) / dt, rss, hwm, (c1 - c0) / dt


def run_callgrind(seconds):
    """User-space instructions per poll, counted between two SIGUSR1 snapshots."""
    d, conf = config()
    sim = gslib.Sim(conf)
    sim.wait_ready()
    out = os.path.join(d, "callgrind.out")
    log = open(conf + ".log", "w")
    proc = subprocess.Popen(["valgrind", "--tool=callgrind", "--callgrind-out-file=" + out + ".%p",
                             gslib.DAEMON, "-f", "-c", conf], stdout=log, stderr=subprocess.STDOUT,
                            cwd=d)
    dm = gslib.Daemon.__new__(gslib.Daemon)
    dm.log_path, dm.log, dm.proc = conf + ".log", log, proc
    dm.wait_for("ready:", timeout=120)
    time.sleep(2)
    subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, cwd=d)
    p0 = polls_now(dm)
    time.sleep(seconds)
    p1 = polls_now(dm)
    subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, cwd=d)
    time.sleep(1)
    dm.stop(timeout=60)
    sim.kill(signal.SIGTERM)
    dumps = sorted(f for f in os.listdir(d) if f.startswith("callgrind.out.") and
                   f.count(".") == 3)  # callgrind.out.PID.N: the -d dump
    instr = 0
    for name in dumps[:1]:
        with open(os.path.join(d, name)) as f:
            m = re.search(r"^(?:summary|totals): (\d+)", f.read(), re.M)
            instr = int(m.group(1)) if m else 0
    shutil.rmtree(d, ignore_errors=True)
    polls = p1 - p0
    return instr / polls if polls > 0 else 0.0, polls / seconds


def median(rows, i):
    return statistics.median(r[i] for r in rows)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ghz-x86", type=float, default=0,
                    help="this machine's core clock (default: from /proc/cpuinfo)")
    args = ap.parse_args()
    ghz = args.ghz_x86
    if not ghz:
        with open("/proc/cpuinfo") as f:
            mhz = re.findall(r"^cpu MHz\s*:\s*([0-9.]+)", f.read(), re.M)
        ghz = float(mhz[0]) / 1000 if mhz else 2.5
    arm = os.environ.get("GS_ARM64_BUILD", os.path.join(gslib.SOURCE, "build-arm64"))
    rows = {"native": [], "qemu": []}
    calls = []
    for _ in range(args.repeat):
        rows["native"].append(run(args.seconds))
        if os.path.exists(os.path.join(arm, "gatescreend")):
            rows["qemu"].append(run(args.seconds, build=arm, wrap=["qemu-aarch64", "-L", "/"]))
        calls.append(run_callgrind(args.seconds))
    print("load: %d lanes, Modbus TCP each, %d Hz (%d polls/s asked); %d runs of %.0f s, "
          "medians" % (LANES, HZ, LANES * HZ, args.repeat, args.seconds))
    for name, r in rows.items():
        if not r:
            print("%-9s (no build at %s: make test-arm64)" % (name, arm))
            continue
        user, sys_, polls, cpu = median(r, 0), median(r, 1), median(r, 2), median(r, 5)
        print("%-9s CPU %.2f%% of a core (ticks: user %.2f%%, system %.2f%%), %.1f us/poll, "
              "%.0f polls/s, VmRSS %d kB, VmHWM %d kB" %
              (name, 100 * cpu, 100 * user, 100 * sys_, 1e6 * cpu / polls if polls else 0,
               polls, median(r, 3), median(r, 4)))
    ipp = statistics.median(c[0] for c in calls)
    print("callgrind %.0f user-space instructions/poll (%.0f polls/s under valgrind)" %
          (ipp, statistics.median(c[1] for c in calls)))
    polls_s = LANES * HZ
    user_lo = ipp * polls_s / (PI4_GHZ * 1e9 * 1.3)
    user_hi = ipp * polls_s / (PI4_GHZ * 1e9 * 0.7)
    # The kernel's native share: the precise on-CPU time less the user-space
    # instructions' time on this core (IPC 1); the tick split is too coarse for it.
    sys_native = max(0.0, median(rows["native"], 5) - ipp * polls_s / (ghz * 1e9))
    sys_lo = sys_native * ghz / PI4_GHZ * 2.0
    sys_hi = sys_native * ghz / PI4_GHZ * 3.0
    print("Pi 4 estimate (A72 %.1f GHz; x86 core %.2f GHz): user %.2f-%.2f%%, kernel "
          "%.2f-%.2f%%, total %.1f-%.1f%% of one core; memory about the native VmRSS, %d kB" %
          (PI4_GHZ, ghz, 100 * user_lo, 100 * user_hi, 100 * sys_lo, 100 * sys_hi,
           100 * (user_lo + sys_lo), 100 * (user_hi + sys_hi), median(rows["native"], 3)))


if __name__ == "__main__":
    main()
