"""gatescreen-sim on its own, spoken to by tiny Modbus clients written here
(socket + struct for TCP, raw termios on a socat pty pair for RTU): registers
after each command exact, unknown units silent, exceptions, silence, flapping, slowness,
broken frames, RTU framing after a request for another unit (libmodbus #83),
wire timing, scenario files, the random morning, clean exits."""
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import tty

import gslib

BUILD = os.environ.get("GS_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SIM = os.path.join(BUILD, "gatescreen-sim")

failures = 0
scratch_dirs = []  # removed at the end when every check passed


def check(cond, what):
    global failures
    if not cond:
        failures += 1
    print(("ok - " if cond else "FAIL - ") + what)
    sys.stdout.flush()




def wait_until(pred, timeout=5.0, step=0.01):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


COMMON = """\
[school]
code = T900
name = 模拟器测试
[ledger]
database = ledger.db
[windows]
morning = 07:00-08:30
[lane a]
gate = 东门
identity = device
[lane b]
gate = 东门
identity = none
# a light barrier: profiles without a presence bit (milli) need one
presence = BEAM_B
"""


def scratch(text):
    d = tempfile.mkdtemp(prefix="gs-sim-")
    scratch_dirs.append(d)
    path = os.path.join(d, "sim.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(COMMON + text)
    return d, path


class Sim:
    """gatescreen-sim driven through stdin; stdout and stderr kept in files."""

    def __init__(self, conf, *extra):
        self.out_path, self.err_path = conf + ".out", conf + ".err"
        self.out, self.err = open(self.out_path, "w"), open(self.err_path, "w")
        self.proc = subprocess.Popen([SIM, "-c", conf, *extra], stdin=subprocess.PIPE,
                                     stdout=self.out, stderr=self.err, text=True)

    def lines(self):
        with open(self.out_path, encoding="utf-8") as f:
            return f.read().splitlines()

    def stderr(self):
        with open(self.err_path, encoding="utf-8") as f:
            return f.read()

    def ready(self):
        return wait_until(lambda: "ready" in self.lines() or self.proc.poll() is not None,
                          10) and "ready" in self.lines()

    def cmd(self, line):
        n = len(self.lines())
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        if not wait_until(lambda: len(self.lines()) > n, 5):
            return None
        return self.lines()[n]

    def stop(self, sig=signal.SIGTERM):
        """Returns (exit status, seconds to exit)."""
        t0 = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.out.close()
        self.err.close()
        return rc, time.monotonic() - t0


# ---- Modbus TCP --------------------------------------------------------------

class Tcp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=2)
        self.tid = 0x100

    def close(self):
        self.s.close()

    def send(self, unit, pdu):
        self.tid += 1
        self.s.sendall(struct.pack(">HHHB", self.tid, 0, len(pdu) + 1, unit) + pdu)

    def recv_raw(self, timeout):
        """Every byte that arrives within timeout, and when the last came."""
        data, last, end = b"", None, time.monotonic() + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.monotonic()))
            if not r:
                break
            chunk = self.s.recv(1024)
            if not chunk:
                break
            data, last = data + chunk, time.monotonic()
        return data, last

    def _exact(self, n, end):
        data = b""
        while len(data) < n:
            r, _, _ = select.select([self.s], [], [], max(0.0, end - time.monotonic()))
            if not r:
                return None
            chunk = self.s.recv(n - len(data))
            if not chunk:
                return None
            data += chunk
        return data

    def request(self, unit, pdu, timeout=1.0):
        """The reply PDU, or None when nothing (complete) came within timeout."""
        self.send(unit, pdu)
        end = time.monotonic() + timeout
        hdr = self._exact(7, end)
        if hdr is None:
            return None
        tid, proto, length, u = struct.unpack(">HHHB", hdr)
        body = self._exact(length - 1, end)
        if tid != self.tid or proto != 0 or u != unit or body is None:
            return ("bad", hdr, body)
        return body

    def read(self, unit, address, count, fn=3, timeout=1.0):
        """Registers, ('exc', code), or None for no reply."""
        return decode(self.request(unit, struct.pack(">BHH", fn, address, count), timeout), fn)


