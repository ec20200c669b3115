"""TCP buses named by their address share one thread (issue 18, poll cost): 6
devices each at its own address (6 buses) polled every 50 ms with a 500 ms response
timeout, plus a seventh bus whose connection never completes (a listening socket
whose accept queue is full: the SYN goes unanswered).

Asserted: the daemon runs fewer threads than it has buses (one thread for all of
them; before the change, a thread per bus); one unit goes silent and the others
keep at least 90% of their poll rate, as does everyone while the seventh bus's
connect hangs, every attempt until its response timeout; the silent unit is found
offline within two of its timeouts and is ok again once it answers."""
import os
import socket
import time

import gslib
from gslib import check

import mbfaults
from mbfaults import figure

N = 6
NAMES = ["d%d" % i for i in range(N)]
SECONDS = 30 if mbfaults.LONG else 5


def config(port, hang_port):
    """N buses on port.. (one device each), and with hang_port the hanging one."""
    lanes = "".join("[lane l-%s]\ngate = G\nindicator = test\n" % u
                    for u in NAMES + (["h"] if hang_port else []))
    buses = "".join("[bus b%d]\ntcp = 127.0.0.1:%d\nresponse_timeout = 500ms\n"
                    "[device %s]\nbus = b%d\nunit = 1\npoll = 50ms\nlane = l-%s\n"
                    % (i, port + i, u, i, u) for i, u in enumerate(NAMES))
    if hang_port:
        buses += ("[bus hang]\ntcp = 127.0.0.1:%d\nresponse_timeout = 500ms\n"
                  "[device h]\nbus = hang\nunit = 1\npoll = 50ms\nlane = l-h\n" % hang_port)
    return ("[school]\ncode = REL\nname = shared\n[ledger]\ndatabase = ledger.db\n"
            "[daemon]\nindicator_log = lights.log\n[windows]\nmorning = 07:00-08:30\n"
            + lanes + buses)


def hanging_listener():
    """A listening socket that completes no more connections: its accept queue is
    filled by two of our own that it never accepts. Returns it, the fillers and
    whether a third connect indeed hangs (or None when this kernel will not)."""
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(0)
    fillers = []
    for _ in range(3):
        c = socket.socket()
        c.setblocking(False)
        c.connect_ex(ls.getsockname())
        fillers.append(c)
    time.sleep(0.2)
    probe = socket.socket()
    probe.settimeout(0.5)
    try:
        probe.connect(ls.getsockname())
        hangs = False
    except (socket.timeout, OSError):
        hangs = True
    probe.close()
    return ls, fillers, hangs


def threads(pid):
    return len(os.listdir("/proc/%d/task" % pid))


def main():
    port = gslib.free_port() + 200
    ls, fillers, hangs = hanging_listener()
    figure("connect_hangs", int(hangs))
    _, sim_conf = gslib.scratch(config(port, 0))
    _, conf = gslib.scratch(config(port, ls.getsockname()[1] if hangs else 0))
    sim, dm = mbfaults.start(conf, sim_conf)
    check(dm.wait_for("state ok", count=N, timeout=20), "all %d units ok" % N)
    nthreads = threads(dm.proc.pid)
    figure("daemon_threads", nthreads)
    check(nthreads < N + (1 if hangs else 0),
          "one thread for the TCP buses: %d threads in all for %d buses"
          % (nthreads, N + (1 if hangs else 0)))
    time.sleep(1.0)
    base = mbfaults.measure_rates(dm, NAMES, SECONDS)
    figure("poll_rate_per_unit", min(base.values()))
    # 50 ms polls: 20/s is the schedule; the hanging connect (every attempt for a
    # whole response timeout) must not take it from the others.
    check(min(base.values()) >= 0.9 * 20, "every unit polled on schedule while a connect "
          "hangs: %s" % ", ".join("%s %.1f/s" % kv for kv in sorted(base.items())))

    check(sim.cmd("silent d0 1h") == "ok", "sim: d0 goes silent")
    t0 = time.monotonic()
    check(dm.wait_for("device d0: state offline", timeout=5), "d0 offline")
    figure("offline_after_s", time.monotonic() - t0)
    check(time.monotonic() - t0 <= 2 * 0.5 + 1.0, "d0 offline within two timeouts")
    during = mbfaults.measure_rates(dm, NAMES[1:], SECONDS)
    worst = min(during[n] / base[n] for n in NAMES[1:])
    figure("others_poll_rate_kept", worst)
    check(worst >= 0.9, "the others keep %.0f%% of their poll rate (at least 90%%)"
          % (100 * worst))

    check(sim.cmd("clear d0") == "ok", "sim: d0 answers again")
    check(gslib.wait_until(lambda: mbfaults.snapshot(dm, ["d0"])["d0"]["state"] == "ok", 10),
          "d0 ok again")
    check(mbfaults.stop(sim, dm) == 0, "daemon stopped cleanly")
    for c in fillers:
        c.close()
    ls.close()


if __name__ == "__main__":
    main()
    gslib.finish()
