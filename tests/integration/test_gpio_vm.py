"""GPIO on the real kernel GPIO subsystem (issue 6): boots Debian's kernel in QEMU
with gpio-sim (tests/vm/), and runs the real gatescreend there against a simulated
GPIO chip, with gatescreen-sim serving its Modbus devices on the VM's loopback.

The job (tests/vm/gpio_vm_job.sh) drives Wiegand frames and a presence sensor
from the sim side and reads the lights back from the sim side; its checks come
back as "ok"/"not ok" lines. Here we also check, from the kernel's gpio_value
trace (every line write, kernel time): the lamp test order, the blink period, the
buzzer's length, that the soft lane's relay was never driven and the safe state
at stop; and from the ledger the VM hands back: the cards decoded (26- and
34-bit), the noise that made no row, the fever, the presence measurement.

Every decision is shown once: admit, fever, invalid, unknown card, no identity,
see the nurse, no measurement. Lanes: L1 (Wiegand, enforce hard, lines by name,
active-low buzzer), L2 (Wiegand, enforce soft, lines by CHIP:OFFSET), L3 (presence
sensor, a profile without a presence bit, identity none)."""
import base64
import datetime
import os
import re
import sqlite3
import statistics
import sys
import tempfile

import gslib
from gslib import check

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "vm"))
import vm  # noqa: E402

JOB = os.path.join(HERE, "..", "vm", "gpio_vm_job.sh")
VMGPIO = os.path.join(gslib.BUILD, "tests", "vmgpio")
JOB_CHECKS = 58  # the job's ok/not ok lines: fewer means it stopped or skipped some

ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,659060,1
S2,student,李四,一年级,一年级1班,3000000000,1
S3,student,王五,一年级,一年级2班,1001,1
S4,student,赵六,一年级,一年级2班,16777217,1
S5,student,钱七,二年级,二年级1班,2002,1
"""

# Line offsets on the job's chip, in its order.
LINES = ["L1_GREEN", "L1_AMBER", "L1_RED", "L1_BUZZER", "L1_RELAY", "L1_D0", "L1_D1",
         "L2_GREEN", "L2_AMBER", "L2_RED", "L2_BUZZER", "L2_RELAY", "L2_D0", "L2_D1",
         "L3_GREEN", "L3_AMBER", "L3_RED", "L3_BEAM"]


def config(zone, now):
    start = now - datetime.timedelta(minutes=10)
    end = now + datetime.timedelta(minutes=50)
    return """\
