"""Enrolment round trip (issue 15, "Enrolment"): the bureau's CA and a school's bundle
made by bureau/enrol (through tests/tools/bureau_enrol_tool, the stand-in for
`gatescreen-bureau school enrol`), the certificate cross-checked with the openssl
command; `gatescreen upstream enrol BUNDLE` on a scratch school configuration that
already has an [upstream] section with comments; `gatescreend --check-config` OK;
then the real gatescreend uploads its summary to tests/integration/https_receiver.py,
which requires a client certificate from that CA: the receiver sees CN = the school
code, the SAN URI, the fingerprint the bureau recorded, and a bearer token whose
SHA-256 is the recorded one. Every bad input is refused with a message saying what
and where, and changes nothing: a bundle for another school, a truncated bundle, a
key that is not the certificate's, a certificate of another school, an expired
certificate, a configuration with an error, a folder that is missing or not
writable, an unknown --user. A second enrolment (renewal) replaces the files, keeps
the old ones as .bak, and the next upload carries the new certificate.

Needs the python3 module jsonschema (Debian python3-jsonschema); never skipped."""
import datetime
import hashlib
import json
import os
import pwd
import shutil
import subprocess

import https_receiver as hr

hr.need_jsonschema()

import gslib  # noqa: E402
from gslib import check  # noqa: E402

TOOL = os.path.join(gslib.BUILD, "bureau_enrol_tool")
CODE = "ENR01"
PATH = "/gs/v1"
ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张小明,一年级,一年级1班,1001,1
S2,student,李小红,一年级,一年级1班,1002,1
"""

# The school's configuration before enrolment: [upstream] as the packaged example
# has it (another bureau URL, files that are not there yet), comments everywhere.
CONFIG = """\
# 测试学校 gate controller
[school]
code = %(code)s
name = 测试学校
timezone = %(zone)s

[ledger]
# the health ledger
database = ledger.db

[windows]
morning = %(m0)s-%(m1)s
days = mon-sun

# Where the daily figures go.
[upstream]
; the bureau's old endpoint
url = https://jyj.example.cn/old/v1
ca_file = /etc/gatescreen/bureau-ca.pem
secret_file = pseudonym.key
identify = pseudonym
day_end = %(day_end)s
connect_timeout = 2s
timeout = 5s
retry_min = 1s
retry_max = 2s

[bus sim]
tcp = 127.0.0.1:%(bus)d

[lane east-1]
gate = 东门
indicator = console