def decode(pdu, fn):
    if pdu is None or isinstance(pdu, tuple):
        return pdu
    if pdu[0] == fn | 0x80:
        return ("exc", pdu[1])
    n = pdu[1] // 2
    return list(struct.unpack(">%dH" % n, pdu[2:2 + 2 * n]))


TCP_CONFIG = """\
[bus gw]
tcp = 127.0.0.1:%d
[device ir-1]
bus = gw
unit = 1
lane = a
[device py-2]
bus = gw
unit = 2
profile = pyrometer
lane = b
"""


def tcp_registers(port):
    d, conf = scratch(TCP_CONFIG % port)
    sim = Sim(conf)
    check(sim.ready(), "tcp: simulator ready")
    c = Tcp(port)
    check(c.read(1, 0, 6) == [0, 2500, 0, 0, 0, 0], "tcp: start values (ambient 25.00)")
    check(sim.cmd("arrive ir-1 temp=36.6 card=123456 ambient=24.5") == "ok", "tcp: arrive ok")
    check(c.read(1, 0, 6) == [3660, 2450, 0x5, 1, 0xE240, 0x0001],
          "tcp: arrive sets temp, ambient, valid+present, sequence 1, card 123456")
    sim.cmd("arrive ir-1 temp=37.25")
    check(c.read(1, 0, 6) == [3725, 2450, 0x5, 2, 0, 0], "tcp: arrive without card: card 0")
    sim.cmd("invalid ir-1 temp=45.2 card=7")
    check(c.read(1, 0, 6) == [4520, 2450, 0x4, 3, 7, 0], "tcp: invalid: present, not valid")
    sim.cmd("fault ir-1 for 500ms")
    r = c.read(1, 2, 2)
    check(r == [0x6, 4], "tcp: fault bit, sequence 4: %s" % (r,))
    time.sleep(0.6)
    check(c.read(1, 2, 1) == [0x4], "tcp: fault bit cleared after its duration")
    sim.cmd("leave ir-1")
    check(c.read(1, 2, 2) == [0x0, 4], "tcp: leave clears presence, sequence unchanged")

    # The Calex map: 0x13 object, 0x14 sensor (ambient), 0x15 status, x0.1 °C.
    check(c.read(2, 0x13, 3) == [220, 250, 0], "tcp: pyrometer start values x0.1 (wall 22.0)")
    sim.cmd("arrive py-2 temp=37.4 ambient=-5")
    check(c.read(2, 0x0F, 7)[4:] == [374, (-50) & 0xFFFF, 0],
          "tcp: pyrometer arrive: object 0x13 x0.1, sensor 0x14, status 0x15 clear")
    time.sleep(1.2)
    check(c.read(2, 0x13, 1) == [220], "tcp: pyrometer back to the wall after 1 s")
    sim.cmd("invalid py-2 temp=36.0")
    check(c.read(2, 0x13, 3) == [360, (-50) & 0xFFFF, 0x1],
          "tcp: pyrometer invalid: measurement error bit (0x15 bit 0)")
    time.sleep(1.2)
    check(c.read(2, 0x13, 3)[::2] == [220, 0], "tcp: pyrometer error ends with the person")

    check(c.read(1, 6, 1) == ("exc", 2), "tcp: address outside the profile: exception 2")
    check(c.read(2, 0x0E, 1) == ("exc", 2),
          "tcp: address before the pyrometer's block: exception 2")
    check(c.read(1, 0, 1, fn=4) == ("exc", 2), "tcp: function 4 where the profile has 3")
    check(decode(c.request(1, struct.pack(">BHH", 6, 0, 1)), 6) == ("exc", 1),
          "tcp: write: exception 1")
    check(c.read(1, 0, 0) == ("exc", 3), "tcp: read of 0 registers: exception 3")
    c.close()
    return sim


