"""gatescreen db backup / db restore (issue 20), on real SQLite files beside a running
gatescreend: a backup taken while rows are being written is whole and consistent, a
restore is refused while the daemon runs (and a second daemon too), a restore puts
back exactly the backup's rows and keeps the ledger it replaced, and every bad backup
file is refused with the ledger left as it was."""
import os
import stat
import subprocess
import sys
import threading

import gslib
from gslib import check

ALL_TABLES = "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name"


def every_row(db):
    """Every row of every table: what a restore must bring back exactly."""
    out = {}
    for (t,) in gslib.db_query(db, ALL_TABLES):
        out[t] = sorted(gslib.db_query(db, "SELECT * FROM \"%s\"" % t), key=repr)
    return out


def setup_school():
    d, conf = gslib.scratch()
    roster = os.path.join(d, "roster.csv")
    with open(roster, "wb") as f:
        f.write(subprocess.run([sys.executable, gslib.MAKE_ROSTER, "--students", "40",
                                "--staff", "4", "--classes", "2"], capture_output=True,
                               check=True).stdout)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "roster imported (%s)" % r.stderr.strip())
    people = [line.split("\t")[0] for line in gslib.cli(conf, "roster", "list").stdout.splitlines()[1:]]
    return d, conf, os.path.join(d, "ledger.db"), people


def manual_check(conf, who, temp="36.6"):
    return gslib.cli(conf, "check", who, temp, "--instrument", "ear", "--by", "test")


def test_backup_while_writing(d, conf, db, people):
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "daemon ready")
    stop = threading.Event()
    written = []

    def writer():
        for who in people:
            if stop.is_set():
                break
            if manual_check(conf, who).returncode == 0:
                written.append(who)

    t = threading.Thread(target=writer)
    t.start()
    gslib.wait_until(lambda: len(written) >= 3, timeout=30)
    backup = os.path.join(d, "during.db")
    r = gslib.cli(conf, "db", "backup", backup)
    stop.set()
    t.join()
    check(r.returncode == 0 and "backup of" in r.stdout, "backup while the daemon runs and rows "
          "are written: exit 0 (%d %s)" % (r.returncode, r.stderr.strip()))
    check(gslib.db_query(backup, "PRAGMA integrity_check") == [("ok",)], "backup: integrity ok")
    check(gslib.db_query(backup, "PRAGMA journal_mode") == [("delete",)] and
          not os.path.exists(backup + "-wal"), "backup: one file, no WAL beside it")
    check(stat.S_IMODE(os.stat(backup).st_mode) == 0o600, "backup: mode 0600 (health data)")
    # One consistent moment: the checks and the audit rows written with them in one
    # transaction are all in the backup or not at all, and none is invented.
    taken, now = every_row(backup), every_row(db)
    check(3 <= len(taken["checks"]) <= len(written),
          "backup holds %d of the %d checks written" % (len(taken["checks"]), len(written)))
    check(set(taken["checks"]) <= set(now["checks"]), "every check in the backup is in the ledger")
    audited = gslib.db_query(backup, "SELECT count(*) FROM audit_log WHERE action LIKE '%check%'")
    check(audited[0][0] == len(taken["checks"]),
          "backup: one audit row per check (%d audit, %d checks)" %
          (audited[0][0], len(taken["checks"])))

    again = gslib.cli(conf, "db", "backup", backup)
    check(again.returncode == 1 and "exists" in again.stderr and
          not os.path.exists(backup + ".partial"),
          "backup onto an existing file refused, nothing left behind (%s)" % again.stderr.strip())

    before = every_row(db)["checks"]
    r = gslib.cli(conf, "db", "restore", backup)
    check(r.returncode == 1 and "running gatescreend" in r.stderr,
          "restore while the daemon runs refused (%d %s)" % (r.returncode, r.stderr.strip()))
    second = subprocess.run([gslib.DAEMON, "-f", "-c", conf], capture_output=True, text=True,
                            timeout=20)
    check(second.returncode != 0 and "in use by another gatescreend" in second.stderr,
          "a second daemon on the same ledger refused (%d %s)" %
          (second.returncode, second.stderr.strip()[-200:]))
    check(every_row(db)["checks"] == before, "refused restore and second daemon changed nothing")
    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly")
    return backup


def test_restore(d, conf, db, people, backup):
    expected = every_row(backup)
    check(manual_check(conf, people[-1], "36.9").returncode == 0, "a check after the backup")
    after_backup = every_row(db)
    r = gslib.cli(conf, "db", "restore", backup)
    check(r.returncode == 0 and "restored from" in r.stdout,
          "restore with the daemon stopped (%d %s)" % (r.returncode, r.stderr.strip()))
    check(every_row(db) == expected, "restored ledger holds exactly the backup's rows")
    kept = [f for f in os.listdir(d) if f.startswith("ledger.db.before-restore-")]
    check(len(kept) == 1 and every_row(os.path.join(d, kept[0])) == after_backup,
          "the replaced ledger is kept beside it with every row (%s)" % kept)
    check(gslib.db_query(db, "PRAGMA journal_mode") == [("wal",)], "restored ledger in WAL mode")
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "daemon starts on the restored ledger")
    rc, _ = dm.stop()
    check(rc == 0 and gslib.cli(conf, "db", "check").returncode == 0, "db check ok after restore")


def test_bad_restores(d, conf, db):
    before = every_row(db)
    text = os.path.join(d, "notes.txt")
    with open(text, "w") as f:
        f.write("not a database\n" * 100)
    other = os.path.join(d, "other.db")
    gslib.db_query(other, "CREATE TABLE t(x)")
    newer = os.path.join(d, "newer.db")
    r = gslib.cli(conf, "db", "backup", newer)
    check(r.returncode == 0, "a backup to make a newer one from")
    gslib.db_query(newer, "PRAGMA user_version = 999")
    damaged = os.path.join(d, "damaged.db")
    check(gslib.cli(conf, "db", "backup", damaged).returncode == 0, "a backup to damage")
    size = os.path.getsize(damaged)
    with open(damaged, "r+b") as f:  # overwrite the middle pages, keep the header
        f.seek(4096 * 2)
        f.write(b"\xa5" * min(4096 * 4, max(0, size - 4096 * 2)))
    cases = [(os.path.join(d, "absent.db"), "cannot open"), (text, "not a gatescreen ledger (file is not a database)"),
             (other, "not a gatescreen ledger"), (newer, "newer than this program"),
             (damaged, "")]
    for path, words in cases:
        r = gslib.cli(conf, "db", "restore", path)
        check(r.returncode == 1 and words in r.stderr and "was not changed" in r.stderr,
              "restore from %s refused: %s" % (os.path.basename(path), r.stderr.strip()))
        check(every_row(db) == before, "ledger unchanged after %s" % os.path.basename(path))
    for args in (["db", "backup"], ["db", "restore"], ["db", "backup", "a", "b"]):
        r = gslib.cli(conf, *args)
        check(r.returncode == 2 and "usage" in r.stderr, "%s: usage, exit 2" % " ".join(args))


def main():
    d, conf, db, people = setup_school()
    backup = test_backup_while_writing(d, conf, db, people)
    test_restore(d, conf, db, people, backup)
    test_bad_restores(d, conf, db)
    gslib.finish()


if __name__ == "__main__":
    main()
