"""The real gatescreend: start, ready, reload, clean stop (docs/design.md, "Threads";
issue 2)."""
import os
import signal
import subprocess
import time

import gslib
from gslib import check


def test_start_reload_stop():
    d, conf = gslib.scratch()
    db = os.path.join(d, "ledger.db")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "daemon logs that it is ready")
    check("schema v%d" % gslib.latest_schema() in dm.text(), "ready line names the schema version")
    check(os.path.exists(db), "database created next to the config (relative path)")
    check(gslib.db_query(db, "PRAGMA user_version")[0][0] >= 1, "schema migrated")

    # A good reload applies what can be applied live.
    with open(conf, "a", encoding="utf-8") as f:
        f.write("\n[screening]\nthreshold = 37.5\n")
    dm.send(signal.SIGHUP)
    check(dm.wait_for("configuration " + os.path.realpath(conf) + " applied"),
          "SIGHUP reloads a valid config")

    # A comment added at the top moves every section's line: no change to report
    # (issue 14 finding 10: it logged "[bus]/[profile]/[device] changed; restart").
    text = open(conf, encoding="utf-8").read()
    open(conf, "w", encoding="utf-8").write("# moved down by a comment\n\n" + text)
    dm.send(signal.SIGHUP)
    check(dm.wait_for("applied", count=2), "a reload after adding a comment applies")
    check("changed; restart" not in dm.text(),
          "a comment line moves nothing that needs a restart (no 'changed; restart')")

    # A broken one is refused with the line, and the daemon keeps running.
    with open(conf, "a", encoding="utf-8") as f:
        f.write("bogus_key = 1\n")
    dm.send(signal.SIGHUP)
    check(dm.wait_for("keeping the running configuration"), "bad reload refused")
    check("gatescreen.conf:" in dm.text() and "bogus_key" in dm.text(),
          "bad reload names file:line and the key")
    check(dm.proc.poll() is None, "daemon still running after a bad reload")

    # A change that needs a restart is named, not silently ignored.
    text = open(conf, encoding="utf-8").read().replace("bogus_key = 1\n", "")
    text = text.replace("gate = 东门", "gate = 西门")
    open(conf, "w", encoding="utf-8").write(text)
    dm.send(signal.SIGHUP)
    check(dm.wait_for("[lane] changed; restart"), "restart-only change reported")

    rc, took = dm.stop(signal.SIGTERM)
    check(rc == 0, "SIGTERM: exit status 0 (got %s)" % rc)
    check(took < 2.0, "clean stop within 2 s (took %.3f s)" % took)
    check("stopped cleanly" in dm.text(), "logs the clean stop")
    wal = db + "-wal"
    check(not os.path.exists(wal) or os.path.getsize(wal) == 0, "WAL checkpointed on stop")
    check(gslib.db_query(db, "PRAGMA integrity_check")[0][0] == "ok", "integrity ok after stop")


def test_sigint_also_stops_cleanly():
    d, conf = gslib.scratch()
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "ready (SIGINT case)")
    rc, took = dm.stop(signal.SIGINT)
    check(rc == 0 and took < 2.0, "SIGINT: clean stop, status %s in %.3f s" % (rc, took))


def test_detached_start():
    d, conf = gslib.scratch()
    t0 = time.monotonic()
    r = subprocess.run([gslib.DAEMON, "-c", conf], capture_output=True, text=True, timeout=20)
    check(r.returncode == 0, "detached start: parent exits 0 once the child is ready")
    pids = subprocess.run(["pgrep", "-f", "gatescreend -c " + conf], capture_output=True,
                          text=True).stdout.split()
    check(len(pids) == 1, "one detached daemon running (%s)" % pids)
    for p in pids:
        os.kill(int(p), signal.SIGTERM)
    end = time.monotonic() + 5
    while pids and time.monotonic() < end and os.path.exists("/proc/" + pids[0]):
        time.sleep(0.02)
    check(not pids or not os.path.exists("/proc/" + pids[0]), "detached daemon stops on TERM")
    check(time.monotonic() - t0 < 20, "detached round trip in time")


def test_bad_start():
    d, conf = gslib.scratch(gslib.BASE_CONFIG.replace("morning = 07:00-08:30",
                                                      "morning = 9:00-8:00"))
    r = subprocess.run([gslib.DAEMON, "-f", "-c", conf], capture_output=True, text=True,
                       timeout=20)
    check(r.returncode == 2, "bad config: exit status 2 (got %d)" % r.returncode)
    check(conf + ":" in r.stderr and "morning" in r.stderr,
          "bad config: file:line message (%s)" % r.stderr.strip())
    check(not os.path.exists(os.path.join(d, "ledger.db")), "bad config: no database created")

    d, conf = gslib.scratch()
    db = os.path.join(d, "ledger.db")
    dm = gslib.Daemon(conf)
    dm.wait_for("ready:")
    dm.stop()
    gslib.db_query(db, "PRAGMA user_version = 999")
    r = subprocess.run([gslib.DAEMON, "-f", "-c", conf], capture_output=True, text=True,
                       timeout=20)
    check(r.returncode == 1 and "newer than this program knows" in r.stderr,
          "newer database refused with a clear message")
    check(gslib.db_query(db, "PRAGMA user_version")[0][0] == 999, "newer database untouched")

    for args in (["--bogus"], ["-c"], ["-f", "extra"]):
        r = subprocess.run([gslib.DAEMON, *args], capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "usage" in r.stderr, "bad arguments %s: usage, exit 2" % args)

    r = subprocess.run([gslib.DAEMON, "-f", "-c", "/nonexistent/x.conf"], capture_output=True,
                       text=True, timeout=20)
    check(r.returncode == 2 and "/nonexistent/x.conf" in r.stderr, "missing config named")


if __name__ == "__main__":
    test_start_reload_stop()
    test_sigint_also_stops_cleanly()
    test_detached_start()
    test_bad_start()
    gslib.finish()
