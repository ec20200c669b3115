"""Enrolment, the whole round trip with the real programs (issue 15): the bureau makes
its CA (`gatescreen-bureau ca init`), adds a school and enrols it (`school enrol`: a
key, a certificate from that CA, a token, one bundle, the credential in PostgreSQL);
the school installs the bundle (`gatescreen upstream enrol`) and uploads to the real
gatescreen-bureaud over mutual TLS; the bureau revokes it (`school revoke`) and the
next upload is refused while what was stored stays. Refusals: an unknown school, an
existing bundle path, a missing CA; none leaves a bundle or a credential behind."""
import os
import subprocess

import bureaulib
import gslib
from gslib import check
from test_bureau_schools import DAY, roster, school_config

CODE = "XC3001"


def bureau_side(b, ca, bundle, url):
    r = b.cli("ca", "init", ca)
    check(r.returncode == 0 and os.path.exists(os.path.join(ca, "ca.pem")),
          "bureau: ca init makes the CA: %s" % (r.stdout + r.stderr).strip()[:200])
    check(oct(os.stat(os.path.join(ca, "ca.key")).st_mode & 0o777) == "0o600",
          "bureau: the CA key is 0600")
    enrol = ["school", "enrol", CODE, "--ca", ca, "--url", url, "--server-ca", b.certs["ca"],
             "--out", bundle]
    r = b.cli(*enrol)
    check(r.returncode != 0 and not os.path.exists(bundle)
          and b.sql("SELECT count(*) FROM credentials")[0][0] == "0",
          "bureau: enrolling a school not added is refused, no bundle, no credential (%d: %s)"
          % (r.returncode, r.stderr.strip()[:200]))
    r = b.cli("school", "add", CODE, "--name", "许昌实验学校", "--county", "魏都区", "--kind", "初中")
    check(r.returncode == 0, "bureau: school add")
    r = b.cli("school", "enrol", CODE, "--ca", os.path.join(b.dir, "nowhere"), "--url", url,
              "--server-ca", b.certs["ca"], "--out", bundle)
    check(r.returncode != 0 and not os.path.exists(bundle), "bureau: a missing CA is refused "
          "(%d: %s)" % (r.returncode, r.stderr.strip()[:200]))
    r = b.cli(*enrol)
    check(r.returncode == 0 and "enrolled" in r.stdout, "bureau: school enrol: %s"
          % (r.stdout + r.stderr).strip()[:300])
    check(oct(os.stat(bundle).st_mode & 0o777) == "0o600", "bureau: the bundle is 0600")
    rows = b.sql("SELECT cert_sha256, revoked_at IS NULL FROM credentials "
                 "WHERE school_code = '%s'" % CODE)
    check(len(rows) == 1 and rows[0][1] == "t", "bureau: one credential in force: %r" % rows)
    r = b.cli(*enrol)
    check(r.returncode != 0 and len(b.sql("SELECT 1 FROM credentials")) == 1,
          "bureau: enrolling over an existing bundle is refused, nothing registered (%s)"
          % r.stderr.strip()[:200])


def school_side(b, bundle):
    d, _ = gslib.scratch("")
    conf = os.path.join(d, "gatescreen.conf")
    stub = bureaulib.School(CODE, b.certs["client"], b.certs["client.key"], "x", None)
    with open(conf, "w", encoding="utf-8") as f:
        f.write(school_config(CODE, stub, b, "https://127.0.0.1:1/v1/documents", d))
    r = gslib.cli(conf, "upstream", "enrol", bundle)
    check(r.returncode == 0, "school: upstream enrol installs the bundle: %s"
          % (r.stdout + r.stderr).strip()[-300:])
    r = subprocess.run([gslib.DAEMON, "--check-config", conf], capture_output=True, text=True)
    check(r.returncode == 0, "school: gatescreend --check-config OK after enrolling: %s"
          % (r.stdout + r.stderr).strip()[-300:])
    r = gslib.cli(conf, "roster", "import", roster(d, 7))
    check(r.returncode == 0, "school: roster import")
    return conf


def uploads(b, conf):
    r = gslib.cli(conf, "upload", "--now")
    check(r.returncode == 0, "school: upload --now delivers to the collector: %s"
          % (r.stdout + r.stderr).strip()[-300:])
    stored = b.sql("SELECT idem_key FROM documents WHERE school_code = '%s'" % CODE)
    check(["%s/%s/1" % (CODE, DAY)] in stored, "bureau: the school's summary is stored: %r"
          % stored)
    r = b.cli("school", "revoke", CODE)
    check(r.returncode == 0 and "revoked" in r.stdout, "bureau: school revoke: %s"
          % (r.stdout + r.stderr).strip()[:200])
    # A new fact (a personal-leave absence) makes the day's summary a new revision.
    pupil = gslib.db_query(os.path.join(os.path.dirname(conf), "ledger.db"),
                           "SELECT external_id FROM people WHERE kind = 'student' LIMIT 1")[0][0]
    r = gslib.cli(conf, "absence", pupil, "--cause", "personal")
    check(r.returncode == 0, "school: an absence recorded: %s" % (r.stdout + r.stderr).strip()[:200])
    before = b.sql("SELECT count(*) FROM documents")[0][0]
    r = gslib.cli(conf, "upload", "--now")
    check(r.returncode != 0, "school: after the revocation its upload is refused (%d: %s)"
          % (r.returncode, (r.stdout + r.stderr).strip()[-200:]))
    check(b.sql("SELECT count(*) FROM documents")[0][0] == before,
          "bureau: nothing stored from a revoked school, nothing stored before lost")


def main():
    with bureaulib.Bureau() as b:
        ca = os.path.join(b.dir, "bureau-ca")
        b.certs["client-ca"] = os.path.join(ca, "ca.pem")
        port = bureaulib.free_port()
        b.conf = b.write_config("enrol.conf", port, "bureau-a")
        url = "https://127.0.0.1:%d%s" % (port, bureaulib.PATH)
        bundle = os.path.join(b.dir, CODE + ".bundle")
        bureau_side(b, ca, bundle, url)
        c = b.collector()
        conf = school_side(b, bundle)
        uploads(b, conf)
        rc, _ = c.stop()
        check(rc == 0, "bureau: the collector stops cleanly")
    gslib.finish()


if __name__ == "__main__":
    main()
