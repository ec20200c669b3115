"""Who sends which outbox row, and in what order (issue 16, items 10-14): the real
gatescreend and the real `gatescreen` CLI against the real HTTPS receiver on 127.0.0.1.

- notices never wait behind a failing summary: a summary answered 500 over and over,
  then one that times out, while the nurse's recheck opens a referral: the notice's
  delay from the recheck to the bureau (figure);
- "delivered after N failed attempts" counts the row's attempts, also across a restart;
- one sender per row: `gatescreen upload --now` while the daemon's POST of the same
  row is in flight (the receiver answers slowly): POSTs of that key (figure: 1); the
  daemon killed in the middle of a send: its lease holds the row until it expires,
  then the CLI sends it;
- `--retry-parked` keeps the order per day: revisions parked, a later one made, the
  parked ones retried: the bureau receives the day's revisions in ascending order;
- a 3xx is parked with its Location, in `gatescreen upload`'s line, the outbox's last
  error and the daemon's log;
- `gatescreend --check-config` refuses what the start refuses (token and key modes, an
  empty token, a bad pseudonym key, an unreadable CA), with the same message.

Needs the python3 module jsonschema (Debian python3-jsonschema); never skipped."""
import datetime
import os
import signal
import subprocess
import time

import https_receiver as hr

hr.need_jsonschema()

import gslib  # noqa: E402
from gslib import check  # noqa: E402

CODE = "UO16"
PATH = "/api/gatescreen"
ROSTER = "external_id,kind,name,grade,class,card,active\n" + "".join(
    "S%d,student,学生%d,一年级,一年级1班,%d,1\n" % (n, n, 1000 + n) for n in range(1, 9))
MOVED = "https://bureau.example.cn/v2/upload?from=gatescreen"


def config(zone, now, rx_url, d, certs):
    """gslib's base configuration, with every window and the day's end still to come:
    the daemon queues no summary by itself; the CLI's `upload` does."""
    m = lambda minutes: gslib.hhmm(now + datetime.timedelta(minutes=minutes))  # noqa: E731
    up = hr.upstream_section(rx_url, d, certs, day_end=m(100), timeout="3s")
    up = up.replace("connect_timeout = 2s", "connect_timeout = 1s")
    up = up.replace("retry_max = 2s", "retry_max = 4s")
    base = gslib.BASE_CONFIG.replace("code = T001", "code = " + CODE)
    base = base.replace("timezone = Asia/Shanghai", "timezone = " + zone)
    base = base.replace("tcp = 127.0.0.1:15999", "tcp = 127.0.0.1:%d" % gslib.free_port())
    windows = "morning = %s-%s\nnoon = %s-%s\ndays = mon-sun" % (m(40), m(60), m(70), m(90))
    return base.replace("morning = 07:00-08:30\nnoon = 11:30-13:00", windows) + "\n" + up


