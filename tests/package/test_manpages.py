"""The manual pages (issue 20): mandoc -Tlint finds nothing at WARNING level or above in
any of the six; gatescreen.conf(5) has every section and key of the reference
configuration it is made from; gatescreen(8) and gatescreen-bureau(8) describe every
command that the programs' own usage lists, and gatescreend(8) every option, so a
command added without its page fails here."""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "../integration"))
import gslib  # noqa: E402
from gslib import check  # noqa: E402

MAN = os.path.join(gslib.SOURCE, "man")
PAGES = [os.path.join(MAN, p) for p in ("gatescreend.8", "gatescreen.8", "gatescreen-sim.1",
                                         "gatescreen-bureaud.8", "gatescreen-bureau.8")]
CONF_PAGE = os.path.join(gslib.BUILD, "man/gatescreen.conf.5")


def lint():
    for page in PAGES + [CONF_PAGE]:
        r = subprocess.run(["mandoc", "-Tlint", "-W", "warning", page], capture_output=True,
                           text=True)
        check(r.returncode == 0 and not r.stdout and not r.stderr,
              "mandoc -Tlint %s: clean (%s)" % (os.path.basename(page), (r.stdout + r.stderr).strip()))


def conf_page_has_reference():
    with open(os.path.join(gslib.SOURCE, "config/gatescreen.conf"), encoding="utf-8") as f:
        ref = f.read()
    with open(CONF_PAGE, encoding="ascii") as f:
        page = f.read()
    sections = re.findall(r"^\[([^\]]+)\]", ref, re.M)
    keys = sorted(set(re.findall(r"^([a-z_0-9]+)\s*=", ref, re.M)))
    # Section names may be Chinese ([grade 初三]): the page has them as mandoc escapes.
    sys.path.insert(0, MAN)
    import conf2mdoc
    missing = [s for s in sections if ".Ss " + conf2mdoc.esc("[%s]" % s) not in page]
    check(not missing, "gatescreen.conf(5) has the reference's %d sections (missing %s)" %
          (len(sections), missing))
    missing = [k for k in keys if not re.search(r"^\.It Cm %s No = " % re.escape(k), page, re.M)]
    check(not missing, "gatescreen.conf(5) has the reference's %d keys (missing %s)" %
          (len(keys), missing))


def commands(program):
    """The command words of a program's usage: 'db backup FILE' -> 'db backup'."""
    r = subprocess.run([program, "--help"], capture_output=True, text=True)
    out = []
    for line in (r.stdout + r.stderr).splitlines():
        if not line.startswith("  ") or line.strip().startswith("-"):
            continue
        words = []
        for w in line.split():
            if not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            words.append(w)
        if words:
            out.append(" ".join(words[:2]) if len(words) > 1 and words[0] in GROUPS else words[0])
    return out


GROUPS = {"roster", "db", "user", "upstream", "terminal", "school", "ca", "credential",
          "quarantine", "notice", "calendar", "closure", "observe", "visitor", "visitors"}


def page_documents(page, program):
    with open(os.path.join(MAN, page), encoding="ascii") as f:
        text = f.read()
    listed = commands(os.path.join(gslib.BUILD, program))
    check(len(listed) >= 10, "%s --help lists %d commands" % (program, len(listed)))
    missing = [c for c in listed
               if not re.search(r"^\.It Cm %s(\s|$)" % re.escape(c).replace(r"\ ", " "), text, re.M)]
    check(not missing, "%s documents every command of %s (missing %s)" % (page, program, missing))


def options_documented(page, program):
    with open(os.path.join(MAN, page), encoding="ascii") as f:
        text = f.read()
    r = subprocess.run([os.path.join(gslib.BUILD, program), "--help"], capture_output=True,
                       text=True)
    options = sorted(set(re.findall(r"--([a-z][a-z-]+)", r.stdout + r.stderr)))
    missing = [o for o in options if "Fl \\-" + o.replace("-", "\\-") not in text]
    check(options and not missing, "%s documents the %d options of %s (missing %s)" %
          (page, len(options), program, missing))


def main():
    lint()
    conf_page_has_reference()
    page_documents("gatescreen.8", "gatescreen")
    page_documents("gatescreen-bureau.8", "gatescreen-bureau")
    options_documented("gatescreend.8", "gatescreend")
    options_documented("gatescreen-sim.1", "gatescreen-sim")
    gslib.finish()


if __name__ == "__main__":
    main()