def tcp_conditions(sim, port):
    c, other = Tcp(port), Tcp(port)
    check(c.read(3, 0, 1, timeout=0.3) is None, "tcp: unit 3 (not configured): no reply in 300 ms")
    check(c.read(1, 3, 1) == [4], "tcp: unit 1 answers on the same connection after that")

    sim.cmd("exception ir-1 4 for 500ms")
    check(c.read(1, 0, 1) == ("exc", 4), "tcp: exception 4 while asked for")
    check(other.read(2, 0x14, 1) == [(-50) & 0xFFFF], "tcp: the other unit is unaffected")
    time.sleep(0.6)
    check(c.read(1, 3, 1) == [4], "tcp: normal again after the exception period")

    sim.cmd("silent ir-1 700ms")
    check(c.read(1, 0, 1, timeout=0.3) is None, "tcp: silent: no reply")
    check(other.read(2, 0x14, 1) == [(-50) & 0xFFFF],
          "tcp: the other unit answers while one is silent")
    time.sleep(0.5)
    check(c.read(1, 3, 1) == [4], "tcp: answers again after the silence")

    # flap 300ms/300ms: answers for 300 ms, silent for 300 ms, in turn.
    check(sim.cmd("flap ir-1 300ms/300ms for 2s") == "ok", "tcp: flap accepted")
    t0 = time.monotonic()
    seen = []
    while time.monotonic() - t0 < 1.15:
        phase = (time.monotonic() - t0) % 0.6
        if 0.05 < phase < 0.25 or 0.35 < phase < 0.55:
            answered = c.read(1, 3, 1, timeout=0.05) is not None
            seen.append((phase < 0.3, answered))
        time.sleep(0.02)
    wrong = [x for x in seen if x[0] != x[1]]
    check(len(seen) > 10 and not wrong, "tcp: flap: answers in its up phases only (%d reads, "
          "%d wrong)" % (len(seen), len(wrong)))
    sim.cmd("clear ir-1")
    time.sleep(0.1)
    check(c.read(1, 3, 1) == [4], "tcp: clear ends a flap")
    r = sim.cmd("flap ir-1 300ms")
    check(r is not None and r.startswith("error:"), "flap without UP/DOWN: %s" % r)

    sim.cmd("slow ir-1 400ms for 3s")
    t0 = time.monotonic()
    c.send(1, struct.pack(">BHH", 3, 3, 1))
    t1 = time.monotonic()
    check(other.read(2, 0x14, 1) == [(-50) & 0xFFFF] and time.monotonic() - t1 < 0.2,
          "tcp: a slow unit does not hold up the other")
    body, last = c.recv_raw(1.0)
    dt = (last or t0) - t0
    check(len(body) == 11 and 0.39 <= dt < 0.6, "tcp: slow: reply after %.0f ms (400 asked)"
          % (dt * 1000))
    sim.cmd("clear ir-1")
    c.close()
    other.close()


def tcp_malformed(sim, port):
    sim.cmd("malformed ir-1 for 2s")
    kinds = []
    for _ in range(3):
        c = Tcp(port)
        c.send(1, struct.pack(">BHH", 3, 0, 6))
        kinds.append(c.recv_raw(0.3)[0])
        c.close()
    bc, tr, tid = kinds
    check(len(bc) > 9 and bc[8] == 14 and len(bc) == 9 + 14, "tcp: malformed: wrong byte count")
    check(len(tr) > 9 and tr[8] == 12 and len(tr) < 9 + 12, "tcp: malformed: truncated frame")
    check(len(tid) == 9 + 12 and tid[:2] != struct.pack(">H", 0x101),
          "tcp: malformed: wrong transaction id")
    sim.cmd("clear ir-1")
    c = Tcp(port)
    check(c.read(1, 3, 1) == [4], "tcp: clear ends every condition")
    c.close()


