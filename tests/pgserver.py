"""Start a throwaway PostgreSQL server for the tests (initdb + pg_ctl; as root via `postgres`)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, listening on 127.0.0.1."""

    def __init__(self) -> None:
        bindir = _bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: "
                               "apt-get install postgresql")
        self.bindir = bindir
        self.base = Path(tempfile.mkdtemp(prefix="archiver-pg-"))
        self.base.chmod(0o755)
        self.data = self.base / "data"
        self.port = _free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, cwd=self.base)

    def start(self) -> PostgresServer:
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust",
                  "-U", "postgres", "--no-sync", "-E", "UTF8")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "log"),
                  "-o", f"-p {self.port} -k {self.base} -h 127.0.0.1 -F", "-w", "start")
        return self

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def create_plain_database(self, name: str, role: str = "archiver_plain") -> str:
        """A database owned by a role that is not a superuser (it may not create untrusted
        extensions such as rum), and its URL as that role."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            known = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if known.fetchone() is None:
                conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER')
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
        return f"postgresql+psycopg://{role}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        subprocess.run([*self.as_user, str(self.bindir / "pg_ctl"), "-D", str(self.data),
                        "-m", "fast", "-w", "stop"], capture_output=True, cwd=self.base)
        shutil.rmtree(self.base, ignore_errors=True)
