#!/usr/bin/env python3
"""Run a job script in a small QEMU VM on Debian's real kernel, with gpio-sim loaded,
so programs meet real GPIO character devices (python3 stdlib only).

    import vm                                   # tests/vm on sys.path
    r = vm.run(script_text, programs=["/usr/bin/gpioset"],
               files={"/etc/gatescreen.conf": "/root/gs.conf"}, timeout=120)
    r.rc          # the job's exit code (None: no end marker, e.g. a panic or timeout)
    r.ok          # rc == 0
    r.job_output  # what the job printed (between the start and end markers)
    r.output      # the whole console (kernel messages included)
    r.timed_out, r.seconds

Command line:
    tests/vm/vm.py run JOB.sh [-p PROG]... [-f HOST[:VMPATH]]... [-e K=V]... [--timeout S]
    tests/vm/vm.py smoke        # tests/vm/smoke.sh with the gpiod tools
    tests/vm/vm.py kernel       # prepare the cached kernel, print its dir
exit code: the job's; 124 on timeout; 125 when the VM gave no end marker.

How: tests/vm/kernel.sh gives (and caches) vmlinuz, the modules and a base initramfs
(busybox, modules). Each run appends an overlay cpio to it with /init
(tests/vm/init.sh), /gs/job.sh, /gs/gpiosim.sh, /gs/env, the programs with every
library ldd names (at the paths ldd names, the loader too), the extra files and the
time zones UTC and Asia/Shanghai. In the VM /gs/job.sh runs from /root with
/gs/gpiosim.sh at hand; /init prints "GS-VM-EXIT <rc>" and powers off.
"""
import argparse
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_SH = os.path.join(HERE, "kernel.sh")
INIT_SH = os.path.join(HERE, "init.sh")
GPIOSIM_SH = os.path.join(HERE, "gpiosim.sh")
SMOKE_SH = os.path.join(HERE, "smoke.sh")

DEFAULT_FILES = ["/usr/share/zoneinfo/UTC", "/usr/share/zoneinfo/Asia/Shanghai"]
GPIOD_TOOLS = ["gpiodetect", "gpioinfo", "gpioget", "gpioset", "gpiomon", "gpiofind"]
START = "GS-VM-START"
EXIT_RE = re.compile(r"^GS-VM-EXIT (\d+)\s*$", re.M)

_kernel_dir = None


class VmError(Exception):
    pass


class Result:
    def __init__(self, rc, output, seconds, timed_out):
        self.rc = rc
        self.output = output
        self.seconds = seconds
        self.timed_out = timed_out
        self.ok = rc == 0
        start = output.find(START)
        body = output[output.index("\n", start) + 1:] if start >= 0 and "\n" in output[start:] else ""
        m = EXIT_RE.search(body)
        self.job_output = body[:m.start()] if m else body

    def __repr__(self):
        return "Result(rc=%r, seconds=%.1f, timed_out=%r)" % (self.rc, self.seconds, self.timed_out)


def kernel_dir():
    """The cache dir of tests/vm/kernel.sh (built on first use; progress on stderr).
    $GS_VM_KERNEL_DIR, if set, is used as is (skips kernel.sh's ~0.6 s of apt-cache)."""
    global _kernel_dir
    if _kernel_dir is None and os.environ.get("GS_VM_KERNEL_DIR"):
        _kernel_dir = os.environ["GS_VM_KERNEL_DIR"]
    if _kernel_dir is None:
        p = subprocess.run([KERNEL_SH, "--print-dir"], stdout=subprocess.PIPE, text=True)
        lines = p.stdout.strip().splitlines()
        if p.returncode != 0 or not lines:
            raise VmError("tests/vm/kernel.sh failed (exit %d)" % p.returncode)
        _kernel_dir = lines[-1]
    return _kernel_dir


# ---- cpio (newc) ------------------------------------------------------------------