class School:
    def __init__(self):
        self.zone_name, self.now = gslib.school_zone(9)
        from zoneinfo import ZoneInfo
        self.zone = ZoneInfo(self.zone_name)
        self.today = self.now.date()
        self.day = self.today.isoformat()
        self.dir, _ = gslib.scratch("")
        self.certs = hr.make_certs(os.path.join(self.dir, "certs"))
        self.rx = hr.Receiver(os.path.join(self.dir, "receiver"), self.certs["server"],
                              self.certs["server.key"])
        self.key, self.token = hr.write_secrets(self.dir)
        self.conf = os.path.join(self.dir, "gatescreen.conf")
        with open(self.conf, "w", encoding="utf-8") as f:
            f.write(config(self.zone_name, self.now, self.rx.url(PATH), self.dir, self.certs))
        self.db = os.path.join(self.dir, "ledger.db")
        self.dm = None
        # Who checks in which window next: each a new fact (S2, S3 get fevers).
        self.pairs = [(p, w) for w in ("noon", "morning") for p in
                      ("S1", "S4", "S5", "S6", "S7", "S8", "S2", "S3")][:14]
        self.minute = 0
        with open(os.path.join(self.dir, "roster.csv"), "w", encoding="utf-8") as f:
            f.write(ROSTER)
        self.cli("roster", "import", os.path.join(self.dir, "roster.csv"))

    def cli(self, *args, ok=True):
        r = gslib.cli(self.conf, *args)
        if ok:
            check(r.returncode == 0, "gatescreen %s: %s" % (" ".join(args), (
                r.stdout.strip() if r.returncode == 0 else r.stderr.strip())[:300]))
        return r

    def start(self, what):
        self.dm = gslib.Daemon(self.conf)
        check(self.dm.wait_for("ready:", 15), "%s: gatescreend ready" % what)

    def summary_key(self, rev):
        return "%s/%s/%d" % (CODE, self.day, rev)

    def outbox(self):
        return hr.outbox_rows(gslib.db_query, self.db)

    def latest_summary(self):
        revs = [int(k.rsplit("/", 1)[1]) for k in self.outbox()
                if k.startswith("%s/%s/" % (CODE, self.day))]
        return max(revs) if revs else 0

    def new_facts(self, who=None, body=3640, flag=False):
        """One more check today (a fever for who): the next summary is a new revision."""
        self.minute += 1
        window = "morning"
        if not who:
            who, window = self.pairs.pop(0)
        gslib.gate_row(self.db, self.zone, self.today, who, "07:%02d" % self.minute, body,
                       outcome="fever" if flag else "admit", flag=flag, window=window)

    def new_summary(self, *extra):
        """New facts, and `gatescreen upload` queues (and with --now sends) revision n."""
        self.new_facts()
        r = self.cli("upload", *extra, ok=False)
        return self.latest_summary(), r

    def posts(self, key):
        return len([e for e in self.rx.received() if e["key"] == key])


def notice_delay(s, who, referral, figure, what):
    """A fever for who, the nurse's recheck: seconds until the referral notice is at
    the bureau (a figure)."""
    s.new_facts(who, 3850, flag=True)
    t0 = time.monotonic()
    s.cli("recheck", who, "38.5", "--instrument", "ear")
    got = s.rx.wait_keys(["%s/referral/%d" % (CODE, referral)], 10)
    took = time.monotonic() - t0
    gslib.figure(figure, round(took, 2))
    check(got and took < 2.5, "%s: at the bureau %s after the recheck"
          % (what, "%.2f s" % took if got else "not within 10 s"))


def notices_first(s):
    """Item 11: a referral notice while the day's summary fails."""
    s.start("first start")
    s.rx.set("fail", status=500, match="/%s/" % s.day)
    rev, _ = s.new_summary()
    key = s.summary_key(rev)
    check(gslib.wait_until(lambda: (s.outbox().get(key) or (0, 0, 0, 0))[3] >= 2, 10),
          "the bureau answers 500 to the summary %s: retried (attempts %s)" %
          (key, (s.outbox().get(key) or (0, 0, 0, 0))[3]))
    notice_delay(s, "S2", 1, "notice_delay_behind_500_s",
                 "the referral notice does not wait behind the failing summary")
    # A summary that times out (the bureau holds it past [upstream] timeout = 3s).
    s.rx.set("ok", delay=6, delay_match="/%s/" % s.day)
    check(s.rx.wait(lambda r: not r.idle(), 8), "the summary's next attempt is in flight")
    notice_delay(s, "S3", 2, "notice_delay_behind_timeout_s",
                 "nor behind a summary in flight that times out")
    check(s.dm.wait_for("%s set aside: an urgent notice goes first" % key, 3),
          "the daemon's log says the summary was set aside for it")
    return key


def attempts_across_restart(s, key):
    """Item 13 (log): 'after N failed attempts' is the row's count, not the process's."""
    s.rx.set("fail", status=500, match="/%s/" % s.day)
    gslib.wait_until(lambda: s.rx.idle(), 8)
    s.dm.stop()
    before = (s.outbox().get(key) or (0, 0, 0, 0))[3]
    s.rx.set("ok")
    s.start("restart while the summary fails")
    line = "%s delivered (HTTP 200) after %d failed attempts" % (key, before)
    check(s.dm.wait_for("upstream: %s delivered" % key, 10) and line in s.dm.text(),
          "after a restart the log says: ...%s (%s)" % (line, [
              ln for ln in s.dm.text().splitlines() if key + " delivered" in ln][:1]))


