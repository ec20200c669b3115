"""Two schools' real gatescreen deliver to the real collector (issue 15): each school
has its ledger, roster, nurse's commands and [upstream] pointing at
gatescreen-bureaud over mutual TLS (school XC1001's certificate names it in a SAN URI,
XC1002's in its CN), on a private PostgreSQL. `gatescreen upload --now` sends their
summaries and notices; then the collector is stopped in the middle (the schools'
rows wait) and started again; PostgreSQL is restarted under the running collector;
and XC1001's real gatescreend delivers what its nurse records while the collector is
down and after. In the end every row of each school's outbox is sent and is in the
bureau's database exactly once, byte for byte, every summary revision is kept, the
day's latest is the highest, and nothing was quarantined."""
import datetime
import os
import signal
import subprocess
import sys
import time

import bureaulib as bl
import gslib
from gslib import check

ZONE, NOW = gslib.school_zone(15)  # the day's windows have closed
DAY = NOW.strftime("%Y-%m-%d")


def roster(d, seed):
    path = os.path.join(d, "roster.csv")
    out = subprocess.run([sys.executable, gslib.MAKE_ROSTER, "--students", "20", "--staff", "2",
                          "--classes", "2", "--seed", str(seed)], capture_output=True,
                         check=True).stdout
    with open(path, "wb") as f:
        f.write(out)
    return path


def school_config(code, school, b, url, d):
    return """\
[school]
code = %s
name = 测试学校%s
timezone = %s

[ledger]
database = ledger.db

[windows]
morning = 07:00-08:30
noon = 11:30-13:00

[upstream]
url = %s
ca_file = %s
client_cert = %s
client_key = %s
token_file = token
secret_file = pseudonym.key
connect_timeout = 2s
timeout = 5s
retry_min = 1s
retry_max = 2s

[bus sim]
tcp = 127.0.0.1:%d
response_timeout = 100ms

[lane east-1]
gate = 东门
identity = device
indicator = console

[device ir-1]
bus = sim
unit = 1
lane = east-1
""" % (code, code, ZONE, url, b.certs["ca"], school.cert, school.key, gslib.free_port())