class Cpio:
    """An uncompressed newc archive in memory; parent directories are added as needed."""

    def __init__(self):
        self.entries = {}   # vm path -> (mode, data bytes or host path, rdev)

    def _dirs(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/" + "/".join(parts[:i])
            self.entries.setdefault(d, (stat.S_IFDIR | 0o755, b"", (0, 0)))

    def add_data(self, path, data, mode=0o644):
        self._dirs(path)
        if isinstance(data, str):
            data = data.encode()
        self.entries[path] = (stat.S_IFREG | mode, data, (0, 0))

    def add_file(self, path, host, mode=None):
        """A host file (symlinks followed) stored at path, with the host's permissions
        unless mode is given."""
        if not path.startswith("/"):
            raise VmError("VM path %s is not absolute" % path)
        real = os.path.realpath(host)
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode):
            raise VmError("%s is not a regular file" % host)
        self._dirs(path)
        perm = stat.S_IMODE(st.st_mode) if mode is None else mode
        self.entries[path] = (stat.S_IFREG | perm, real, (0, 0))

    def add_tree(self, path, host):
        """A host file or directory (recursively) at path."""
        if os.path.isdir(host):
            self._dirs(path + "/x")
            for dirpath, dirnames, filenames in os.walk(host, followlinks=True):
                rel = os.path.relpath(dirpath, host)
                base = path if rel == "." else path + "/" + rel
                self._dirs(base + "/x")
                for f in filenames:
                    self.add_file(base + "/" + f, os.path.join(dirpath, f))
        else:
            self.add_file(path, host)

    def add_chardev(self, path, major, minor, mode=0o600):
        self._dirs(path)
        self.entries[path] = (stat.S_IFCHR | mode, b"", (major, minor))

    def write(self, out):
        ino = 1000
        now = int(time.time())

        def entry(name, mode, data, rdev):
            nonlocal ino
            ino += 1
            nb = name.encode() + b"\0"
            hdr = "070701" + "".join("%08X" % v for v in (
                ino, mode, 0, 0, 2 if stat.S_ISDIR(mode) else 1, now, len(data),
                0, 0, rdev[0], rdev[1], len(nb), 0))
            out.write(hdr.encode() + nb)
            out.write(b"\0" * (-(110 + len(nb)) % 4))
            out.write(data)
            out.write(b"\0" * (-len(data) % 4))

        # Sorted: a directory comes before what it holds.
        for path in sorted(self.entries):
            mode, data, rdev = self.entries[path]
            if isinstance(data, str):
                with open(data, "rb") as f:
                    data = f.read()
            entry(path.lstrip("/"), mode, data, rdev)
        entry("TRAILER!!!", 0, b"", (0, 0))


# ---- programs and their libraries ----------------------------------------------------

def _which(prog):
    if os.sep in prog:
        return prog
    found = shutil.which(prog)
    if not found:
        raise VmError("program %s not found on PATH" % prog)
    return found


def _vm_program_path(host):
    """Where a program lands in the VM (on PATH): /usr/bin/x stays; /bin/x and /sbin/x
    go to /usr/bin, /usr/sbin (/bin is busybox's); anything else (a build tree) to
    /usr/local/bin/<name>."""
    host = os.path.abspath(host)
    d, name = os.path.split(host)
    if d in ("/bin", "/sbin"):
        return "/usr" + host
    if d in ("/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"):
        return host
    return "/usr/local/bin/" + name


def shared_libraries(prog):
    """The paths ldd names for prog (the loader included); [] for a static program."""
    p = subprocess.run(["ldd", prog], capture_output=True, text=True)
    if p.returncode != 0:
        if "not a dynamic executable" in p.stdout + p.stderr:
            return []
        raise VmError("ldd %s: %s" % (prog, (p.stderr or p.stdout).strip()))
    libs = []
    for line in p.stdout.splitlines():
        line = line.strip()
        if "=> not found" in line:
            raise VmError("ldd %s: %s" % (prog, line))
        m = re.match(r"(?:\S+ => )?(/\S+) \(0x", line)
        if m:
            libs.append(m.group(1))
    return libs


