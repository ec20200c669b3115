#!/usr/bin/env python3
"""Certificates for the upstream tests, made at test time with the openssl CLI
(python3 stdlib only; OpenSSL 3.0 as in Debian 12).

    make_certs.py DIR      # writes the files into DIR, prints their paths as JSON

What is made (EC P-256 keys, SHA-256):
  ca.pem / ca.key                 the bureau's CA (what [upstream] ca_file trusts)
  server.pem / server.key         server certificate for IP 127.0.0.1 (SAN IP:127.0.0.1)
  wronghost.pem / wronghost.key   signed by the same CA, for DNS:bureau.example only
  other-ca.pem / other-ca.key     an unrelated CA (the "wrong CA" case)
  other-server.pem / .key         a certificate for IP:127.0.0.1 signed by the unrelated CA
  client-ca.pem / client-ca.key   the CA the bureau checks client certificates against
  client.pem / client.key         a client certificate (CN=gatescreen-T-school), valid now
  expired.pem / expired.key       a client certificate from the client CA that expired on
                                  2020-01-02: `openssl ca -startdate 20200101000000Z
                                  -enddate 20200102000000Z` with a minimal CA config
                                  (`req -x509 -not_after` needs OpenSSL 3.4, faketime is
                                  not at hand, and `x509 -days` cannot go backwards)
  stranger.pem / stranger.key     a client certificate from the unrelated CA

For the bureau's collector, school_client(d, CODE) makes a school's client certificate
from the client CA the way the bureau enrols a school (docs/bureau.md, "Identity"):
SAN URI urn:gatescreen:school:CODE and a CN naming the school (or, with uri=False,
only CN=CODE). `make_certs.py DIR CODE...` also makes school-CODE.pem/.key for each.
"""
import json
import os
import subprocess
import sys

EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


def _run(args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed: %s" % (" ".join(args), r.stderr.strip()))


def _ca(d, name, cn):
    _run(["req", "-x509", *EC, "-keyout", name + ".key", "-out", name + ".pem", "-days", "3650",
          "-subj", "/O=gatescreen tests/CN=" + cn,
          "-addext", "basicConstraints=critical,CA:TRUE",
          "-addext", "keyUsage=critical,keyCertSign,cRLSign"], d)


def _leaf(d, name, ca, cn, ext, days=30):
    """A key and CSR for `name`, signed by `ca` now for 30 days with extensions ext."""
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("basicConstraints = critical,CA:FALSE\n"
                "subjectKeyIdentifier = hash\n"
                "authorityKeyIdentifier = keyid\n" + ext)
    _run(["req", "-new", *EC, "-keyout", name + ".key", "-out", name + ".csr",
          "-subj", "/O=gatescreen tests/CN=" + cn], d)
    _run(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
          "-set_serial", "0x" + os.urandom(8).hex(), "-days", str(days), "-sha256",
          "-extfile", name + ".ext", "-out", name + ".pem"], d)


SERVER_EXT = ("keyUsage = critical,digitalSignature\nextendedKeyUsage = serverAuth\n"
              "subjectAltName = %s\n")
CLIENT_EXT = "keyUsage = critical,digitalSignature\nextendedKeyUsage = clientAuth\n"

CA_CONF = """\
[ca]
default_ca = test_ca
[test_ca]
database = %(db)s/index.txt
serial = %(db)s/serial
new_certs_dir = %(db)s
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
x509_extensions = client
[any]
organizationName = optional
commonName = supplied
[client]
basicConstraints = critical,CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
""" + CLIENT_EXT


def _expired(d, name, ca, cn):
    """A client certificate valid only on 2020-01-01, signed with `openssl ca`, which
    (unlike `x509 -req` in 3.0) takes explicit start and end dates."""
    db = os.path.join(d, "ca-db")
    os.makedirs(db, exist_ok=True)
    open(os.path.join(db, "index.txt"), "w").close()
    with open(os.path.join(db, "serial"), "w") as f:
        f.write(os.urandom(8).hex().upper() + "\n")
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write(CA_CONF % {"db": db})
    _run(["req", "-new", *EC, "-keyout", name + ".key", "-out", name + ".csr",
          "-subj", "/O=gatescreen tests/CN=" + cn], d)
    _run(["ca", "-batch", "-config", "ca.cnf", "-cert", ca + ".pem", "-keyfile", ca + ".key",
          "-in", name + ".csr", "-out", name + ".pem", "-notext",
          "-startdate", "20200101000000Z", "-enddate", "20200102000000Z"], d)


def school_client(d, code, name=None, cn=None, uri=True, ca="client-ca", ext=None):
    """A school's client certificate school-CODE.pem / .key (or NAME.pem) from `ca`:
    SAN URI urn:gatescreen:school:CODE with CN "gatescreen school CODE" (uri=True), or
    CN=CODE alone (uri=False), or the CN given. Returns (cert path, key path)."""
    d = os.path.abspath(d)
    name = name or "school-" + code
    if ext is None:
        ext = CLIENT_EXT + ("subjectAltName = URI:urn:gatescreen:school:%s\n" % code
                            if uri else "")
    _leaf(d, name, ca, cn or ("gatescreen school " + code if uri else code), ext)
    out = (os.path.join(d, name + ".pem"), os.path.join(d, name + ".key"))
    for path in out:
        os.chmod(path, 0o600)
    return out


def make_certs(d):
    """Writes every certificate and key into d; returns {name: absolute path}."""
    d = os.path.abspath(d)
    os.makedirs(d, exist_ok=True)
    _ca(d, "ca", "gatescreen test bureau CA")
    _ca(d, "other-ca", "some other CA")
    _ca(d, "client-ca", "gatescreen test school client CA")
    _leaf(d, "server", "ca", "127.0.0.1", SERVER_EXT % "IP:127.0.0.1")
    _leaf(d, "wronghost", "ca", "bureau.example", SERVER_EXT % "DNS:bureau.example")
    _leaf(d, "other-server", "other-ca", "127.0.0.1", SERVER_EXT % "IP:127.0.0.1")
    _leaf(d, "client", "client-ca", "gatescreen-T-school", CLIENT_EXT)
    _leaf(d, "stranger", "other-ca", "gatescreen-stranger", CLIENT_EXT)
    _expired(d, "expired", "client-ca", "gatescreen-expired")
    out = {}
    for name in ("ca", "other-ca", "client-ca", "server", "wronghost", "other-server", "client",
                 "stranger", "expired"):
        out[name] = os.path.join(d, name + ".pem")
        out[name + ".key"] = os.path.join(d, name + ".key")
    for path in out.values():
        os.chmod(path, 0o600)
    return out


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: make_certs.py DIR [SCHOOL_CODE...]")
    out = make_certs(sys.argv[1])
    for code in sys.argv[2:]:
        out["school-" + code], out["school-" + code + ".key"] = school_client(sys.argv[1], code)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
