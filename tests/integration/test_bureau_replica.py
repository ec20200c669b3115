"""Roll-ups read from a streaming replica (issue 15, "Storage": "read replicas for
reporting"), tried rather than only documented (docs/bureau.md, "Scale-out").

A private PostgreSQL primary and a hot-standby replica made from it with
pg_basebackup. One collector writes to the primary; a second instance's dsn is the
replica. The replica's instance must start without writing (its schema is the
primary's), answer the pull API (/v1/rollup, /v1/notices, /v1/missing) and the
CLI's reports exactly as the primary's does once it has caught up, see a new upload
within seconds, and refuse writes (an upload, a CLI command that changes something)
with a message that says it is a read-only replica, never storing half of anything."""
import os
import time
import urllib.parse

import bureaulib as bl
import gslib
import pglib
from gslib import check

DAY = "2026-12-07"
TOKEN = "replica-pull-token-0123456789abcdef"
SCHOOLS = {"R001": "魏都区", "R002": "魏都区", "R003": "建安区"}


def figures_doc(code, day, revision):
    return bl.summary_doc(code, day, revision, figure=3 * revision)


def get(b, c, path, params):
    st, answer, raw = bl.post(c, b, None, method="GET",
                              path=path + "?" + urllib.parse.urlencode(params), token=TOKEN,
                              kind=None, ctype=None, cert=False)
    return st, raw


def caught_up(primary, replica, timeout=15.0):
    """Seconds until the replica has replayed the primary's WAL as of now."""
    lsn = primary.psql("SELECT pg_current_wal_lsn()")[0][0]
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        got = replica.psql("SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn" % lsn)
        if got == [["t"]]:
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


def with_pull(b, conf):
    path = os.path.join(b.dir, "pull.token")
    with open(path, "w") as f:
        f.write(TOKEN + "\n")
    os.chmod(path, 0o600)
    with open(conf, "a", encoding="utf-8") as f:
        f.write("\n[pull]\ntoken_files = %s\n" % path)


ROUTES = [("/v1/rollup", {"from": DAY, "to": DAY, "level": "city"}),
          ("/v1/rollup", {"from": DAY, "to": DAY, "level": "county"}),
          ("/v1/rollup", {"from": DAY, "to": DAY, "level": "school", "format": "csv"}),
          ("/v1/notices", {"from": DAY, "to": DAY}),
          ("/v1/missing", {"day": DAY})]


def answers_agree(b, a, r, what):
    for path, params in ROUTES:
        sa, ba = get(b, a, path, params)
        sr, br = get(b, r, path, params)
        # /v1/missing says when it was asked; everything else must be the same bytes
        if path == "/v1/missing":
            ba, br = bl.json.loads(ba), bl.json.loads(br)
            ba.pop("now", None)
            br.pop("now", None)
        check(sa == 200 and sr == 200 and ba == br,
              "%s: %s %s: the replica's answer is the primary's (%d, %d)"
              % (what, path, params.get("level", ""), sa, sr))


def cli_agree(b, conf_r):
    args = ("report", "--day", DAY, "--level", "county")
    p, r = b.cli(*args), b.cli(*args, conf=conf_r)
    check(p.returncode == 0 and r.returncode == 0 and p.stdout == r.stdout and
          len(p.stdout.splitlines()) >= 3,
          "gatescreen-bureau report on the replica prints what it prints on the primary "
          "(%d lines)" % len(r.stdout.splitlines()))
    args = ("missing", "--day", DAY)
    p, r = b.cli(*args), b.cli(*args, conf=conf_r)
    check(p.returncode == r.returncode and p.stdout == r.stdout,
          "gatescreen-bureau missing on the replica: the same list")


def writes_refused(b, r, conf_r, school):
    before = b.sql("SELECT count(*) FROM documents")
    st, ans, _ = bl.send(r, b, school, figures_doc(school.code, DAY, 9))
    err = (ans or {}).get("error", "")
    check(st == 503 and "read-only replica" in err,
          "an upload to the replica's instance: %d %s" % (st, err))
    x = b.cli("school", "add", "R999", "--name", "新学校", "--county", "魏都区", "--kind", "小学",
              conf=conf_r)
    check(x.returncode != 0 and "read-only replica" in x.stderr,
          "school add against the replica: exit %d, %s" % (x.returncode, x.stderr.strip()[:160]))
    check(b.sql("SELECT count(*) FROM documents") == before and
          b.sql("SELECT count(*) FROM schools WHERE code = 'R999'") == [["0"]],
          "  nothing was written anywhere")


def main():
    with bl.Bureau() as b:
        with_pull(b, b.conf)
        a = b.collector()
        schools = {code: b.enrol(code, county=county) for code, county in SCHOOLS.items()}
        for code, rev in (("R001", 1), ("R001", 2), ("R003", 1)):
            st, _, _ = bl.send(a, b, schools[code], figures_doc(code, DAY, rev))
            check(st == 201, "%s revision %d to the primary's collector: %d" % (code, rev, st))
        st, _, _ = bl.send(a, b, schools["R002"], bl.notice_doc("R002", 1, day=DAY))
        check(st == 201, "a notice to the primary's collector: %d" % st)

        replica = pglib.Postgres("gs-pg-replica-", primary=b.pg)
        try:
            check(replica.psql("SELECT pg_is_in_recovery()", "bureau") == [["t"]],
                  "the replica is a hot standby of the primary")
            conf_r = b.write_config("replica.conf", bl.free_port(), "bureau-r",
                                    dsn=replica.dsn("bureau"))
            with_pull(b, conf_r)
            port = int(open(conf_r).read().split("listen = 127.0.0.1:")[1].split()[0])
            r = bl.Collector(conf_r, port, "bureau-r")
            b.collectors.append(r)
            r.start()
            check("applied migration" not in r.text(),
                  "an instance on the replica starts without writing (its schema is the "
                  "primary's)")
            lag = caught_up(b.pg, replica)
            check(lag is not None, "the replica caught up in %.2f s" % (lag or -1))
            answers_agree(b, a, r, "after catching up")
            cli_agree(b, conf_r)

            t0 = time.monotonic()
            st, _, _ = bl.send(a, b, schools["R002"], figures_doc("R002", DAY, 1))
            seen = None
            while time.monotonic() - t0 < 10 and seen is None:
                _, body = get(b, r, "/v1/rollup", {"from": DAY, "to": DAY, "level": "school",
                                                    "format": "csv"})
                if b"R002" in body and body.count(b"\n") >= 4:
                    seen = time.monotonic() - t0
                time.sleep(0.02)
            check(st == 201 and seen is not None,
                  "a new upload to the primary is in the replica's roll-up after %.3f s"
                  % (seen or -1))
            gslib.figure("replica_visible_after_s", "%.3f" % (seen or -1))
            caught_up(b.pg, replica)
            answers_agree(b, a, r, "after a new upload")
            writes_refused(b, r, conf_r, schools["R001"])
            rc, _ = r.stop()
            check(rc == 0, "the replica's instance stops cleanly")
        finally:
            replica.close()
    gslib.finish()


if __name__ == "__main__":
    main()
