"""The Debian packages (issue 20), built and installed on this machine as an
administrator would: dpkg-buildpackage -us -uc -b on a copy of the source, lintian
with no error and no warning, `apt-get install ./gatescreen_*.deb ...`, the shipped
configuration passing `gatescreend --check-config` as the daemon's own user, the files'
owners and modes, the units verified and scored by `systemd-analyze security`
(exposure at most 2.0, "OK"), then `apt-get purge` leaving no file behind.

It needs root (CI runs as root) and a machine where gatescreen is not installed: it
installs and purges the packages for real, and fails (does not skip) otherwise."""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
import gslib  # noqa: E402
from gslib import check, figure  # noqa: E402

PACKAGES = ("gatescreen", "gatescreen-sim", "gatescreen-bureau")
ENV = dict(os.environ, DEBIAN_FRONTEND="noninteractive", LC_ALL="C.UTF-8")


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, env=ENV, **kw)


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f", "${Status}", pkg])
    return r.returncode == 0 and "installed" in r.stdout.split()


def copy_source(dest):
    """The tracked and new (not ignored) files: what a clean clone would build."""
    r = run(["git", "-C", gslib.SOURCE, "ls-files", "-z", "--cached", "--others",
             "--exclude-standard"])
    check(r.returncode == 0, "git ls-files in %s (%s)" % (gslib.SOURCE, r.stderr.strip()))
    for name in filter(None, r.stdout.split("\0")):
        src = os.path.join(gslib.SOURCE, name)
        if not os.path.lexists(src):
            continue  # deleted in the work tree
        os.makedirs(os.path.dirname(os.path.join(dest, name)) or dest, exist_ok=True)
        if os.path.islink(src):
            os.symlink(os.readlink(src), os.path.join(dest, name))
        else:
            shutil.copy2(src, os.path.join(dest, name))


def build(work):
    src = os.path.join(work, "gatescreen")
    os.mkdir(src)
    copy_source(src)
    env = dict(ENV, DEB_BUILD_OPTIONS="nocheck noddebs parallel=%d" % (os.cpu_count() or 2))
    r = subprocess.run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, env=env,
                       capture_output=True, text=True, timeout=1500)
    check(r.returncode == 0, "dpkg-buildpackage -us -uc -b%s" %
          ("" if r.returncode == 0 else " (%s)" % r.stderr.strip()[-800:]))
    debs = {p: glob.glob(os.path.join(work, "%s_*.deb" % p)) for p in PACKAGES}
    check(all(len(d) == 1 for d in debs.values()), "one .deb per package: %s" % debs)
    changes = glob.glob(os.path.join(work, "gatescreen_*.changes"))
    return [d[0] for d in debs.values()], changes[0]


def lint(changes):
    r = run(["lintian", "--fail-on", "none", changes])
    tags = [ln for ln in r.stdout.splitlines() if re.match(r"^[EW]: ", ln)]
    errors = [t for t in tags if t.startswith("E: ")]
    warnings = [t for t in tags if t.startswith("W: ")]
    figure("lintian_errors", len(errors))
    figure("lintian_warnings", len(warnings))
    check(not errors and not warnings, "lintian: 0 errors, 0 warnings (%s)" % "; ".join(tags))


def mode_owner(path):
    st = os.stat(path)
    import grp
    import pwd
    return "%o %s:%s" % (st.st_mode & 0o7777, pwd.getpwuid(st.st_uid).pw_name,
                         grp.getgrgid(st.st_gid).gr_name)