def tcp_errors_and_quit(sim):
    r = sim.cmd("arrive nosuch temp=36.6")
    check(r is not None and r.startswith("error:") and "nosuch" in r, "stdin: unknown device: %s" % r)
    r = sim.cmd("arrive ir-1")
    check(r is not None and r.startswith("error:"), "stdin: arrive without temp: %s" % r)
    r = sim.cmd("exception ir-1 99")
    check(r is not None and r.startswith("error:"), "stdin: bad exception code: %s" % r)
    check(sim.cmd("quit") == "ok", "stdin: quit ok")
    rc, dt = sim.stop()
    check(rc == 0 and dt < 2, "tcp: quit exits 0 (%s, %.1f s)" % (rc, dt))
    err = sim.stderr()
    check("device ir-1 (bus gw unit 1): served" in err and "other-unit 1" in err,
          "tcp: counters on stderr at exit")


def tcp_case():
    port = gslib.free_port()
    sim = tcp_registers(port)
    tcp_conditions(sim, port)
    tcp_malformed(sim, port)
    tcp_errors_and_quit(sim)

    # Port in use: clear message, exit 1.
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", port))
    blocker.listen(1)
    d, conf = scratch(TCP_CONFIG % port)
    p = subprocess.run([SIM, "-c", conf], capture_output=True, text=True, timeout=10,
                       stdin=subprocess.DEVNULL)
    blocker.close()
    check(p.returncode == 1 and "cannot listen" in p.stderr and "ready" not in p.stdout,
          "tcp: port in use: exit 1 (%d: %s)" % (p.returncode, p.stderr.strip()))


CUSTOM_CONFIG = """\
[profile kiosk]
block = 4:0x100:8
block = 3:0:2
body_temp = 0x100 float32 CDAB 1
ambient_temp = 0x102 float32 DCBA
status = 0x104 uint16
sequence = 0x105 uint16
card_lo = 0x106 uint32 BADC
status_valid = 0x0001
status_fault = 2
status_present = 0x8000
trigger = sequence
[profile milli]
block = 3:10:4
body_temp = 10 int32 ABCD 0.001
[bus gw]
tcp = 127.0.0.1:%d
[device k]
bus = gw
unit = 7
profile = kiosk
lane = a
[device m]
bus = gw
unit = 8
profile = milli
lane = b
"""


def custom_profile_case():
    """Custom profiles: input registers, 32-bit types in every word order, scales."""
    port = gslib.free_port()
    d, conf = scratch(CUSTOM_CONFIG % port)
    sim = Sim(conf)
    check(sim.ready(), "custom: ready")
    c = Tcp(port)
    sim.cmd("arrive k temp=36.75 card=305419896 ambient=24.5")
    r = c.read(7, 0x100, 8, fn=4)
    regs = r if isinstance(r, list) else [0] * 8
    body = struct.unpack(">f", struct.pack(">HH", regs[1], regs[0]))[0]  # CDAB
    amb = struct.unpack("<f", struct.pack(">HH", regs[2], regs[3]))[0]  # DCBA
    check(body == 36.75 and amb == 24.5, "custom: float32 CDAB/DCBA in input registers")
    check(regs[4] == 0x8001 and regs[5] == 1, "custom: status masks and sequence")
    check(regs[6:8] == [0x3412, 0x7856], "custom: card as uint32 BADC: %s" % regs[6:8])
    check(c.read(7, 0, 2) == [0, 0], "custom: second block (function 3) readable")
    check(c.read(7, 0x100, 1) == ("exc", 2), "custom: function 3 at a function-4 address")
    sim.cmd("arrive m temp=-12.5")
    check(c.read(8, 10, 2) == [0xFFFF, (-12500) & 0xFFFF], "custom: int32 scale 0.001, negative")
    c.close()
    check(sim.cmd("quit") == "ok" and sim.stop()[0] == 0, "custom: quit")


# ---- scenario files and the random morning -----------------------------------