class Box:
    """One school's gatescreen: its folder, config, ledger, CLI and daemon."""

    def __init__(self, b, code, url, uri, seed):
        self.code = code
        self.school = b.enrol(code, uri=uri)
        self.dir, _ = gslib.scratch("")
        with open(os.path.join(self.dir, "token"), "w") as f:
            f.write(self.school.token + "\n")
        os.chmod(os.path.join(self.dir, "token"), 0o600)
        with open(os.path.join(self.dir, "pseudonym.key"), "wb") as f:
            f.write(os.urandom(32))
        os.chmod(os.path.join(self.dir, "pseudonym.key"), 0o600)
        self.conf = os.path.join(self.dir, "gatescreen.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(school_config(code, self.school, b, url, self.dir))
        self.db = os.path.join(self.dir, "ledger.db")
        self.cli_ok("roster", "import", roster(self.dir, seed))
        self.people = [r[0] for r in gslib.db_query(self.db, "SELECT external_id FROM people "
                                                    "WHERE kind = 'student' ORDER BY id")]
        self.dm = None

    def cli(self, *args):
        return gslib.cli(self.conf, *args)

    def cli_ok(self, *args):
        r = self.cli(*args)
        check(r.returncode == 0, "%s: gatescreen %s%s" % (
            self.code, " ".join(args[:3]), "" if r.returncode == 0 else
            " -> %d %s" % (r.returncode, (r.stderr or r.stdout).strip()[:300])))
        return r

    def outbox(self):
        """{key: (state, body)}"""
        return {k: (st, body) for k, st, body in gslib.db_query(
            self.db, "SELECT idempotency_key, state, body FROM outbox ORDER BY id")}

    def revisions(self):
        return [r[0] for r in gslib.db_query(self.db, "SELECT revision FROM summaries "
                                             "WHERE day = ? ORDER BY revision", (DAY,))]


def delivered(b, box):
    """The school's documents in the bureau's database: {key: body}."""
    rows = b.sql("SELECT idem_key, body FROM documents WHERE school_code = '%s'" % box.code)
    return {k: body for k, body in rows}


def check_all_there(b, box, what):
    ob = box.outbox()
    got = delivered(b, box)
    pending = [k for k, (st, _) in ob.items() if st != "sent"]
    check(ob and not pending, "%s: %s: every outbox row is sent (%d)%s" % (
        what, box.code, len(ob), "" if not pending else "; not: %s" % pending))
    check(set(got) == set(ob), "%s: %s: the bureau has exactly the school's keys%s" % (
        what, box.code, "" if set(got) == set(ob) else
        " (missing %s, extra %s)" % (sorted(set(ob) - set(got)), sorted(set(got) - set(ob)))))
    same = [k for k in ob if got.get(k) == ob[k][1]]
    check(len(same) == len(ob), "%s: %s: each stored byte for byte as sent (%d/%d)"
          % (what, box.code, len(same), len(ob)))


def illness(box, who):
    for p in who:
        box.cli_ok("absence", p, "--cause", "illness", "--symptoms", "fever")


def first_uploads(b, boxes):
    for box in boxes:
        illness(box, box.people[:3])  # three in one class: a cluster alert, a notice
        box.cli_ok("upload", "--now")
        check_all_there(b, box, "first upload")
        keys = set(delivered(b, box))
        check("%s/alert/1" % box.code in keys and "%s/%s/1" % (box.code, DAY) in keys,
              "%s: the alert notice and summary revision 1 arrived" % box.code)


def collector_restart(b, c, boxes):
    rc, _ = c.stop()
    check(rc == 0, "the collector stops in the middle of the day (exit %d)" % rc)
    for box in boxes:
        illness(box, box.people[3:4])
        r = box.cli("upload", "--now")
        check(r.returncode == 1, "%s: upload --now with the collector down: exit 1 (%s)" % (
            box.code, (r.stderr or r.stdout).strip().splitlines()[-1:]))
        check(any(st == "pending" for st, _ in box.outbox().values()),
              "%s: the new revision waits in the outbox" % box.code)
    c.start()
    for box in boxes:
        box.cli_ok("upload", "--now")
        check_all_there(b, box, "after the collector's restart")


def postgres_restart(b, c, boxes):
    b.pg.restart()
    for box in boxes:
        illness(box, box.people[4:5])
        r = box.cli("upload", "--now")
        if r.returncode != 0:  # a 503 is allowed: the row waits, the next try takes it
            time.sleep(1.5)
            r = box.cli("upload", "--now")
        check(r.returncode == 0, "%s: after PostgreSQL restarted under the collector the "
              "upload goes through: %s" % (box.code, (r.stderr or r.stdout).strip().splitlines()[-1:]))
        check_all_there(b, box, "after PostgreSQL's restart")
    check("connected again" in c.text(), "the collector's connections were made again")


def start_daemon(box, what):
    box.dm = gslib.Daemon(box.conf)
    check(box.dm.wait_for("ready:", 20), "%s: gatescreend %s" % (box.code, what))


def daemon_delivers(b, c, box):
    """The school's own daemon: its nurse records while the collector is down; the
    daemon's uploader keeps trying and delivers once it is back, and again across a
    PostgreSQL restart."""
    start_daemon(box, "runs")
    time.sleep(1)
    rc, _ = c.stop()
    box.cli_ok("check", box.people[6], "38.6", "--instrument", "infrared")
    box.cli_ok("recheck", box.people[6], "38.7", "--instrument", "ear")
    box.cli_ok("upload")  # queued only: the daemon sends
    ref = "%s/referral/1" % box.code
    check(gslib.wait_until(lambda: ref in box.outbox(), 10), "%s: the referral notice is "
          "queued" % box.code)
    time.sleep(2.5)
    check(box.outbox()[ref][0] == "pending", "the collector is down: the daemon's rows wait")
    c.start()
    check(gslib.wait_until(lambda: all(st == "sent" for st, _ in box.outbox().values()), 15),
          "the collector is back: gatescreend delivers every waiting row")
    b.pg.restart()
    box.cli_ok("absence", box.people[7], "--cause", "personal")
    box.cli_ok("upload")
    check(gslib.wait_until(lambda: all(st == "sent" for st, _ in box.outbox().values()), 15),
          "PostgreSQL restarted: the daemon's next revision is delivered too")
    rc, took = box.dm.stop()
    check(rc == 0, "%s: gatescreend stops (exit %d)" % (box.code, rc))
    check_all_there(b, box, "the daemon's deliveries")


def final(b, boxes):
    for box in boxes:
        check_all_there(b, box, "in the end")
        revs = [int(r[0]) for r in b.sql("SELECT revision FROM summaries WHERE school_code = "
                                         "'%s' AND day = '%s' ORDER BY revision"
                                         % (box.code, DAY))]
        check(revs == box.revisions() and revs == list(range(1, len(revs) + 1)),
              "%s: every revision the school made is kept once: %s" % (box.code, revs))
        latest = b.sql("SELECT revision FROM summary_latest WHERE school_code = '%s' AND "
                       "day = '%s'" % (box.code, DAY))
        check(latest == [[str(max(revs))]], "%s: the day's latest is revision %d"
              % (box.code, max(revs)))
        notices = sorted(k for k in box.outbox() if "/alert/" in k or "/referral/" in k)
        got = sorted(r[0] for r in b.sql("SELECT notice_id FROM notices WHERE school_code = "
                                         "'%s'" % box.code))
        check(got == notices, "%s: every notice is in notices: %s" % (box.code, got))
    q = b.sql("SELECT http_status, reason FROM quarantine")
    check(q == [], "nothing was quarantined: %s" % q[:3])


def main():
    with bl.Bureau() as b:
        c = b.collector()
        boxes = [Box(b, "XC1001", c.url(), True, 1), Box(b, "XC1002", c.url(), False, 2)]
        try:
            first_uploads(b, boxes)
            collector_restart(b, c, boxes)
            postgres_restart(b, c, boxes)
            daemon_delivers(b, c, boxes[0])
            final(b, boxes)
        finally:
            for box in boxes:
                if box.dm and box.dm.proc.poll() is None:
                    box.dm.stop(signal.SIGKILL)
        rc, _ = c.stop()
        check(rc == 0, "the collector stops cleanly")
    gslib.finish()


if __name__ == "__main__":
    main()
