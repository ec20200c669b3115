"""Upgrades keep every row (issue 20): tests/fixtures/ledger-schema1.db was written by
the first release's own programs at schema version 1 (tests/tools/make_ledger_fixture.sh
says how). Migrated by `gatescreen db upgrade` and, from a fresh copy, by the daemon's
start, every row of every table it had is still there with the same values in the
same columns; a ledger newer than the program is refused and left as it was."""
import os
import shutil

import gslib
from gslib import check

FIXTURE = os.path.join(gslib.SOURCE, "tests/fixtures/ledger-schema1.db")


def tables(db):
    names = gslib.db_query(db, "SELECT name FROM sqlite_schema WHERE type = 'table' "
                               "AND name NOT LIKE 'sqlite_%' ORDER BY name")
    return [n for (n,) in names]


def columns(db, table):
    return [row[1] for row in gslib.db_query(db, "PRAGMA table_info(\"%s\")" % table)]


def rows(db, table, cols):
    sql = "SELECT %s FROM \"%s\"" % (", ".join('"%s"' % c for c in cols), table)
    return sorted(gslib.db_query(db, sql), key=repr)


def snapshot(db):
    return {t: (columns(db, t), rows(db, t, columns(db, t))) for t in tables(db)}


def same_rows(before, db, how, added_ok=False):
    """Every old row in its old columns, unchanged; with added_ok, rows the new
    program adds itself (the daemon registers its configured lanes) may join them."""
    for table, (cols, old_rows) in before.items():
        check(table in tables(db), "%s: table %s still there" % (how, table))
        new_rows = rows(db, table, cols)
        kept = (all(r in new_rows for r in old_rows) if added_ok else new_rows == old_rows)
        check(kept, "%s: %s keeps its %d rows in its %d old columns (%d after)" %
              (how, table, len(old_rows), len(cols), len(new_rows)))


def fresh_copy():
    d, conf = gslib.scratch()
    db = os.path.join(d, "ledger.db")
    shutil.copyfile(FIXTURE, db)
    return d, conf, db


def main():
    check(gslib.db_query(FIXTURE, "PRAGMA user_version") == [(1,)], "fixture is at schema 1")
    before = snapshot(FIXTURE)
    filled = [t for t, (_, r) in before.items() if r]
    check(len(filled) >= 15, "fixture has rows in %d of %d tables: %s" %
          (len(filled), len(before), ", ".join(sorted(filled))))

    d, conf = gslib.scratch()
    r = gslib.cli(conf, "db", "upgrade")
    check(r.returncode == 1 and "does not exist" in r.stderr and
          not os.path.exists(os.path.join(d, "ledger.db")),
          "db upgrade without a ledger: refused, nothing made (%s)" % r.stderr.strip())

    d, conf, db = fresh_copy()
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 0 and "schema version 1 " in r.stdout and "db upgrade" in r.stdout,
          "db check on the old ledger says it is old and how to upgrade (%s)" % r.stdout.strip())
    r = gslib.cli(conf, "db", "upgrade")
    latest = gslib.cli(conf, "version").stdout.split("ledger schema ")[1].rstrip(")\n")
    check(r.returncode == 0 and "schema version 1 -> %s" % latest in r.stdout,
          "db upgrade: 1 -> %s (%s%s)" % (latest, r.stdout.strip(), r.stderr.strip()))
    same_rows(before, db, "db upgrade")
    r = gslib.cli(conf, "db", "check")
    check(r.returncode == 0 and "integrity check ok" in r.stdout, "db check after the upgrade")
    r = gslib.cli(conf, "db", "upgrade")
    check(r.returncode == 0 and "%s -> %s" % (latest, latest) in r.stdout, "upgrade again: no-op")

    d, conf, db = fresh_copy()
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "daemon starts on the old ledger")
    check("applied migration" in dm.text(), "the daemon migrated it at its start")
    rc, _ = dm.stop()
    check(rc == 0, "daemon stopped cleanly")
    same_rows(before, db, "daemon's start", added_ok=True)

    gslib.db_query(db, "PRAGMA user_version = %d" % (int(latest) + 1))
    newer = snapshot(db)
    r = gslib.cli(conf, "db", "upgrade")
    check(r.returncode == 1 and "newer than this program knows" in r.stderr,
          "db upgrade of a newer ledger refused (%d %s)" % (r.returncode, r.stderr.strip()))
    check(snapshot(db) == newer and
          gslib.db_query(db, "PRAGMA user_version") == [(int(latest) + 1,)],
          "the newer ledger is left as it was")
    gslib.finish()


if __name__ == "__main__":
    main()
