"""GPIO lines that are not there (issue 6, bad input): on this machine there is no
GPIO chip at all, so every GPIO line is missing. The daemon must refuse to start
with a message that names the lane's line, exit 1, and leave the ledger as it was;
--check-config must still accept a GPIO configuration (it does not need the
hardware). The real lines are tested in the VM (test_gpio_vm.py)."""
import os
import subprocess

import gslib
from gslib import check

ROSTER = """\
external_id,kind,name,grade,class,card,active
S1,student,张三,一年级,一年级1班,659060,1
"""


def config(lane):
    return gslib.BASE_CONFIG.replace("""[lane east-1]
gate = 东门
identity = device
indicator = console
""", lane)


GPIO_LIGHTS = """[lane east-1]
gate = 东门
identity = device
indicator = gpio
green = NO_SUCH_GREEN
amber = NO_SUCH_AMBER
red = NO_SUCH_RED
"""

WIEGAND_ON_CHIP = """[lane east-1]
gate = 东门
identity = wiegand
indicator = console
wiegand_d0 = gpiochip7:3
wiegand_d1 = gpiochip7:4
"""

PRESENCE = """[lane east-1]
gate = 东门
identity = device
indicator = console
presence = BEAM active-low
"""


def refused(lane, needle, what):
    d, conf = gslib.scratch(config(lane))
    roster = os.path.join(d, "roster.csv")
    with open(roster, "w", encoding="utf-8") as f:
        f.write(ROSTER)
    r = gslib.cli(conf, "roster", "import", roster)
    check(r.returncode == 0, "%s: roster imported (%s)" % (what, r.stderr.strip()))
    db = os.path.join(d, "ledger.db")
    before = gslib.db_dump(db)
    c = subprocess.run([gslib.DAEMON, "--check-config", conf], capture_output=True, text=True,
                       timeout=20)
    check(c.returncode == 0, "%s: --check-config accepts it (%d %s)" %
          (what, c.returncode, c.stderr.strip()))
    p = subprocess.run([gslib.DAEMON, "-f", "-c", conf], capture_output=True, text=True,
                       timeout=30)
    check(p.returncode == 1 and needle in p.stderr and "ready:" not in p.stderr,
          "%s: refused, exit 1, names the line (%d: %s)" %
          (what, p.returncode, p.stderr.strip().splitlines()[-3:]))
    check(gslib.db_dump(db) == before, "%s: ledger unchanged" % what)


def main():
    refused(GPIO_LIGHTS, "GPIO line NO_SUCH_GREEN", "missing light line")
    refused(WIEGAND_ON_CHIP, "GPIO line gpiochip7:3", "missing Wiegand chip")
    refused(PRESENCE, "GPIO line BEAM (active-low)", "missing presence line")
    gslib.finish()


if __name__ == "__main__":
    main()