def check_installed():
    conf = "/etc/gatescreen/gatescreen.conf"
    r = run(["runuser", "-u", "gatescreen", "--", "gatescreend", "--check-config", conf])
    check(r.returncode == 0 and "configuration OK" in r.stdout,
          "the shipped configuration passes --check-config as user gatescreen (%s%s)" %
          (r.stdout.strip(), r.stderr.strip()))
    expect = {conf: "640 root:gatescreen", "/var/lib/gatescreen": "750 gatescreen:gatescreen",
              "/usr/sbin/gatescreend": "755 root:root", "/usr/bin/gatescreen": "755 root:root",
              "/usr/bin/gatescreen-sim": "755 root:root",
              "/usr/sbin/gatescreen-bureaud": "755 root:root",
              "/lib/systemd/system/gatescreend.service": "644 root:root",
              "/lib/systemd/system/gatescreen-bureaud.service": "644 root:root"}
    for path, want in expect.items():
        got = mode_owner(path) if os.path.exists(path) else "missing"
        check(got == want, "%s: %s (got %s)" % (path, want, got))
    groups = run(["id", "-nG", "gatescreen"]).stdout.split()
    check({"gatescreen", "dialout", "gpio"} <= set(groups),
          "user gatescreen in dialout and gpio (%s)" % groups)
    conffiles = run(["dpkg-query", "-W", "-f", "${Conffiles}", "gatescreen"]).stdout
    check(conf in conffiles, "%s is a conffile" % conf)
    pages = run(["dpkg", "-L", *PACKAGES]).stdout
    for page in ("man8/gatescreend.8.gz", "man8/gatescreen.8.gz", "man5/gatescreen.conf.5.gz",
                 "man1/gatescreen-sim.1.gz", "man8/gatescreen-bureaud.8.gz",
                 "man8/gatescreen-bureau.8.gz"):
        check(page in pages, "manual page %s installed" % page)


def check_units():
    units = ["/lib/systemd/system/gatescreend.service",
             "/lib/systemd/system/gatescreen-bureaud.service"]
    r = run(["systemd-analyze", "verify", *units])
    check(r.returncode == 0, "systemd-analyze verify (%s)" % r.stderr.strip())
    for unit in units:
        r = run(["systemd-analyze", "security", "--offline=yes", unit])
        m = re.search(r"Overall exposure level for \S+: ([0-9.]+) (\w+)", r.stdout + r.stderr)
        name = os.path.basename(unit)
        check(m is not None, "systemd-analyze security %s gives a score" % name)
        if m:
            figure("exposure_" + name.split(".")[0].replace("-", "_"), m.group(1))
            check(float(m.group(1)) <= 2.0 and m.group(2) == "OK",
                  "%s: exposure %s %s (at most 2.0, OK)" % (name, m.group(1), m.group(2)))


def purge_and_check(files):
    r = run(["apt-get", "purge", "-y", *PACKAGES])
    check(r.returncode == 0, "apt-get purge (%s)" % r.stderr.strip()[-400:])
    left = [f for f in files if os.path.lexists(f) and not os.path.isdir(f)]
    left += [d for d in ("/etc/gatescreen", "/var/lib/gatescreen", "/usr/share/doc/gatescreen",
                         "/usr/share/doc/gatescreen-bureau") if os.path.exists(d)]
    left += glob.glob("/etc/systemd/system/*/gatescreen*")
    check(not left, "purge leaves nothing behind (%s)" % left)


def main():
    check(os.geteuid() == 0, "runs as root (it installs packages; CI runs as root)")
    already = [p for p in PACKAGES if installed(p)]
    check(not already, "none of %s installed before the test (installed: %s)" %
          (PACKAGES, already))
    if os.geteuid() != 0 or already:
        gslib.finish()
    work = tempfile.mkdtemp(prefix="gs-pkg-")
    files = []
    try:
        debs, changes = build(work)
        lint(changes)
        r = run(["apt-get", "install", "-y", "--no-install-recommends", *debs])
        check(r.returncode == 0, "apt-get install ./*.deb%s" %
          ("" if r.returncode == 0 else " (%s)" % r.stderr.strip()[-800:]))
        files = run(["dpkg", "-L", *PACKAGES]).stdout.split()
        check_installed()
        check_units()
    finally:
        purge_and_check(files)
        shutil.rmtree(work, ignore_errors=True)
    gslib.finish()


if __name__ == "__main__":
    main()