[device ir-1]
bus = sim
unit = 1
lane = east-1
"""

UPSTREAM_KEYS = ("url", "ca_file", "client_cert", "client_key", "token_file")


def run(*argv, user=None):
    if user:
        argv = ("runuser", "-u", user, "--") + argv
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=120)


def tool(*args):
    return run(TOOL, *args)


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def snapshot(d):
    """Every file in d: name -> (mode, owner, SHA-256 of the bytes)."""
    out = {}
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        st = os.lstat(p)
        with open(p, "rb") as f:
            out[name] = (oct(st.st_mode & 0o7777), st.st_uid, sha256_hex(f.read()))
    return out


class Bench:
    def __init__(self):
        self.zone, self.now = gslib.school_zone(10)
        self.today = self.now.strftime("%Y-%m-%d")
        self.dir, _ = gslib.scratch("")
        os.chmod(self.dir, 0o711)  # nobody must reach the unwritable-folder case
        self.certs = hr.make_certs(os.path.join(self.dir, "certs"))  # the server's CA
        self.ca = os.path.join(self.dir, "bureau-ca")                # the schools' CA
        self.etc = os.path.join(self.dir, "etc")
        os.makedirs(self.etc)
        self.conf = os.path.join(self.etc, "gatescreen.conf")
        self.port = hr.free_port()
        self.url = "https://127.0.0.1:%d%s" % (self.port, PATH)
        self.root = os.geteuid() == 0
        self.owner = "nobody" if self.root else None

    def config_text(self):
        m = lambda minutes: gslib.hhmm(self.now + datetime.timedelta(minutes=minutes))  # noqa
        return CONFIG % {"code": CODE, "zone": self.zone, "m0": m(-40), "m1": m(-30),
                         "day_end": m(120), "bus": gslib.free_port()}

    def bundle(self, code, name, *extra):
        """Enrols code; returns (bundle path, the bureau's record)."""
        out = os.path.join(self.dir, name)
        r = tool("enrol", code, "--ca", self.ca, "--url", self.url, "--server-ca",
                 self.certs["ca"], "--out", out, *extra)
        check(r.returncode == 0, "bureau: %s enrolled into %s %s" % (code, name, r.stderr.strip()))
        return out, (json.loads(r.stdout) if r.returncode == 0 else {})

    def enrol(self, bundle, *extra, conf=None, user=None):
        args = ["upstream", "enrol", bundle, *extra]
        if self.owner and not user and "--user" not in extra:
            args += ["--user", self.owner]
        return run(gslib.CLI, "-c", conf or self.conf, *args, user=user)


def bureau_side(b):
    r = tool("init-ca", b.ca, "--name", "测试教育局 school CA")
    check(r.returncode == 0, "bureau: CA made (%s)" % r.stderr.strip())
    check(oct(os.stat(os.path.join(b.ca, "ca.key")).st_mode & 0o777) == "0o600",
          "bureau: the CA key is 0600")
    r = tool("init-ca", b.ca)
    check(r.returncode == 1 and "exists already; it is not replaced" in r.stderr,
          "bureau: an existing CA is never replaced: %r" % r.stderr.strip())
    path, rec = b.bundle(CODE, "school.bundle")
    check(oct(os.stat(path).st_mode & 0o777) == "0o600", "bureau: the bundle is 0600")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    check(sorted(doc) == ["about", "certificate", "format", "key", "school", "server_ca",
                          "token", "url"] and doc["format"] == "gatescreen.enrolment/1" and
          doc["school"] == CODE and doc["url"] == b.url,
          "bureau: the bundle holds format, school, url, server CA, certificate, key, token")
    with open(b.certs["ca"], encoding="utf-8") as f:
        check(doc["server_ca"] == f.read(), "bureau: the server CA is the one given "
              "(not the schools' CA)")
    cert = os.path.join(b.dir, "school.pem")
    with open(cert, "w", encoding="utf-8") as f:
        f.write(doc["certificate"])
    fp = run("openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", cert).stdout
    fp = fp.strip().split("=", 1)[-1].replace(":", "").lower()
    check(fp == rec.get("cert_sha256"), "bureau: the recorded fingerprint is openssl's (%s)" % fp)
    subj = run("openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName,extendedKeyUsage",
               "-in", cert).stdout
    check("subject=CN = %s" % CODE in subj and "URI:urn:gatescreen:school:%s" % CODE in subj and
          "TLS Web Client Authentication" in subj,
          "bureau: CN, SAN URI and clientAuth as openssl reads them: %r" % subj)
    v = run("openssl", "verify", "-CAfile", os.path.join(b.ca, "ca.pem"), "-purpose", "sslclient",
            cert)
    check(v.returncode == 0, "bureau: openssl verifies it as a client certificate of the CA")
    check(sha256_hex(doc["token"].encode()) == rec.get("token_sha256"),
          "bureau: the recorded token_sha256 is the SHA-256 of the token's text")
    r = tool("enrol", CODE, "--ca", b.ca, "--url", b.url, "--out", path)
    check(r.returncode == 1 and "exists already" in r.stderr,
          "bureau: a bundle is never written over another: %r" % r.stderr.strip())
    return path, rec, doc


def refused(b, what, r, words, status=1):
    """The CLI refused with every one of words in its messages, and etc is unchanged."""
    err = r.stderr
    ok = r.returncode == status and all(w in err for w in words) and \
        "not installed; nothing was changed" in err and snapshot(b.etc) == b.before
    check(ok, "%s: refused (status %d), saying %s; nothing changed%s" % (
        what, r.returncode, words, "" if ok else ": %r" % err.strip()[-400:]))


def mutated(b, good, name, **members):
    out = os.path.join(b.dir, name)
    with open(good, encoding="utf-8") as f:
        doc = json.load(f)
    doc.update(members)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
    return out


def bad_inputs(b, good):
    b.before = snapshot(b.etc)
    other, _ = b.bundle("OTH02", "other.bundle")
    r = b.enrol(other)
    refused(b, "a bundle for another school", r,
            ["other.bundle: the bundle is for school OTH02, but %s:3: [school] code is %s"
             % (b.conf, CODE)])
    trunc = os.path.join(b.dir, "truncated.bundle")
    with open(good, encoding="utf-8") as f, open(trunc, "w", encoding="utf-8") as g:
        g.write(f.read()[:700])
    refused(b, "a truncated bundle", b.enrol(trunc), ["truncated.bundle:", ": not a bundle:"])
    with open(other, encoding="utf-8") as f:
        odoc = json.load(f)
    refused(b, "a key that is not the certificate's",
            b.enrol(mutated(b, good, "key.bundle", key=odoc["key"])),
            ['key.bundle: "key": not the key of the certificate in "certificate"'])
    refused(b, "another school's certificate and key under this school's code",
            b.enrol(mutated(b, good, "cert.bundle", certificate=odoc["certificate"],
                            key=odoc["key"])),
            ['cert.bundle: "certificate": the certificate is school OTH02\'s, not %s\'s' % CODE])
    refused(b, "an unknown member", b.enrol(mutated(b, good, "x.bundle", extra="1")),
            ['x.bundle: unknown key "extra"'])
    old_ca = os.path.join(b.dir, "old-ca")
    t = int(datetime.datetime.now().timestamp())
    tool("init-ca", old_ca, "--now", str(t - 10 * 86400))
    r = tool("enrol", CODE, "--ca", old_ca, "--url", b.url, "--days", "1", "--now",
             str(t - 5 * 86400), "--out", os.path.join(b.dir, "expired.bundle"))
    check(r.returncode == 0, "bureau: a certificate that expired 4 days ago, for the next case")
    refused(b, "an expired certificate", b.enrol(os.path.join(b.dir, "expired.bundle")),
            ['expired.bundle: "certificate": the certificate expired on'])
    refused(b, "a missing bundle", b.enrol(os.path.join(b.dir, "none.bundle")),
            ["none.bundle: cannot open the enrolment bundle: No such file"])
    refused(b, "a missing folder", b.enrol(good, "--dir", os.path.join(b.dir, "nodir")),
            ["--dir %s: no such folder" % os.path.join(b.dir, "nodir")])
    refused(b, "an unknown --user", b.enrol(good, "--user", "no-such-user-x"),
            ["--user no-such-user-x: no such user on this machine"])
    broken = os.path.join(b.dir, "broken.conf")
    with open(broken, "w", encoding="utf-8") as f:
        f.write(b.config_text().replace("days = mon-sun", "days = someday"))
    refused(b, "a configuration with an error", b.enrol(good, conf=broken),
            ["%s:13: " % broken, "fix the configuration first"], status=2)
    unwritable(b, good)


def unwritable(b, good):
    """A folder the caller may not write: as root, run the CLI as nobody."""
    nb = os.path.join(b.dir, "nb")
    folder = os.path.join(b.dir, "readonly")
    os.makedirs(nb)
    os.makedirs(folder)
    os.chmod(nb, 0o755)
    os.chmod(folder, 0o555)
    bundle, conf = os.path.join(nb, "b.bundle"), os.path.join(nb, "gatescreen.conf")
    shutil.copy(good, bundle)
    shutil.copy(b.conf, conf)
    user = None
    if b.root:
        pw = pwd.getpwnam("nobody")
        for p in (nb, bundle, conf):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        user = "nobody"
    before = snapshot(nb)
    r = b.enrol(bundle, "--dir", folder, conf=conf, user=user)
    check(r.returncode == 1 and "%s/bureau-ca.pem: cannot write in its folder: Permission "
          "denied" % folder in r.stderr and "nothing was changed" in r.stderr and
          os.listdir(folder) == [] and snapshot(nb) == before,
          "a folder it may not write: refused, nothing changed: %r" % r.stderr.strip()[-300:])


def conf_lines_kept(old, new):
    """Every line of the old configuration is in the new one, in order, except the
    [upstream] keys that were set; the new lines are only those keys."""
    is_key = lambda ln: ln.split("=")[0].strip() in UPSTREAM_KEYS  # noqa: E731
    return [ln for ln in old.splitlines() if not is_key(ln)] == \
        [ln for ln in new.splitlines() if not is_key(ln)]


def install(b, good, doc):
    with open(b.conf, encoding="utf-8") as f:
        old = f.read()
    r = b.enrol(good)
    check(r.returncode == 0, "school: `gatescreen upstream enrol` installs it: %r"
          % (r.stdout + r.stderr).strip()[-600:])
    e = lambda name: os.path.join(b.etc, name)  # noqa: E731
    with open(e("gatescreen.conf"), encoding="utf-8") as f:
        new = f.read()
    with open(e("gatescreen.conf.bak"), encoding="utf-8") as f:
        check(f.read() == old, "school: the previous configuration is kept as .bak")
    check(conf_lines_kept(old, new), "school: every other line of the configuration kept "
          "(comments, sections, identify, day_end)")
    want = {"url": b.url, "ca_file": e("bureau-ca.pem"), "client_cert": e("client.pem"),
            "client_key": e("client.key"), "token_file": e("token")}
    got = {ln.split("=")[0].strip(): ln.split("=", 1)[1].strip() for ln in new.splitlines()
           if ln.split("=")[0].strip() in UPSTREAM_KEYS}
    check(got == want, "school: [upstream] points at the installed files: %s" % got)
    uid = pwd.getpwnam(b.owner).pw_uid if b.owner else os.geteuid()
    st = {n: os.stat(e(n)) for n in ("bureau-ca.pem", "client.pem", "client.key", "token",
                                     "pseudonym.key", "gatescreen.conf")}
    modes = {n: oct(s.st_mode & 0o777) for n, s in st.items()}
    check(modes == {"bureau-ca.pem": "0o644", "client.pem": "0o644", "client.key": "0o600",
                    "token": "0o600", "pseudonym.key": "0o600", "gatescreen.conf": "0o640"},
          "school: modes %s" % modes)
    check(all(st[n].st_uid == uid for n in ("client.key", "token", "pseudonym.key")),
          "school: the key, token and new pseudonym key belong to %s" % (b.owner or "the caller"))
    with open(e("token"), encoding="utf-8") as f:
        check(f.read() == doc["token"] + "\n", "school: the token file holds the token")
    with open(e("bureau-ca.pem"), encoding="utf-8") as f, open(b.certs["ca"]) as g:
        check(f.read() == g.read(), "school: ca_file is the bureau's server CA")
    check(os.path.getsize(e("pseudonym.key")) == 32, "school: a 32-byte pseudonym key made "
          "where the configuration names one that was missing")
    c = subprocess.run([gslib.DAEMON, "--check-config", "-c", b.conf], capture_output=True,
                       text=True)
    check(c.returncode == 0 and c.stdout.strip() == "configuration OK",
          "school: gatescreend --check-config: %r" % (c.stdout + c.stderr).strip())


def upload(b, rec, doc):
    rx = hr.Receiver(os.path.join(b.dir, "rx"), b.certs["server"], b.certs["server.key"],
                     client_ca=os.path.join(b.ca, "ca.pem"), port=b.port)
    try:
        key = "%s/%s/1" % (CODE, b.today)
        dm = gslib.Daemon(b.conf)
        check(dm.wait_for("ready:", 15), "school: gatescreend starts with the enrolment")
        check(rx.wait_keys([key], 20), "bureau: the day's summary arrived over mutual TLS (%s)"
              % rx.accepted_keys())
        rc, _ = dm.stop()
        check(rc == 0, "school: gatescreend stops cleanly")
        evs = [ev for ev in rx.received() if ev["key"] == key]
        ev = evs[0] if evs else {}
        check(ev.get("client_subject") == "commonName=%s" % CODE,
              "bureau: the client certificate's subject is CN=%s: %r"
              % (CODE, ev.get("client_subject")))
        check(ev.get("client_san") == ["URI:urn:gatescreen:school:%s" % CODE],
              "bureau: its SAN: %r" % ev.get("client_san"))
        check(ev.get("client_sha256") == rec["cert_sha256"],
              "bureau: its SHA-256 is the recorded cert_sha256")
        auth = ev.get("headers", {}).get("authorization", "")
        token = auth[len("Bearer "):] if auth.startswith("Bearer ") else ""
        check(sha256_hex(token.encode()) == rec["token_sha256"],
              "bureau: the bearer token's SHA-256 is the recorded token_sha256")
        people = gslib.db_query(os.path.join(b.etc, "ledger.db"),
                                "SELECT external_id, name FROM people")
        hr.check_requests(rx, check, gslib.SOURCE, people, CODE, token=doc["token"], path=PATH)
        return rx
    except Exception:
        rx.stop()
        raise


def renewal(b, rx):
    """A second enrolment replaces the credentials; the next upload carries them."""
    e = lambda name: os.path.join(b.etc, name)  # noqa: E731
    with open(e("pseudonym.key"), "rb") as f:
        pseudonym = f.read()
    with open(e("client.key"), "rb") as f:
        old_key = f.read()
    path, rec = b.bundle(CODE, "renewal.bundle")
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    r = b.enrol(path)
    check(r.returncode == 0, "renewal: installed: %r" % (r.stdout + r.stderr).strip()[-300:])
    with open(e("client.key.bak"), "rb") as f:
        check(f.read() == old_key, "renewal: the previous key is kept as client.key.bak")
    with open(e("pseudonym.key"), "rb") as f:
        check(f.read() == pseudonym, "renewal: the pseudonym key is kept (same pseudonyms)")
    check("a new pseudonym key" not in r.stdout, "renewal: no new pseudonym key said")
    r = gslib.cli(b.conf, "absence", "S2", "--cause", "illness", "--symptoms", "fever")
    check(r.returncode == 0, "a new fact for the bureau")
    key = "%s/%s/2" % (CODE, b.today)
    r = gslib.cli(b.conf, "upload", "--now")
    check(rx.wait_keys([key], 10), "renewal: `gatescreen upload` delivers revision 2 (%s) %s"
          % (rx.accepted_keys(), r.stderr.strip()[-200:]))
    ev = [ev for ev in rx.received() if ev["key"] == key]
    check(ev and ev[0].get("client_sha256") == rec["cert_sha256"] and
          sha256_hex(ev[0]["headers"].get("authorization", "")[7:].encode()) ==
          rec["token_sha256"] and doc["token"] != "",
          "renewal: sent with the new certificate and token")


def main():
    b = Bench()
    with open(b.conf, "w", encoding="utf-8") as f:
        f.write(b.config_text())
    os.chmod(b.conf, 0o640)
    with open(os.path.join(b.dir, "roster.csv"), "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(b.conf, "roster", "import", os.path.join(b.dir, "roster.csv"))
    check(r.returncode == 0, "roster imported")
    good, rec, doc = bureau_side(b)
    bad_inputs(b, good)
    install(b, good, doc)
    rx = upload(b, rec, doc)
    try:
        renewal(b, rx)
    finally:
        rx.stop()
    gslib.finish()


if __name__ == "__main__":
    main()
