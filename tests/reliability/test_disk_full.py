"""The ledger's file system fills up during a busy morning, then space comes back
(the daemon already handles this: amber, never green, recovers by itself), and the
errors it logs meanwhile are rate-limited (finding 11: two error lines per failed
decision, 1,058 lines in 35 s of a full disk).

The ledger lives on a small tmpfs the test mounts (root, or else an unprivileged
user and mount namespace through unshare; if neither works the test is skipped,
exit 77). A filler file takes every free byte; 10 s later (GS_LONG: 30 s) it is
removed.

Expected:
- decisions fail while the disk is full, and each is shown amber, never green;
  every green shown has its committed row;
- at most 20 error and warning lines in the log while it lasts (30 for the long
  outage); log_limited logs the 1st, 2nd, 4th, 8th ... occurrence;
- once the filler is gone the gate is green again by itself, every reading from
  1 s after that is recorded; nothing committed before is lost; integrity ok."""
import errno
import os
import shutil
import subprocess
import sys
import tempfile
import time

import gslib
from gslib import check, figure

OUTAGE_S = 30.0 if gslib.LONG else 10.0
LOG_LINES_MAX = 30 if gslib.LONG else 20
TMPFS_SIZE = "16m"
LANES = 4


def mount_tmpfs():
    """A fresh tmpfs of TMPFS_SIZE; returns its folder, or None if it cannot be done."""
    mnt = tempfile.mkdtemp(prefix="gs-full-")
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0755" % TMPFS_SIZE,
                        "gs-full", mnt], capture_output=True, text=True)
    if r.returncode != 0:
        print("# mount -t tmpfs: " + (r.stderr or r.stdout).strip())
        os.rmdir(mnt)
        return None
    return mnt


def unmount(mnt):
    for args in (["umount", mnt], ["umount", "-l", mnt]):
        if subprocess.run(args, capture_output=True).returncode == 0:
            break
        time.sleep(0.5)
    try:
        os.rmdir(mnt)
    except OSError:
        pass


def fill(path):
    """Writes until the file system is full; returns the bytes written."""
    written = 0
    with open(path, "wb", buffering=0) as f:
        for size in (1 << 20, 1 << 16, 1 << 12, 1 << 9, 1):
            chunk = b"\0" * size
            while True:
                try:
                    n = f.write(chunk)
                except OSError as e:
                    if e.errno not in (errno.ENOSPC, errno.EFBIG):
                        raise
                    break
                written += n
                if n < size:
                    break
    return written