def one_sender(s):
    """Item 10: the CLI's --now while the daemon sends the same row."""
    s.rx.set("ok", delay=1.5)
    rev, _ = s.new_summary()
    key = s.summary_key(rev)
    check(s.rx.wait(lambda r: s.posts(key) > 0, 5),
          "the daemon's POST of %s is at the (slow) bureau" % key)
    listing = [ln for ln in s.cli("outbox").stdout.splitlines() if key in ln]
    r = s.cli("upload", "--now", ok=False)
    gslib.wait_until(lambda: s.rx.idle(), 8)
    check(listing and "(being sent by gatescreend[" in listing[0],
          "`gatescreen outbox` says who is sending it: %s" % listing)
    n = s.posts(key)
    gslib.figure("posts_of_a_row_cli_and_daemon", n)
    check(n == 1, "`upload --now` meanwhile does not POST it again: %d POST(s) of %s; the "
          "CLI says: %s" % (n, key, [ln for ln in r.stdout.splitlines() if key in ln]))
    check(r.returncode == 0, "...and `upload --now` exits 0 (%d)" % r.returncode)
    # The daemon killed in the middle of a send: its lease ends when it expires.
    s.rx.set("ok", delay=2)
    rev, _ = s.new_summary()
    key = s.summary_key(rev)
    check(s.rx.wait(lambda r: s.posts(key) > 0, 5),
          "the daemon's POST of %s is at the bureau" % key)
    s.dm.stop(signal.SIGKILL)
    t_kill = time.monotonic()
    r = s.cli("upload", "--now", ok=False)
    n = s.posts(key)
    check(n == 1 and "lease" in r.stdout, "at once after the kill the row is still the dead "
          "daemon's: not sent (%d POST); the CLI says: %s" % (
              n, [ln for ln in r.stdout.splitlines() if key in ln]))
    s.rx.set("ok")
    sent = False
    while not sent and time.monotonic() - t_kill < 12:
        time.sleep(1)
        r = s.cli("upload", "--now", ok=False)
        sent = "sent %s" % key in r.stdout
    took = time.monotonic() - t_kill
    check(sent and took < 8, "the dead holder's lease expired: the CLI sent %s %.1f s after the "
          "kill" % (key, took))


def retry_parked_order(s):
    """Item 12: parked revisions retried keep the order of their day."""
    s.rx.set("reject", status=400, message="schema check failed", match="/%s/" % s.day)
    parked = [s.new_summary("--now") for _ in range(3)]
    rows = s.outbox()
    states = [rows[s.summary_key(v)][2] for v, _ in parked]
    check(states[0] == "parked" and all(st in ("parked", "pending") for st in states),
          "revision %d refused with 400 is parked; %s: %s" % (
              parked[0][0], [v for v, _ in parked[1:]], states[1:]))
    waits = [ln for ln in parked[-1][1].stdout.splitlines() if "behind a parked" in ln]
    check(waits, "`upload --now` says what waits behind it: %s" % waits)
    first = s.summary_key(parked[0][0])
    listing = [ln for ln in s.cli("outbox").stdout.splitlines()
               if s.summary_key(parked[-1][0]) in ln]
    check(listing and "(waits behind parked %s)" % first in listing[0],
          "`gatescreen outbox` too: %s" % listing)
    parked = [v for v, _ in parked]
    s.rx.set("ok")
    later, r = s.new_summary("--now")
    s.cli("upload", "--retry-parked", "--now")
    keys = [s.summary_key(v) for v in parked + [later]]
    got = [int(k.rsplit("/", 1)[1]) for k in s.rx.accepted_keys() if k in keys]
    gslib.figure("day_order_after_retry_parked", "-".join(map(str, got)))
    check(got == sorted(got) and len(got) == 4, "the bureau received the day's revisions in "
          "order: %s" % got)


