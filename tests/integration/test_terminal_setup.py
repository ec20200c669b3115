"""`gatescreen terminal setup NAME` against an independent peer playing a Hikvision
terminal's ISAPI (Python's http.server with HTTP Digest, RFC 7616 MD5 with qop=auth,
written from the RFC, not from our code): the PUT of
/ISAPI/Event/notification/httpHosts/1 carries our listener's address and port;
a wrong password is reported as such; a wildcard listen needs --host. The Digest
peer is hik_peer's."""
import http.server
import os
import threading

import gslib
import hik_peer
from gslib import check

got = []


class Terminal(http.server.BaseHTTPRequestHandler):
    password = "terminal-pw"

    def log_message(self, *a):
        pass

    def do_PUT(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if not hik_peer.digest_ok(self, "admin", self.password):
            return hik_peer.challenge(self)
        got.append((self.path, body.decode()))
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        out = b"<ResponseStatus><statusCode>1</statusCode><statusString>OK</statusString></ResponseStatus>"
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def config(listen, pwfile):
    return """\
[school]
code = TSET
name = x
[ledger]
database = ledger.db
[windows]
morning = 07:00-08:30
[terminals]
listen = %s
[lane a]
gate = x
[terminal face-a]
kind = hikvision-isapi
address = 127.0.0.5
lane = a
user = admin
password_file = %s
""" % (listen, pwfile)


def main():
    srv = http.server.HTTPServer(("127.0.0.5", 0), Terminal)
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    d, conf = gslib.scratch("")
    pw = os.path.join(d, "face-a.pw")
    with open(pw, "w") as f:
        f.write("terminal-pw\n")
    os.chmod(pw, 0o600)
    with open(conf, "w") as f:
        f.write(config("127.0.0.1:8099", pw))

    r = gslib.cli(conf, "terminal", "setup", "face-a", "--isapi-port", str(port))
    check(r.returncode == 0 and "pushes its events to 127.0.0.1:8099" in r.stdout,
          "setup succeeded (%d %s %s)" % (r.returncode, r.stdout.strip(), r.stderr.strip()))
    check(len(got) == 1 and got[0][0] == "/ISAPI/Event/notification/httpHosts/1",
          "one authenticated PUT of httpHosts/1 (%r)" % [g[0] for g in got])
    xml = got[0][1] if got else ""
    check("<ipAddress>127.0.0.1</ipAddress>" in xml and "<portNo>8099</portNo>" in xml and
          "<parameterFormatType>JSON</parameterFormatType>" in xml,
          "the XML names our listener, JSON: " + xml.replace("\n", " ")[:300])

    with open(pw, "w") as f:
        f.write("wrong\n")
    r = gslib.cli(conf, "terminal", "setup", "face-a", "--isapi-port", str(port))
    check(r.returncode == 1 and "refused user admin" in r.stderr,
          "a wrong password is reported (%d %s)" % (r.returncode, r.stderr.strip()))

    with open(conf, "w") as f:
        f.write(config("0.0.0.0:8099", pw))
    r = gslib.cli(conf, "terminal", "setup", "face-a", "--isapi-port", str(port))
    check(r.returncode == 1 and "--host" in r.stderr, "a wildcard listen needs --host (%s)"
          % r.stderr.strip())
    with open(pw, "w") as f:
        f.write("terminal-pw\n")
    r = gslib.cli(conf, "terminal", "setup", "face-a", "--host", "192.168.50.2",
                  "--isapi-port", str(port))
    check(r.returncode == 0 and len(got) == 2 and "<ipAddress>192.168.50.2</ipAddress>" in got[-1][1],
          "--host names the address the terminal pushes to")
    r = gslib.cli(conf, "terminal", "setup", "face-a", "--host", "<x>")
    check(r.returncode == 2 and "not an IPv4 or IPv6 address" in r.stderr and len(got) == 2,
          "--host must be an address (nothing sent)")
    with open(conf, "w") as f:
        f.write(config("127.0.0.1:8099", pw).replace("address = 127.0.0.5",
                                                      "mode = stream\naddress = 127.0.0.5"))
    r = gslib.cli(conf, "terminal", "setup", "face-a", "--isapi-port", str(port))
    check(r.returncode == 1 and "mode = stream" in r.stderr and len(got) == 2,
          "a stream terminal has nothing to set up, and nothing is sent (%s)" % r.stderr.strip())
    r = gslib.cli(conf, "terminal", "setup", "nosuch")
    check(r.returncode == 1 and "no [terminal nosuch]" in r.stderr, "an unknown terminal is named")
    srv.shutdown()
    gslib.finish()


if __name__ == "__main__":
    main()