def _norm_pairs(items):
    """programs/files given as "host", ("host", "vm") or {host: vm} -> [(host, vm or None)]"""
    if items is None:
        return []
    if isinstance(items, dict):
        return list(items.items())
    pairs = []
    for it in items:
        if isinstance(it, (tuple, list)):
            pairs.append((it[0], it[1]))
        else:
            pairs.append((it, None))
    return pairs


def build_overlay(script, programs=(), files=None, env=None, default_files=True):
    c = Cpio()
    c.add_chardev("/dev/console", 5, 1)
    c.add_chardev("/dev/null", 1, 3, 0o666)
    c.add_file("/init", INIT_SH, 0o755)
    c.add_file("/gs/gpiosim.sh", GPIOSIM_SH, 0o644)
    c.add_data("/gs/job.sh", script, 0o755)
    envtext = "".join("export %s=%s\n" % (k, shlex.quote(str(v))) for k, v in (env or {}).items())
    c.add_data("/gs/env", envtext)
    libs = set()
    for host, vm in _norm_pairs(programs):
        host = _which(host)
        c.add_file(vm or _vm_program_path(host), host)
        libs.update(shared_libraries(host))
    for lib in sorted(libs):
        c.add_file(lib, lib)
    extra = [(f, None) for f in DEFAULT_FILES if os.path.exists(f)] if default_files else []
    before = set(c.entries)
    for host, vm in extra + _norm_pairs(files):
        if not os.path.exists(host):
            raise VmError("extra file %s does not exist" % host)
        c.add_tree(vm or os.path.abspath(host), host)
    # Shared objects among the extra files (e.g. Python's lib-dynload) bring their
    # libraries too.
    more = set()
    for path in sorted(set(c.entries) - before):
        data = c.entries[path][1]
        if isinstance(data, str) and re.search(r"\.so(\.|$)", path) and _is_elf(data):
            try:
                more.update(shared_libraries(data))
            except VmError as e:
                print("vm.py: warning: %s (%s left as is)" % (e, path), file=sys.stderr)
    for lib in sorted(more - set(c.entries)):
        c.add_file(lib, lib)
    return c


def _is_elf(path):
    with open(path, "rb") as f:
        return f.read(4) == b"\x7fELF"


# ---- the VM ----------------------------------------------------------------------------

def _kernel_image(kdir):
    # vmlinux (PVH entry) boots ~3.5 s faster under TCG than the self-decompressing vmlinuz.
    vmlinux = os.path.join(kdir, "vmlinux")
    return vmlinux if os.path.exists(vmlinux) else os.path.join(kdir, "vmlinuz")