[school]
code = GPIOVM
name = 虚拟机学校
timezone = %s
[ledger]
database = ledger.db
[windows]
morning = %s-%s
days = mon-sun
[screening]
identity_required = yes
pair_window = 3s
hold_admit = 1500ms
hold_fever = 3s
buzzer = 1s
hold_deny = 1500ms
hold_invalid = 1500ms
hold_nurse = 1500ms
hold_no_measurement = 1500ms
blink_period = 400ms
[gpio]
lamp_test = 200ms
presence_debounce = 30ms
# A sysfs pull write takes 0.2-0.5 ms under TCG: pulses are that long and bits
# about 3 ms apart, so the limits are wider than a real reader's.
wiegand_pulse_min = 1ms
wiegand_pulse_max = 50ms
wiegand_interval_min = 1500us
wiegand_frame_gap = 150ms
[bus gw]
tcp = 127.0.0.1:1502
response_timeout = 300ms
[profile plain]
block = 3:0:1
body_temp = 0 int16 0.01
[device ir-1]
bus = gw
unit = 1
lane = L1
poll = 100ms
[device ir-2]
bus = gw
unit = 2
lane = L2
poll = 100ms
[device py-3]
bus = gw
unit = 3
profile = plain
lane = L3
poll = 100ms
[lane L1]
gate = 东门
identity = wiegand
indicator = gpio
enforce = hard
green = L1_GREEN
amber = L1_AMBER
red = L1_RED
buzzer = L1_BUZZER active-low
relay = L1_RELAY
wiegand_d0 = L1_D0
wiegand_d1 = L1_D1
[lane L2]
gate = 东门
identity = wiegand
indicator = gpio
enforce = soft
green = @CHIP@:7
amber = @CHIP@:8
red = @CHIP@:9
buzzer = @CHIP@:10
relay = @CHIP@:11
wiegand_d0 = @CHIP@:12
wiegand_d1 = @CHIP@:13
[lane L3]
gate = 北门
identity = none
indicator = gpio
green = L3_GREEN
amber = L3_AMBER
red = L3_RED
presence = L3_BEAM
""" % (zone, gslib.hhmm(start), gslib.hhmm(end))


def section(out, name):
    m = re.search(r"^BEGIN-%s\n(.*?)^END-%s$" % (name, name), out, re.S | re.M)
    return m.group(1) if m else ""


def prepare():
    zone, now = gslib.school_zone(9)
    d = tempfile.mkdtemp(prefix="gs-vm-")
    conf = os.path.join(d, "gs.conf")
    with open(conf, "w", encoding="utf-8") as f:
        f.write(config(zone, now).replace("@CHIP@", "gpiochip0"))  # for the host's CLI
    with open(conf + ".in", "w", encoding="utf-8") as f:
        f.write(config(zone, now))
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "roster imported on the host: " + r.stderr.strip())
    zonefile = "/usr/share/zoneinfo/" + zone
    files = {conf + ".in": "/root/gs.conf.in", os.path.join(d, "ledger.db"): "/root/ledger.db",
             zonefile: zonefile}
    return d, files


def trace_events(out):
    """[(seconds, gpio number, value)] of the gpio_value 'set' events."""
    ev = []
    for m in re.finditer(r"\s(\d+\.\d+): gpio_value: (\d+) set (\d)", section(out, "TRACE")):
        ev.append((float(m.group(1)), int(m.group(2)), int(m.group(3))))
    return ev


def chip_base(out):
    text = section(out, "GPIO")
    chip = re.search(r"^chip (\S+)", text, re.M)
    m = re.search(r"^%s: GPIOs (\d+)-\d+" % re.escape(chip.group(1)) if chip else "^$", text, re.M)
    if not m:
        m = re.search(r"^class gs\S* base (\d+)", text, re.M)
    return int(m.group(1)) if m else None


def marks(out):
    """The job's marks in the trace: {name: kernel trace time}."""
    return {m.group(2): float(m.group(1))
            for m in re.finditer(r"\s(\d+\.\d+): tracing_mark_write: GS (\S+)",
                                 section(out, "TRACE"))}


