"""The bureau's administrator's tools (issue 15) on a private PostgreSQL:
gatescreen-bureau school import (every problem as FILE:LINE, nothing changed when
there is any, also when the database refuses a row), school add / list / disable,
credential add (a certificate naming another school, a token file others can read, a
short token, the same certificate twice, an unknown school), quarantine list, db
check, exit statuses (1 refused, 2 usage or configuration, 75 database away); and
gatescreen-bureaud --check-config (configuration OK, FILE:LINE errors, a TLS key
others can read) and a start without its database (exit 1, the reason in the log)."""
import os
import subprocess

import bureaulib as bl
import gslib
from gslib import check

SCHOOLS = """\
code,name,county,kind,enrolment,contact_name,contact_phone
XC0001,许昌市第一小学,魏都区,小学,1200,王老师,0374-1234567
XC0002,许昌市实验幼儿园,建安区,幼儿园,300,,
XC0003,许昌市第三中学,魏都区,初中,900,李老师,
"""

BAD = """\
学校代码,学校名称,区县,类型,在校人数
XC0010,十小,魏都区,小学,10
XC 11,十一小,魏都区,小学,10
XC0012,,魏都区,大学,-5
XC0010,又一个十小,魏都区,小学,1
"""


def run(b, *args, status=0, conf=None):
    r = b.cli(*args, conf=conf)
    out = (r.stdout + r.stderr).strip()
    check(r.returncode == status, "gatescreen-bureau %s: exit %d (want %d) %s" % (
        " ".join(args)[:70], r.returncode, status, out.splitlines()[:1]))
    return r