def redirect(s):
    """Item 14: a 3xx is parked with its Location shown."""
    s.start("start for the redirect")
    s.rx.set("reject", status=301, message="moved", location=MOVED, match="/%s/" % s.day)
    rev, _ = s.new_summary()
    key = s.summary_key(rev)
    gslib.wait_until(lambda: (s.outbox().get(key) or (0, 0, "pending"))[2] == "parked", 10)
    row = s.outbox().get(key) or (0, 0, "", 0, "")
    check(row[2] == "parked" and MOVED in row[4], "a 301 is parked, its last error names the "
          "Location: %r" % row[4])
    check(s.dm.wait_for(MOVED, 5), "the daemon's log names the Location: %s" % [
        ln for ln in s.dm.text().splitlines() if key + " refused" in ln][:1])
    r = s.cli("outbox")
    check(MOVED in r.stdout, "`gatescreen outbox` shows it")
    s.dm.stop()
    r = s.cli("upload", "--retry-parked", "--now", ok=False)
    check(MOVED in r.stdout, "`gatescreen upload --retry-parked --now` shows it: %s" % [
        ln for ln in r.stdout.splitlines() if "parked" in ln][:1])


def check_config():
    """Item 13: what the start refuses, --check-config refuses, in the same words."""
    cases = [("token 0644", lambda d: os.chmod(os.path.join(d, "token"), 0o644)),
             ("client key 0644", lambda d: os.chmod(os.path.join(d, "client.key"), 0o644)),
             ("empty token", lambda d: open(os.path.join(d, "token"), "w").close()),
             ("pseudonym key of 16 bytes",
              lambda d: open(os.path.join(d, "pseudonym.key"), "wb").write(os.urandom(16))),
             ("CA file missing", lambda d: os.unlink(os.path.join(d, "ca.pem"))),
             ("token with a space", lambda d: open(os.path.join(d, "token"), "w").write("a b\n"))]
    base = gslib.scratch("")[0]
    certs = hr.make_certs(os.path.join(base, "certs"))
    agree = 0
    for what, spoil in cases:
        d, _ = gslib.scratch("")
        hr.write_secrets(d)
        for name in ("client.pem", "client.key", "ca.pem"):
            src = certs["client" if name == "client.pem" else "client.key"
                        if name == "client.key" else "ca"]
            with open(src, "rb") as f, open(os.path.join(d, name), "wb") as g:
                g.write(f.read())
            os.chmod(os.path.join(d, name), 0o600)
        up = hr.upstream_section("https://127.0.0.1:9/up", d, certs, client="client")
        up = up.replace(certs["client"], "client.pem").replace(certs["client.key"], "client.key")
        up = up.replace(certs["ca"], "ca.pem")
        conf = os.path.join(d, "gatescreen.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write(gslib.BASE_CONFIG + "\n" + up)
        spoil(d)
        cc = subprocess.run([gslib.DAEMON, "--check-config", conf],
                                          capture_output=True, text=True, timeout=20)
        dm = gslib.Daemon(conf)
        try:
            rc = dm.proc.wait(10)
        except subprocess.TimeoutExpired:
            dm.stop()
            rc = 0  # it started
        start_errs = [ln.split("upstream: ", 1)[-1] for ln in dm.text().splitlines()
                      if d in ln and "error" in ln]
        said = [e for e in start_errs if e.split(": ", 1)[-1] in cc.stderr]
        ok = cc.returncode == 2 and "configuration OK" not in cc.stdout and rc != 0 and said
        agree += bool(ok)
        check(ok, "%s: the start refuses (%d), --check-config too (%d), in the same words: %s"
              % (what, rc, cc.returncode, (start_errs or ["(no message)"])[0][-120:]))
    gslib.figure("check_config_agrees_with_start", "%d/%d" % (agree, len(cases)))


def main():
    s = School()
    try:
        key = notices_first(s)
        attempts_across_restart(s, key)
        one_sender(s)
        retry_parked_order(s)
        redirect(s)
    finally:
        if s.dm and s.dm.proc.poll() is None:
            s.dm.stop()
        s.rx.stop()
    check_config()
    gslib.finish()


main()