def check_trace(out):
    ev = trace_events(out)
    base = chip_base(out)
    check(len(ev) > 50 and base is not None,
          "kernel trace of line writes: %d events, chip base %s" % (len(ev), base))
    if base is None:
        return
    num = {name: base + i for i, name in enumerate(LINES)}
    mk = marks(out)

    def writes(line, t0=0.0, t1=1e12):
        return [(t, v) for t, n, v in ev if n == num[line] and t0 <= t < t1]

    # Lamp test: green, amber, red (+ buzzer) on every lane, before anything else.
    first = [(t, n, v) for t, n, v in ev if v == 1 and n in
             (num["L1_GREEN"], num["L1_AMBER"], num["L1_RED"])][:3]
    order = [LINES[n - base] for _, n, _ in first]
    check(order == ["L1_GREEN", "L1_AMBER", "L1_RED"], "lamp test order %s" % order)
    if len(first) == 3:
        steps = [first[1][0] - first[0][0], first[2][0] - first[1][0]]
        check(all(0.15 <= s <= 0.6 for s in steps),
              "lamp test steps about 200 ms: %s" % ["%.0f ms" % (s * 1000) for s in steps])
        buzz = writes("L1_BUZZER", first[2][0] - 0.05, first[2][0] + 0.05)
        check(buzz[-1:] == [(buzz[-1][0], 0)] if buzz else False,
              "lamp test sounds the active-low buzzer with red (raw 0): %s" % buzz)

    # Soft lane: its relay line is never requested, so never written.
    check(writes("L2_RELAY") == [], "L2 relay (enforce = soft) never driven")
    # Hard lane: the relay is energised only inside a green (an admit), never with
    # red, amber or alone; the lamp test never moves it.
    state, bad, on_count = {}, [], 0
    for t, n, v in ev:
        state[n] = v
        if n == num["L1_RELAY"] and v == 1:
            on_count += 1
            if state.get(num["L1_GREEN"]) != 1 or state.get(num["L1_RED"]) == 1:
                bad.append(t)
        if n == num["L1_GREEN"] and v == 0 and state.get(num["L1_RELAY"]) == 1:
            bad.append(t)
    check(on_count >= 3 and not bad,
          "L1 relay (enforce = hard) on only while green: %d times, violations at %s" %
          (on_count, bad))

    # Blink: L2 amber while ir-2 was silent; half periods of blink_period / 2.
    after_test = first[2][0] + 0.5 if len(first) == 3 else 0
    amber = writes("L2_AMBER", after_test, mk.get("stop", 1e12))
    toggles = [t for t, _ in amber]
    gaps = [b - a for a, b in zip(toggles, toggles[1:])]
    blink = [g for g in gaps if g < 0.35]
    med = statistics.median(blink) if blink else 0
    check(len(blink) >= 6 and 0.17 <= med <= 0.26,
          "L2 amber blinks every 200 ms: %d half periods, median %.0f ms" % (len(blink), med * 1000))

    # Buzzer: on with the fever, off buzzer = 1s later.
    bz = writes("L2_BUZZER", after_test, mk.get("stop", 1e12))
    on = [t for t, v in bz if v == 1]
    off = [t for t, v in bz if v == 0 and on and t > on[0]]
    length = off[0] - on[0] if on and off else -1
    check(0.9 <= length <= 1.3, "L2 buzzer sounds %.0f ms (buzzer = 1s)" % (length * 1000))

    # Safe state at stop: the last write to each light before the daemon exited.
    check("stop" in mk and "stopped" in mk, "marks in the trace: %s" % mk)
    if "stop" in mk and "stopped" in mk:
        want = {"L1_GREEN": 0, "L1_AMBER": 1, "L1_RED": 0, "L1_BUZZER": 1, "L1_RELAY": 0,
                "L2_GREEN": 0, "L2_AMBER": 1, "L2_RED": 0, "L2_BUZZER": 0,
                "L3_GREEN": 0, "L3_AMBER": 1, "L3_RED": 0}
        last = {}
        for line in want:
            w = writes(line, 0, mk["stopped"])
            last[line] = w[-1][1] if w else None
        check(last == want, "safe state at stop (raw levels; L1 buzzer active-low): %s" % last)
        stop_writes = [w for line in want for w in writes(line, mk["stop"], mk["stopped"])]
        check(len(stop_writes) > 0, "the stop wrote the safe state (%d writes)" % len(stop_writes))


def check_ledger(d, out):
    data = base64.b64decode(section(out, "LEDGER"))
    check(len(data) > 4096, "ledger handed back from the VM (%d bytes)" % len(data))
    db = os.path.join(d, "ledger-from-vm.db")
    with open(db, "wb") as f:
        f.write(data)
    with open(db + "-wal", "wb") as f:  # the crash left the last decision in the WAL
        f.write(base64.b64decode(section(out, "WAL")))
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT l.name, p.external_id, r.card_no, r.body_centi, r.outcome FROM readings r"
        " JOIN lanes l ON l.id = r.lane_id LEFT JOIN people p ON p.id = r.person_id"
        " ORDER BY r.id").fetchall()
    integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
    con.close()
    check(integrity == "ok", "ledger integrity: %s" % integrity)
    want = [("L1", "S1", 659060, 3660, "admit"),
            ("L2", "S2", 3000000000, 3640, "admit"),
            ("L1", "S3", 1001, 3650, "admit"),
            ("L2", "S4", 16777217, 3840, "fever"),
            ("L1", "S5", 2002, 3670, "admit"),
            ("L1", None, 99999, 3650, "unknown_card"),
            ("L1", "S3", 1001, 3400, "invalid"),
            ("L1", "S3", 1001, 3650, "admit"),
            ("L1", "S4", 16777217, 3650, "see_nurse"),
            ("L2", "S5", 2002, None, "no_measurement"),
            ("L3", None, None, 3680, "no_identity"),
            ("L1", "S1", 659060, 3660, "admit")]
    check(sorted(rows, key=str) == sorted(want, key=str),
          "ledger rows are the decisions, nothing from the noise:\n  %s" %
          "\n  ".join(map(str, rows)))
    l1 = [r for r in rows if r[0] == "L1"]
    check([r[1] for r in l1] == ["S1", "S3", "S5", None, "S3", "S3", "S4", "S1"],
          "L1 in order: %s" % l1)