def run(script, programs=(), files=None, env=None, timeout=120, memory=256, echo=False,
        append="", default_files=True, kernel=None):
    """Boot the VM with the job `script` (shell text, run by busybox sh as /gs/job.sh).

    programs: host programs (names on PATH or paths; or (host, vm_path) pairs) copied
              in with their shared libraries (at the paths ldd names, loader included).
              /usr/bin/x stays /usr/bin/x, /bin/x and /sbin/x land in /usr/bin and
              /usr/sbin, others (e.g. build/gatescreend) in /usr/local/bin/<name>.
    files:    {host_path: vm_path} or [host_path | (host_path, vm_path)]; directories
              are copied recursively; vm_path defaults to the host path.
    env:      {name: value} exported for the job.
    timeout:  seconds for the whole VM (boot included); then qemu is killed.
    echo:     copy the console to stdout as it comes.
    """
    kdir = kernel or kernel_dir()
    overlay = build_overlay(script, programs, files, env, default_files)
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        raise VmError("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
    tmp = tempfile.mkdtemp(prefix="gs-vm-")
    try:
        initrd = os.path.join(tmp, "initrd")
        with open(initrd, "wb") as out:
            with open(os.path.join(kdir, "base.cpio.gz"), "rb") as base:
                data = base.read()
            out.write(data)
            # An uncompressed archive after a compressed one must start 4-aligned.
            out.write(b"\0" * (-len(data) % 4))
            overlay.write(out)
        cmd = [qemu, "-accel", "tcg", "-M", "pc", "-cpu", "max", "-smp", "1", "-m", str(memory),
               "-nodefaults", "-display", "none", "-no-reboot", "-serial", "stdio",
               "-kernel", _kernel_image(kdir), "-initrd", initrd,
               "-append", ("console=ttyS0 panic=-1 quiet " + append).strip()]
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
        chunks = []

        def reader():
            while True:
                b = proc.stdout.read1(65536)
                if not b:
                    break
                chunks.append(b)
                if echo:
                    sys.stdout.write(b.decode("utf-8", "replace").replace("\r\n", "\n"))
                    sys.stdout.flush()

        th = threading.Thread(target=reader, daemon=True)
        th.start()
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            proc.kill()
            proc.wait()
        th.join(5)
        seconds = time.monotonic() - t0
        output = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "")
        m = EXIT_RE.search(output)
        rc = int(m.group(1)) if m else None
        if timed_out:
            output += "\n[vm.py: timed out after %ss, qemu killed]\n" % timeout
        return Result(rc, output, seconds, timed_out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_file(path, **kw):
    with open(path, encoding="utf-8") as f:
        return run(f.read(), **kw)


def smoke(echo=False, timeout=120):
    missing = [t for t in GPIOD_TOOLS if not shutil.which(t)]
    if missing:
        raise VmError("%s not found: apt-get install gpiod" % " ".join(missing))
    return run_file(SMOKE_SH, programs=GPIOD_TOOLS, echo=echo, timeout=timeout)


def _cli_exit(r, echo):
    if not echo:
        sys.stdout.write(r.output if r.rc is None else r.job_output)
    print("vm.py: rc=%s in %.1fs%s" % (r.rc, r.seconds, " (timed out)" if r.timed_out else ""))
    if r.timed_out:
        return 124
    if r.rc is None:
        return 125
    return r.rc


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    pr = sub.add_parser("run", help="run a job script in the VM")
    pr.add_argument("job")
    pr.add_argument("-p", "--prog", action="append", default=[], help="host program (with its libraries)")
    pr.add_argument("-f", "--file", action="append", default=[], help="HOST[:VMPATH] file or dir")
    pr.add_argument("-e", "--env", action="append", default=[], help="K=V for the job")
    pr.add_argument("--timeout", type=float, default=120)
    pr.add_argument("--memory", type=int, default=256, help="MiB")
    pr.add_argument("--echo", action="store_true", help="show the console live (kernel too)")
    ps = sub.add_parser("smoke", help="gpio-sim + gpiod tools smoke test")
    ps.add_argument("--echo", action="store_true")
    ps.add_argument("--timeout", type=float, default=120)
    sub.add_parser("kernel", help="prepare the cached kernel and print its dir")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "kernel":
            print(kernel_dir())
            return 0
        if a.cmd == "smoke":
            return _cli_exit(smoke(echo=a.echo, timeout=a.timeout), a.echo)
        files = []
        for f in a.file:
            host, _, vm = f.partition(":")
            files.append((host, vm or None))
        env = dict(e.split("=", 1) for e in a.env)
        r = run_file(a.job, programs=a.prog, files=files, env=env, timeout=a.timeout,
                     memory=a.memory, echo=a.echo)
        return _cli_exit(r, a.echo)
    except VmError as e:
        print("vm.py: %s" % e, file=sys.stderr)
        return 125


if __name__ == "__main__":
    sys.exit(main())
