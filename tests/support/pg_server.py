"""A real, throwaway PostgreSQL server for the tests and benchmarks (no mock, no systemd).

``PgServer.start()`` finds the server binaries (``/usr/lib/postgresql/*/bin``, else ``PATH``), installs the
Debian ``postgresql`` package when they are missing and we are root, runs ``initdb`` in a fresh temporary
folder as the unprivileged ``postgres`` user when we are root (initdb and pg_ctl refuse root), and starts the
server on a Unix socket in that folder only (``listen_addresses=''``), with fsync on. ``new_database()``
gives each test its own database; ``stop()`` ends the server and removes the folder.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path


class PgUnavailable(RuntimeError):
    """No PostgreSQL server binaries, and they could not be installed."""


def find_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def ensure_binaries() -> Path:
    """The folder of initdb/pg_ctl/postgres, installing the Debian package first when root lacks it."""
    bin_dir = find_bin_dir()
    if bin_dir is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update"], check=False, env=env, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "postgresql"], check=False,
                       env=env, capture_output=True)
        bin_dir = find_bin_dir()
    if bin_dir is None:
        raise PgUnavailable("PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin) and not "
                            "installable here (apt-get install postgresql needs root)")
    return bin_dir


class PgServer:
    """One server in its own temporary folder; ``conninfo(dbname)`` connects over its Unix socket."""

    def __init__(self) -> None:
        self.bin_dir = ensure_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="memgui-pg-"))
        self.root.chmod(0o755)
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.as_user: list[str] = []
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")  # created by the Debian package
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
            self.user = "postgres"
            for parent in self.root.parents:  # the postgres user must be able to enter the folder
                if parent.stat().st_mode & 0o001 == 0:
                    raise PgUnavailable(f"{parent} is not enterable by the postgres user")

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = [*self.as_user, str(self.bin_dir / args[0]), *args[1:]]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def start(self) -> PgServer:
        if not self.data.exists():
            self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
        self._run("pg_ctl", "-D", str(self.data), "-w", "-l", str(self.root / "server.log"), "-o",
                  f"-k {self.socket_dir} -c listen_addresses='' -c fsync=on -c max_connections=60", "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop")

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def conninfo(self, dbname: str = "postgres", **extra: str) -> str:
        words = {"host": str(self.socket_dir), "dbname": dbname, "user": self.user, **extra}
        return " ".join(f"{k}={v}" for k, v in words.items())

    def new_database(self) -> str:
        """A fresh empty database; its conninfo."""
        import psycopg

        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.conninfo(name)