def built_gpiod_api():
    """The shim CMake chose for this build (1: libgpiod 1.6, 2: libgpiod 2.x)."""
    with open(os.path.join(gslib.BUILD, "CMakeCache.txt"), encoding="utf-8") as f:
        m = re.search(r"^GPIOD_VERSION:INTERNAL=(\d+)", f.read(), re.M)
    return "2" if m and int(m.group(1)) >= 2 else "1"


def main():
    d, files = prepare()
    programs = [os.path.join(gslib.BUILD, p) for p in ("gatescreend", "gatescreen-sim")]
    programs.append(VMGPIO)
    with open(JOB, encoding="utf-8") as f:
        job = f.read()
    # The sanitizer build's settings go into the VM too (make test-sanitize sets them).
    env = {k: os.environ[k] for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS") if k in os.environ}
    r = vm.run(job, programs=programs, files=files, env=env, timeout=float(os.environ.get(
        "GS_VM_TIMEOUT", "240")), memory=int(os.environ.get("GS_VM_MEMORY", "512")))
    out = r.job_output
    with open(os.path.join(d, "vm-console.txt"), "w", encoding="utf-8") as f:
        f.write(r.output)
    print("VM: %.1f s, job exit %s, console in %s" % (r.seconds, r.rc, d))
    for line in re.findall(r"^OBSERVED .*$", out, re.M):
        print(line)
    for line in out.splitlines():
        if re.match(r"^(not )?ok \d+ - ", line):
            check(line.startswith("ok"), "vm: " + line.split(" - ", 1)[1])
    m = re.search(r"^CHECKS (\d+) FAILED (\d+)", out, re.M)
    check(m is not None and int(m.group(1)) == JOB_CHECKS and m.group(2) == "0",
          "the VM job ran to its end: %s" % (m.group(0) if m else "no CHECKS line"))
    if r.rc != 0 or m is None:
        print(re.sub(r"^BEGIN-(LEDGER|WAL)$.*?^END-\1$", "", r.output, flags=re.S | re.M)[-8000:])
    check_trace(out)
    check_ledger(d, out)
    log = section(out, "LOG")
    api = re.search(r"GPIO: (libgpiod \S+ \(uAPI v(\d)\))", log)
    check(api is not None and api.group(2) == built_gpiod_api(),
          "the daemon runs the libgpiod API it was built for (v%s): %s" %
          (built_gpiod_api(), api.group(1) if api else "none"))
    check("runtime error" not in log and "Sanitizer" not in log,
          "no sanitizer report in the daemon's log")
    for w in ["lane L2: Wiegand cards 3, events lost 0", "lane L3: presence arrivals 1"]:
        check(w in log, "daemon's counters at stop: " + w)
    m = re.search(r"lane L1: Wiegand cards (\d+), events lost (\d+); noise (.*)", log)
    noise = {k: int(v) for k, v in re.findall(r"([a-z ]+?) (\d+)(?:, |$)", m.group(3))} if m else {}
    check(m is not None and m.group(1) == "6" and m.group(2) == "0" and
          sum(noise.values()) == 3 and noise.get("bad parity") == 1,
          "L1's counters at stop: 6 cards, 3 noise frames, none lost: %s" % (m and m.group(0)))
    gslib.finish()


if __name__ == "__main__":
    main()
