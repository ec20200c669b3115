"""A private PostgreSQL for the bureau's tests and demo (issue 15): `initdb` into a
temporary folder, listening only on a Unix socket in that folder, started and
stopped here. initdb refuses to run as root: as root, the cluster belongs to the
`postgres` system user (Debian's postgresql package makes it) and its commands run
through `runuser`; the tests connect as the cluster's superuser `bureau` with trust
authentication, which only local processes can reach (no TCP listener)."""
import os
import pwd
import shutil
import subprocess
import tempfile

BIN = os.environ.get("GS_PG_BIN", "/usr/lib/postgresql/15/bin")
SUPERUSER = "bureau"


class Postgres:
    def __init__(self, name="gs-pg-", primary=None, folder=None):
        """A new cluster, or with primary (a Postgres) a streaming replica of it: a
        base backup taken over the primary's socket, started in hot standby. folder:
        a new folder of that path rather than a temporary one (the demo's)."""
        if folder:
            self._usable(folder)
            self.dir = folder
        else:
            self.dir = tempfile.mkdtemp(prefix=name)
        self.data = os.path.join(self.dir, "data")
        self.log = os.path.join(self.dir, "postgres.log")
        self.as_user = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            os.chmod(self.dir, 0o755)  # the socket: our tests connect as root anyway
            self.as_user = ["runuser", "-u", "postgres", "--"]
        if primary:
            # -R writes primary_conninfo and standby.signal; initdb's trust rule for
            # local replication lets the superuser stream; -c fast: the backup's
            # checkpoint at once, not spread over minutes.
            self._run([os.path.join(BIN, "pg_basebackup"), "-D", self.data, "-R", "-X",
                       "stream", "-c", "fast", "-h", primary.dir, "-U", SUPERUSER])
        else:
            self._run([os.path.join(BIN, "initdb"), "-D", self.data, "-U", SUPERUSER, "-A",
                       "trust", "-E", "UTF8", "--locale=C", "--no-instructions"])
        self.start()

    @staticmethod
    def _usable(folder):
        """Makes folder, where the server's socket goes: its path must fit a Unix socket's
        107 bytes; as root the server runs as `postgres`, which must be able to reach it."""
        socket_path = os.path.join(folder, ".s.PGSQL.5432")
        if len(socket_path.encode()) > 107:
            raise RuntimeError("%s: the path is too long for PostgreSQL's Unix socket (%d "
                               "bytes, at most 107): use a shorter folder"
                               % (socket_path, len(socket_path.encode())))
        os.makedirs(folder)
        if os.geteuid() != 0:
            return
        r = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", folder])
        if r.returncode != 0:
            raise RuntimeError("PostgreSQL runs as the user postgres (this is root), which "
                               "cannot reach %s: give its parent folders o+x (chmod o+x), or "
                               "run as a normal user" % folder)

    def _run(self, argv):
        # A session of its own: the server pg_ctl leaves running is not in the caller's
        # process group, so a Ctrl-C at the terminal reaches the caller, which stops it.
        r = subprocess.run(self.as_user + argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True, start_new_session=True)
        if r.returncode != 0:
            raise RuntimeError("%s failed (%d): %s" % (argv[0], r.returncode, r.stdout[-2000:]))
        return r.stdout

    def start(self):
        opts = "-k %s -c listen_addresses='' -c unix_socket_permissions=0777" % self.dir
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-l", self.log, "-o", opts,
                   "-w", "-t", "60", "start"])

    def stop(self, mode="fast"):
        self._run([os.path.join(BIN, "pg_ctl"), "-D", self.data, "-m", mode, "-w", "stop"])

    def restart(self):
        self.stop()
        self.start()

    def dsn(self, dbname="postgres"):
        return "host=%s dbname=%s user=%s" % (self.dir, dbname, SUPERUSER)

    def psql(self, sql, dbname="postgres"):
        """Runs SQL with psql; returns the rows as lists of strings (tab-separated)."""
        r = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                            "-d", self.dsn(dbname), "-c", sql], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr.strip())
        return [line.split("\t") for line in r.stdout.splitlines() if line]

    def createdb(self, name):
        self.psql("CREATE DATABASE %s" % name)
        return self.dsn(name)

    def close(self):
        try:
            self.stop("immediate")
        except RuntimeError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