def write(b, name, text, mode=0o644):
    path = os.path.join(b.dir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def schools_table(b):
    return b.sql("SELECT * FROM schools ORDER BY code")


def imports(b):
    good = write(b, "schools.csv", SCHOOLS)
    r = run(b, "school", "import", good)
    check("3 schools: 3 added, 0 updated, 0 unchanged" in r.stdout, "import: %s" % r.stdout.strip())
    r = run(b, "school", "import", good)
    check("0 added, 0 updated, 3 unchanged" in r.stdout, "the same file again: all unchanged")
    before = schools_table(b)
    bad = write(b, "bad.csv", BAD)
    r = run(b, "school", "import", bad, status=1)
    want = ["bad.csv:3: code \"XC 11\" is not 1 to 31", "bad.csv:4: name is empty",
            "bad.csv:4: kind \"大学\" is not one of", "bad.csv:4: enrolment \"-5\"",
            "bad.csv:5: code XC0010 is also on line 2", "5 problems; nothing was changed"]
    missing = [w for w in want if w not in r.stderr]
    check(not missing, "every problem as FILE:LINE (Chinese header)%s" % (
        "" if not missing else "; missing %s in %s" % (missing, r.stderr)))
    check(schools_table(b) == before, "nothing was changed")
    # The database refuses a row the parser lets through: a kind the CHECK knows
    # nothing of cannot come from the file, so take a name over the column's limits
    # by changing the table's own rule for this test.
    b.sql("ALTER TABLE schools ADD CONSTRAINT test_short_name CHECK (length(name) < 20)")
    long_name = write(b, "long.csv", SCHOOLS.replace("许昌市第三中学", "许昌市第三中学" * 4))
    r = run(b, "school", "import", long_name, status=1)
    check("long.csv:4: school XC0003: the database refused it" in r.stderr and
          "nothing was changed" in r.stderr, "a row the database refuses: FILE:LINE and "
          "nothing changed: %s" % r.stderr.strip().splitlines()[:2])
    check(schools_table(b) == before, "the rows before it were not kept either")
    b.sql("ALTER TABLE schools DROP CONSTRAINT test_short_name")
    changed = write(b, "changed.csv", SCHOOLS.replace("1200", "1250"))
    r = run(b, "school", "import", changed)
    check("0 added, 1 updated, 2 unchanged" in r.stdout, "one school's enrolment changed: "
          "%s" % r.stdout.strip())


def add_list_disable(b):
    run(b, "school", "add", "XC0004", "--name", "许昌市高级中学", "--county", "建安区", "--kind",
        "senior", "--enrolment", "2000", "--contact", "赵老师", "--phone", "0374-7654321")
    r = run(b, "school", "add", "XC0004", "--name", "x", "--county", "y", "--kind", "小学",
            status=1)
    check("exists already" in r.stderr, "the same code again: %s" % r.stderr.strip())
    r = run(b, "school", "add", "XC0005", "--name", "x", "--county", "y", status=2)
    check("--kind is required" in r.stderr, "a missing option: usage, exit 2")
    r = run(b, "school", "add", "XC0005", "--name", "x", "--county", "y", "--kind", "大学",
            status=1)
    check("is not one of" in r.stderr, "a bad kind: %s" % r.stderr.strip()[:80])
    r = run(b, "school", "list")
    lines = r.stdout.splitlines()
    check(lines[0].startswith("code\tname\tcounty") and len(lines) == 5 and
          "XC0004\t许昌市高级中学\t建安区\t高中\t2000\t赵老师\t0374-7654321\tyes\t0" in lines,
          "school list: a header and 4 schools, by county: %s" % lines[1:])
    run(b, "school", "disable", "XC0002")
    r = run(b, "school", "disable", "XC0002", status=1)
    check("disabled already" in r.stderr, "disabling again: %s" % r.stderr.strip())
    r = run(b, "school", "disable", "NOPE", status=1)
    check("not found" in r.stderr, "an unknown school: %s" % r.stderr.strip())
    check(len(run(b, "school", "list").stdout.splitlines()) == 4 and
          len(run(b, "school", "list", "--all").stdout.splitlines()) == 5,
          "a disabled school is listed only with --all")
    audit = b.sql("SELECT action, target FROM audit_log ORDER BY id")
    check(["school add", "XC0004"] in audit and ["school disable", "XC0002"] in audit,
          "every change is in audit_log (%d rows)" % len(audit))


def credentials(b):
    cert, key = bl.mc.school_client(b.certdir, "XC0001")
    other, _ = bl.mc.school_client(b.certdir, "XC0003")
    token = write(b, "token", "tok-" + "a" * 40 + "\n", 0o600)
    r = run(b, "credential", "add", "XC0003", "--cert", cert, "--token-file", token, status=1)
    check("names school XC0001, not XC0003" in r.stderr, "a certificate of another school: "
          "%s" % r.stderr.strip())
    loose = write(b, "token-loose", "tok-" + "b" * 40 + "\n", 0o644)
    r = run(b, "credential", "add", "XC0001", "--cert", cert, "--token-file", loose, status=1)
    check("chmod 600" in r.stderr or "group or others" in r.stderr,
          "a token file others can read: %s" % r.stderr.strip())
    short = write(b, "token-short", "tok-1\n", 0o600)
    r = run(b, "credential", "add", "XC0001", "--cert", cert, "--token-file", short, status=1)
    check("16 to 512" in r.stderr, "a short token: %s" % r.stderr.strip())
    r = run(b, "credential", "add", "XC0001", "--cert", cert, "--token-file", token)
    check("credential for XC0001 registered" in r.stdout and "valid until" in r.stdout,
          "credential add: %s" % r.stdout.strip()[:100])
    r = run(b, "credential", "add", "XC0001", "--cert", cert, "--token-file", token, status=1)
    check("registered already" in r.stderr, "the same certificate again: %s" % r.stderr.strip())
    unknown, _ = bl.mc.school_client(b.certdir, "ZZ9999")
    r = run(b, "credential", "add", "ZZ9999", "--cert", unknown, "--token-file", token, status=1)
    check("not found" in r.stderr, "a school that is not there: %s" % r.stderr.strip())
    r = run(b, "credential", "add", "XC0003", "--cert", b.certs["ca.key"], "--token-file",
            token, status=1)
    check("not a PEM certificate" in r.stderr, "a key given as the certificate: %s"
          % r.stderr.strip())
    row = b.sql("SELECT school_code, length(cert_sha256), length(token_sha256), "
                "revoked_at IS NULL FROM credentials")
    check(row == [["XC0001", "64", "64", "t"]], "one credential, digests only: %s" % row)
    check(not b.sql("SELECT 1 FROM credentials WHERE token_sha256 LIKE '%tok-%'"),
          "the token itself is not stored")
    run(b, "credential", "revoke", "XC0001")
    _ = other, key


def usage_and_database(b):
    run(b, "frobnicate", status=2)
    r = run(b, "quarantine", "list")
    check(r.stdout.startswith("id\treceived_at"), "quarantine list: its header (empty)")
    r = run(b, "db", "check")
    n = max(int(f[:3]) for f in os.listdir(os.path.join(gslib.SOURCE, "sql", "bureau"))
            if f[:3].isdigit() and f.endswith(".sql"))  # the newest migration
    check("schema version %d (this program: %d)" % (n, n) in r.stdout,
          "db check: %s" % r.stdout.strip())
    away = b.write_config("away.conf", bl.free_port(), "away")
    with open(away, encoding="utf-8") as f:
        text = f.read()
    with open(away, "w", encoding="utf-8") as f:
        f.write(text.replace(b.dsn, "host=%s/nowhere dbname=bureau user=bureau" % b.dir))
    r = run(b, "school", "list", status=75, conf=away)
    check("cannot connect to the database" in r.stderr, "the database away: exit 75, %s"
          % r.stderr.strip()[:100])
    bad = write(b, "bad.conf", "[collector]\nlisten = nowhere\n")
    r = run(b, "school", "list", status=2, conf=bad)
    check("bad.conf:2:" in r.stderr, "a bad configuration: exit 2, FILE:LINE")
    return away


def check_config(b, away):
    def bureaud(*args):
        return subprocess.run([bl.BUREAUD, *args], capture_output=True, text=True, timeout=30)
    r = bureaud("--check-config", b.conf)
    check(r.returncode == 0 and r.stdout.strip() == "configuration OK",
          "gatescreen-bureaud --check-config: %s" % r.stdout.strip())
    bad = write(b, "broken.conf", "[collector]\nlisten = 1.2.3.4\nthreads = lots\n"
                "[database]\n")
    r = bureaud("--check-config", bad)
    lines = r.stderr.strip().splitlines()
    check(r.returncode == 2 and any(ln.startswith(bad + ":2: [collector] listen") for ln in lines)
          and any(":3: [collector] threads" in ln for ln in lines) and
          any(":1: [collector]: missing required key \"tls_cert\"" in ln for ln in lines) and
          any(":4: [database]: give exactly one of dsn" in ln for ln in lines),
          "every problem as FILE:LINE, exit 2: %s" % lines)
    os.chmod(b.certs["server.key"], 0o640)
    r = bureaud("--check-config", b.conf)
    check(r.returncode == 2 and "group or others" in r.stderr,
          "a TLS key others may read: %s" % r.stderr.strip())
    os.chmod(b.certs["server.key"], 0o600)
    c = bl.Collector(away, 0, "away").start(wait=False)
    rc = c.proc.wait(30)
    c.log.close()
    check(rc == 1 and "cannot connect to the database" in c.text() and "did not start" in
          c.text(), "a start without its database: exit %d, the reason in the log" % rc)


def main():
    with bl.Bureau() as b:
        imports(b)
        add_list_disable(b)
        credentials(b)
        away = usage_and_database(b)
        check_config(b, away)
    gslib.finish()


if __name__ == "__main__":
    main()