def scenario_case():
    port = gslib.free_port()
    d, conf = scratch(TCP_CONFIG % port)
    bad = os.path.join(d, "bad.txt")
    with open(bad, "w") as f:
        f.write("# comment\nat 0.5 arrive ir-1 temp=36.6\nat x arrive ir-1 temp=1\n"
                "at 1 arrive ghost temp=36.6\nat 2 slow ir-1\n")
    p = subprocess.run([SIM, "-c", conf, "--scenario", bad], capture_output=True, text=True,
                       timeout=10, stdin=subprocess.DEVNULL)
    check(p.returncode == 2 and bad + ":3:" in p.stderr and bad + ":4:" in p.stderr
          and bad + ":5:" in p.stderr and "ready" not in p.stdout,
          "scenario: every error as FILE:LINE, exit 2: %r" % p.stderr)

    good = os.path.join(d, "good.txt")
    with open(good, "w") as f:
        f.write("at 0.2 arrive ir-1 temp=38.1 card=42   # a fever\n"
                "at 0.4 exception py-2 6 for 10s\nat 1.2s quit\n")
    sim = Sim(conf, "--scenario", good)
    check(sim.ready(), "scenario: ready")
    time.sleep(0.6)
    c = Tcp(port)
    check(c.read(1, 0, 6) == [3810, 2500, 5, 1, 42, 0], "scenario: timed arrive applied")
    check(c.read(2, 0, 1) == ("exc", 6), "scenario: timed exception applied")
    c.close()
    check(wait_until(lambda: sim.proc.poll() is not None, 3) and sim.proc.returncode == 0,
          "scenario: 'at 1.2s quit' exits 0")
    sim.stop()


def random_run(conf, roster, seed):
    sim = Sim(conf, "--random", str(seed), "--roster", roster, "--arrivals", "8",
              "--rate", "240", "--duration", "20")
    ok = sim.ready() and wait_until(lambda: len(sim.lines()) >= 9, 15)
    time.sleep(0.3)
    lines = sim.lines()[1:]
    sim.stop()
    return ok, lines


def random_case():
    port = gslib.free_port()
    d, conf = scratch(TCP_CONFIG % port)
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w") as f:
        f.write("external_id,kind,name,grade,class,card,active\n")
        for i in range(40):
            f.write("S%03d,student,学生%d,一年级,一年级1班,%d,yes\n" % (i, i, 5000 + i))
    ok1, a = random_run(conf, roster, 7)
    ok2, b = random_run(conf, roster, 7)
    check(ok1 and ok2 and len(a) == 8, "random: 8 arrivals printed (%d)" % len(a))
    check(a == b, "random: same seed, same morning")
    good = all(l.split()[0] in ("arrive", "invalid") and l.split()[1] in ("ir-1", "py-2")
               and "temp=" in l for l in a)
    check(good, "random: lines are commands: %s" % a[:3])
    _, c = random_run(conf, roster, 8)
    check(c != a, "random: another seed, another morning")


# ---- Modbus RTU over a pty pair -----------------------------------------------

def crc16(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return struct.pack("<H", crc)


def rtu_frame(unit, fn, address, count):
    f = struct.pack(">BBHH", unit, fn, address, count)
    return f + crc16(f)


class Rtu:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)

    def close(self):
        os.close(self.fd)

    def exchange(self, frame, timeout=0.3):
        """Writes a frame; returns (bytes that came within timeout, seconds to the last)."""
        os.write(self.fd, frame)
        t0 = time.monotonic()
        data, last, end = b"", 0.0, t0 + timeout
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], max(0.0, end - time.monotonic()))
            if not r:
                break
            data += os.read(self.fd, 256)
            last = time.monotonic() - t0
        return data, last


RTU_CONFIG = """\
[bus line]
serial = /nonexistent/overridden
baud = 9600
parity = E
[device u1]
bus = line
unit = 1
lane = a
[device u2]
bus = line
unit = 2
lane = b
"""


def rtu_case():
    tmp = tempfile.mkdtemp(prefix="gs-sim-rtu-")
    scratch_dirs.append(tmp)
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    socat = subprocess.Popen(["socat", "-d", "-d", "pty,raw,echo=0,link=" + a,
                              "pty,raw,echo=0,link=" + b], stderr=subprocess.DEVNULL)
    try:
        check(wait_until(lambda: os.path.exists(a) and os.path.exists(b)), "rtu: socat pty pair")
        rtu_checks(a, b)
    finally:
        socat.terminate()
        socat.wait(5)


