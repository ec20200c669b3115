"""Issue 16 item 7: the TLS offered by both HTTPS servers -- the nurse's page
(gatescreend [web]) and the bureau's collector (gatescreen-bureaud) -- is TLS 1.3
and TLS 1.2 with ECDHE and AEAD only (daemon/runtime/tls_server.c, one priority
string for both). A real client (Python's ssl, OpenSSL 3) offers one suite at a
time: static-RSA key exchange, CBC (SHA-1 and SHA-256 MACs), finite-field DHE and
TLS 1.1 must be refused in the handshake; ECDHE with AES-GCM or ChaCha20-Poly1305,
and TLS 1.3, accepted. Both servers use RSA certificates here (made now), so static
RSA would be possible if it were offered. Figures: each suite and what happened.
~15 s (most of it PostgreSQL starting for the collector)."""
import os
import ssl
import sys

import attacklib as al
from attacklib import check, figure

sys.path.insert(0, os.path.join(al.HERE, "..", "integration"))
import bureaulib  # noqa: E402

T12 = ssl.TLSVersion.TLSv1_2
REFUSED = [("static RSA, AES-GCM", "AES128-GCM-SHA256", T12),
           ("static RSA, AES-256-GCM", "AES256-GCM-SHA384", T12),
           ("static RSA, CBC SHA-1", "AES128-SHA", T12),
           ("static RSA, CBC SHA-256", "AES256-SHA256", T12),
           ("ECDHE, CBC SHA-1", "ECDHE-RSA-AES128-SHA", T12),
           ("ECDHE, CBC SHA-384", "ECDHE-RSA-AES256-SHA384", T12),
           ("DHE (finite field), AES-GCM", "DHE-RSA-AES128-GCM-SHA256", T12),
           ("TLS 1.1", "ALL", ssl.TLSVersion.TLSv1_1)]
ACCEPTED = [("ECDHE, AES-128-GCM", "ECDHE-RSA-AES128-GCM-SHA256", T12),
            ("ECDHE, AES-256-GCM", "ECDHE-RSA-AES256-GCM-SHA384", T12),
            ("ECDHE, ChaCha20-Poly1305", "ECDHE-RSA-CHACHA20-POLY1305", T12),
            ("TLS 1.3", None, None)]


def handshake(port, ciphers, version):
    """The negotiated (version, suite), or None when the server refused."""
    ctx = al.client_context(ciphers, tls_max=version,
                            tls_min=ssl.TLSVersion.TLSv1 if version and version < T12 else None)
    try:
        s = al.tls_socket(port, ctx=ctx, timeout=5)
    except (OSError, ssl.SSLError):
        return None
    got = (s.version(), s.cipher()[0])
    s.close()
    return got


def suites(server, port):
    for what, ciphers, version in REFUSED:
        got = handshake(port, ciphers, version)
        figure("%s %s" % (server, ciphers if version == T12 else what),
               "refused" if got is None else "ACCEPTED %s %s" % got)
        check(got is None, "%s refuses %s" % (server, what))
    for what, ciphers, version in ACCEPTED:
        got = handshake(port, ciphers, version)
        figure("%s %s" % (server, ciphers or what), "%s %s" % got if got else "REFUSED")
        check(got is not None and (ciphers is None or got[1] == ciphers),
              "%s accepts %s (%s)" % (server, what, got))


WEB_CONFIG = al.gslib.BASE_CONFIG + """
[web]
enabled = yes
listen = 127.0.0.1
port = %d
tls_cert = %s
tls_key = %s
"""


def web():
    d, conf = al.gslib.scratch("")
    cert, key = al.rsa_cert(d)
    port = al.gslib.free_port()
    with open(conf, "w", encoding="utf-8") as f:
        f.write(WEB_CONFIG % (port, cert, key))
    dm = al.gslib.Daemon(conf)
    check(dm.wait_for("web: serving HTTPS"), "gatescreend serves HTTPS")
    suites("web", port)
    rc, _ = dm.stop()
    check(rc == 0, "gatescreend stops cleanly")


def collector():
    with bureaulib.Bureau() as b:
        cert, key = al.rsa_cert(b.dir, "collector")
        port = bureaulib.free_port()
        conf = os.path.join(b.dir, "rsa.conf")
        with open(conf, "w", encoding="utf-8") as f:
            f.write("[collector]\nlisten = 127.0.0.1:%d\ntls_cert = %s\ntls_key = %s\n"
                    "client_ca = %s\ninstance = rsa\nthreads = 2\n\n[database]\ndsn = %s\n"
                    % (port, cert, key, b.certs["client-ca"], b.dsn))
        c = bureaulib.Collector(conf, port, "rsa")
        b.collectors.append(c)
        c.start()
        suites("collector", port)


def main():
    web()
    collector()
    al.gslib.finish()


if __name__ == "__main__":
    main()