def outage(g, mnt):
    dm = gslib.Daemon(g.conf)
    check(dm.wait_for("ready:", 20), "daemon ready")
    check(g.wait_decisions(60, 60), "a busy morning: 60 decisions")
    before = g.reading_keys()
    filler = os.path.join(mnt, "filler")
    log_at = len(dm.text())
    t_full = time.monotonic()
    figure("filler_bytes", fill(filler))
    free = shutil.disk_usage(mnt).free
    figure("free_bytes_when_full", free)

    def failed_since(t):
        return [ln for ln in gslib.decision_lines(g.read())
                if ln["outcome"] not in gslib.OUTCOMES and gslib.posted_us(ln) >= int(t * 1e6)]
    failing = gslib.wait_until(lambda: failed_since(t_full), 10, 0.02)
    first_fail = min((int(ln["mono_us"]) for ln in failed_since(t_full)), default=None)
    figure("first_failure_after_full_ms", "%.0f" % ((first_fail - t_full * 1e6) / 1000.0)
           if first_fail else "never")
    check(failing, "the full disk makes decisions fail")
    end = t_full + OUTAGE_S
    while time.monotonic() < end and dm.proc.poll() is None:
        time.sleep(0.05)
    check(dm.proc.poll() is None, "the daemon runs through the outage")
    log_end = len(dm.text())
    os.remove(filler)
    t_free = time.monotonic()
    for lane in range(LANES):  # people only we bring: a normal reading is green
        g.arrive(lane, g.reserved[lane][1])
    time.sleep(3.0)
    alive = dm.proc.poll() is None
    rc, _ = dm.stop() if alive else (dm.proc.wait(), 0)
    check(alive and rc == 0, "the daemon stopped cleanly (status %r)" % rc)

    text = dm.text()
    problems = gslib.log_lines_since(text[:log_end], log_at)
    figure("outage_s", "%.1f" % (t_free - t_full))
    figure("log_problem_lines_during_outage", len(problems))
    lights = g.read()
    decisions = gslib.decision_lines(lights)
    us = lambda t: int(t * 1e6)  # noqa: E731
    during = [ln for ln in decisions
              if first_fail and first_fail <= int(ln["mono_us"]) < us(t_free)]
    failed = [ln for ln in during if ln["outcome"] not in gslib.OUTCOMES]
    figure("decisions_during_outage", len(during))
    figure("decisions_not_recorded", len(failed))
    figure("log_lines_per_failed_decision", "%.2f" % (len(problems) / max(1, len(failed))))
    check(len(problems) <= LOG_LINES_MAX, "the ledger errors are rate-limited: %d error and "
          "warning lines for %d failed decisions in %.0f s (at most %d); the last: %s"
          % (len(problems), len(failed), t_free - t_full, LOG_LINES_MAX,
             problems[-1] if problems else "-"))
    greens = [ln for ln in during if ln["lamp"] == "green"]
    figure("greens_during_outage", len(greens))
    check(not greens, "never green while the disk is full (%d greens)" % len(greens))
    not_amber = [ln for ln in decisions if ln["outcome"] not in gslib.OUTCOMES and
                 ln["lamp"] != "amber"]
    check(not not_amber, "every decision not recorded is shown amber (%d not)" % len(not_amber))

    after = [ln for ln in decisions if gslib.posted_us(ln) >= us(t_free)]
    greens = [int(ln["mono_us"]) for ln in after if ln["lamp"] == "green"]
    recover_ms = (min(greens) - us(t_free)) / 1000.0 if greens else float("inf")
    figure("green_after_free_ms", "%.0f" % recover_ms)
    check(recover_ms <= 2000, "recovers by itself: green %.0f ms after the space came back"
          % recover_ms)
    settled = [ln for ln in after if gslib.posted_us(ln) >= us(t_free + 1.0)]
    unrecorded = [ln for ln in settled if ln["outcome"] not in gslib.OUTCOMES]
    check(settled and not unrecorded, "every reading from 1 s after the free is recorded "
          "(%d of %d not)" % (len(unrecorded), len(settled)))

    missing, _ = gslib.unmatched(g.db, lights)
    figure("green_without_row", sum(1 for k in missing if k[1] == "admit"))
    check(not missing, "never green without a committed row (missing %d: %r)"
          % (len(missing), missing[:3]))
    lost = before - g.reading_keys()
    figure("rows_lost", len(lost))
    check(not lost, "nothing lost: the %d rows committed before are there" % len(before))
    r = gslib.cli(g.conf, "db", "check")
    check(r.returncode == 0 and "integrity check ok" in r.stdout,
          "integrity after the outage: " + (r.stdout + r.stderr).strip())


def main():
    mnt = mount_tmpfs() if os.geteuid() == 0 or os.environ.get("GS_UNSHARED") else None
    if mnt is None and not os.environ.get("GS_UNSHARED") and shutil.which("unshare"):
        # Not root: a user and mount namespace of our own may mount a tmpfs.
        print("# not root: again under unshare --user --map-root-user --mount")
        sys.stdout.flush()
        r = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", sys.executable,
                            os.path.abspath(__file__)], env=dict(os.environ, GS_UNSHARED="1"))
        sys.exit(r.returncode)
    if mnt is None:
        print("SKIP: cannot mount a tmpfs here (not root, no user namespaces)")
        sys.exit(77)
    figure("tmpfs_size", TMPFS_SIZE)
    g = None
    try:
        g = gslib.BusyGate("FULL", seed=31, duration=int(OUTAGE_S + 120), reserved=LANES,
                           database=os.path.join(mnt, "ledger.db"))
        figure("ledger_bytes_at_start", os.path.getsize(g.db))
        outage(g, mnt)
    finally:
        if g:
            g.close()
        unmount(mnt)
    gslib.finish()


if __name__ == "__main__":
    main()