def rtu_checks(a, b):
    d, conf = scratch(RTU_CONFIG)
    sim = Sim(conf, "--serial", "line=" + a, "--wire-timing", "--turnaround", "2")
    check(sim.ready(), "rtu: simulator ready on the pty")
    m = Rtu(b)
    sim.cmd("arrive u1 temp=36.5 card=1001")
    sim.cmd("arrive u2 temp=37.3 card=70000")

    data, _ = m.exchange(rtu_frame(5, 3, 0, 6))
    check(data == b"", "rtu: unit 5 (not on the bus): no reply")
    data, dt = m.exchange(rtu_frame(1, 3, 0, 6))
    want = struct.pack(">BBB6H", 1, 3, 12, 3650, 2500, 5, 1, 1001, 0)
    check(data == want + crc16(want), "rtu: unit 1 answers right after (libmodbus #83 case)")
    wire = (8 + 17) * 11 / 9600 + 0.002  # request + reply at 9600 8E1, + turnaround
    check(wire - 0.002 <= dt < wire + 0.05,
          "rtu: wire timing: reply after %.1f ms (line time %.1f ms)" % (dt * 1000, wire * 1000))
    data, _ = m.exchange(rtu_frame(2, 3, 4, 2))
    want = struct.pack(">BBB2H", 2, 3, 4, 70000 & 0xFFFF, 70000 >> 16)
    check(data == want + crc16(want), "rtu: unit 2 card registers")

    bad = bytearray(rtu_frame(1, 3, 0, 6))
    bad[-1] ^= 0xFF
    data, _ = m.exchange(bytes(bad))
    check(data == b"", "rtu: bad CRC: no reply")
    data, _ = m.exchange(rtu_frame(1, 3, 2, 1))
    check(len(data) == 7 and data[3:5] == b"\x00\x05", "rtu: next good frame answered")
    odd = bytes([1, 0x2B, 0x0E, 0x01, 0x00])
    data, _ = m.exchange(odd + crc16(odd))
    check(data[:3] == bytes([1, 0xAB, 1]) and len(data) == 5,
          "rtu: unknown function, framed by silence: exception 1")

    sim.cmd("exception u2 4 for 10s")
    data, _ = m.exchange(rtu_frame(2, 3, 0, 1))
    check(data[:3] == bytes([2, 0x83, 4]) and data[3:] == crc16(data[:3]), "rtu: exception 4")
    sim.cmd("malformed u1 for 10s")
    got = [m.exchange(rtu_frame(1, 3, 0, 6))[0] for _ in range(3)]
    check(got[0][2] == 14 and got[0][-2:] == crc16(got[0][:-2]), "rtu: malformed: byte count")
    check(len(got[1]) < 17, "rtu: malformed: truncated")
    check(len(got[2]) == 17 and got[2][-2:] != crc16(got[2][:-2]), "rtu: malformed: bad CRC")
    sim.cmd("silent u1 10s")
    data, _ = m.exchange(rtu_frame(1, 3, 0, 1))
    check(data == b"", "rtu: silent: no reply")
    m.close()

    rc, dt = sim.stop(signal.SIGTERM)
    check(rc == 0 and dt < 2, "rtu: SIGTERM exits 0 promptly (%.2f s)" % dt)
    err = sim.stderr()
    check("other-unit 1 bad-crc 1" in err, "rtu: dropped frames counted: %s"
          % [l for l in err.splitlines() if "bus line" in l])


def main():
    if not os.access(SIM, os.X_OK):
        print("FAIL - %s not built" % SIM)
        sys.exit(1)
    tcp_case()
    custom_profile_case()
    scenario_case()
    random_case()
    rtu_case()
    print("%d failed" % failures)
    if not failures:
        for d in scratch_dirs:
            shutil.rmtree(d, ignore_errors=True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
