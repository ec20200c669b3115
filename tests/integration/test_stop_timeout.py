"""[daemon] stop_timeout bounds the stop (issue 13): a stop that hangs is cut off
with an error naming what it still waited for and a non-zero status; a normal stop
still exits 0. What hangs: a Modbus unit that accepts the TCP connection and never
answers, with a long response_timeout; the bus thread sits in the read and the stop
cannot join it before the timeout runs out. The bus is given by a host name
(localhost), so it has a thread of its own: the TCP buses given by an address share
one thread that waits on nothing and stops at once (issue 18)."""
import socket
import threading

import gslib
from gslib import check

SILENT_CONFIG = """\
[daemon]
stop_timeout = %s

[school]
code = T001
name = 测试学校
timezone = Asia/Shanghai

[ledger]
database = ledger.db

[windows]
morning = 07:00-08:30

[bus silent]
tcp = localhost:%d
response_timeout = 10s

[lane east-1]
gate = 东门
identity = device
indicator = console

[device ir-1]
bus = silent
unit = 1
lane = east-1
"""


def silent_listener():
    """A TCP endpoint that takes connections and requests and never answers."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    accepted = threading.Event()
    conns = []

    def serve():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            conns.append(c)
            accepted.set()
            threading.Thread(target=lambda: drain(c), daemon=True).start()

    def drain(c):
        try:
            while c.recv(256):
                pass
        except OSError:
            pass

    threading.Thread(target=serve, daemon=True).start()
    return srv, accepted, conns


def run(stop_timeout):
    srv, accepted, conns = silent_listener()
    d, conf = gslib.scratch(SILENT_CONFIG % (stop_timeout, srv.getsockname()[1]))
    dm = gslib.Daemon(conf)
    ok = dm.wait_for("ready:") and accepted.wait(10)
    return dm, ok, srv, conns


def test_hanging_stop_is_bounded():
    dm, ok, srv, conns = run("1s")
    check(ok, "daemon ready and polling the silent unit")
    rc, took = dm.stop(timeout=20.0)
    text = dm.text()
    check(rc not in (0, None) and rc > 0, "exit status non-zero (got %s)" % rc)
    check(took < 1.0 + 0.8, "exited within stop_timeout + 0.8 s (took %.3f s)" % took)
    check("stop did not finish within 1s" in text and "bus silent" in text,
          "error names what the stop still waited for")
    check("stopped cleanly" not in text, "no clean-stop line")
    print("# hanging stop: status %s in %.3f s" % (rc, took))
    srv.close()


def test_normal_stop_exits_zero():
    """The same setup with stop_timeout long enough for the read to time out."""
    dm, ok, srv, conns = run("15s")
    check(ok, "ready (long stop_timeout)")
    rc, took = dm.stop(timeout=30.0)
    check(rc == 0, "exit status 0 when the stop finishes in time (got %s)" % rc)
    check("stopped cleanly" in dm.text(), "logs the clean stop")
    print("# slow but in time: status %s in %.3f s" % (rc, took))
    srv.close()


def test_quick_stop_exits_zero():
    d, conf = gslib.scratch("[daemon]\nstop_timeout = 500ms\n" + gslib.BASE_CONFIG)
    dm = gslib.Daemon(conf)
    check(dm.wait_for("ready:"), "ready (no devices answering)")
    rc, took = dm.stop()
    check(rc == 0 and took < 0.5 + 0.5, "a normal stop: status %s in %.3f s" % (rc, took))
    check("stopped cleanly" in dm.text(), "logs the clean stop (quick)")


if __name__ == "__main__":
    test_hanging_stop_is_bounded()
    test_normal_stop_exits_zero()
    test_quick_stop_exits_zero()
    gslib.finish()
