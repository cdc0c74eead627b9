"""A throwaway PostgreSQL server in a folder, for the tests and the bench.

It listens only on a Unix socket in its folder (no port on the machine is
taken) and trusts local connections. PostgreSQL refuses to run as root, so
as root the server runs as the `postgres` user, which owns the folder.
"""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

PORT = 5432  # (only names the socket file: no TCP port is opened)


def binaries() -> Path | None:
    """The folder of `initdb`/`pg_ctl`: on PATH, else the newest Debian install."""
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def missing_reason() -> str | None:
    """Why no server can be started here, or None."""
    if binaries() is None:
        return "PostgreSQL is not installed (make test installs it with apt-get when run as root)"
    if os.geteuid() == 0:
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no 'postgres' user to run the server as"
    return None


class LocalServer:
    def __init__(self, *, durable: bool = False, folder: Path | None = None, settings: tuple[str, ...] = ()) -> None:
        """`durable`: fsync and synchronous commits, as a production server (the bench);
        else off (tests: nothing outlives them). `folder`: the server's, kept when stopped
        and started again from what it holds (the bench's large databases, built once);
        else a temporary one. `settings`: more lines of postgresql.conf, written when the
        folder's server is made (a kept folder keeps those it was made with)."""
        bin_dir = binaries()
        assert bin_dir is not None, missing_reason()
        self.bin = bin_dir
        # Not under pytest's tmp folder: as root that is private to root, and the server runs as postgres.
        self.kept = folder is not None
        self.dir = folder if folder is not None else Path(tempfile.mkdtemp(prefix="custdesk-pg-"))
        self.dir.mkdir(parents=True, exist_ok=True)
        self.data = self.dir / "data"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        if not (self.data / "PG_VERSION").exists():
            self._run(self.bin / "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      "--locale=C.UTF-8", "--no-sync")
            lines = ["listen_addresses=''", f"unix_socket_directories='{self.dir}'", "max_connections=200", *settings]
            if not durable:
                lines += ["fsync=off", "synchronous_commit=off", "full_page_writes=off"]
            with open(self.data / "postgresql.conf", "a") as conf:
                conf.write("\n".join(lines) + "\n")
        self._run(self.bin / "pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "start")

    def _run(self, *args: object) -> None:
        command = [str(a) for a in args]
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.dir}&port={PORT}"

    def create_database(self, name: str, encoding: str | None = None) -> str:
        """A new database; of `encoding` (LATIN1, WIN1254 …) instead of the server's UTF8."""
        import psycopg

        of = f" ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0" if encoding else ""
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"{of}')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop the server; a temporary one's folder goes with it, a kept one's stays whole."""
        if self.kept:
            self._run(self.bin / "pg_ctl", "-D", str(self.data), "-m", "fast", "stop")
            return
        try:
            self._run(self.bin / "pg_ctl", "-D", str(self.data), "-m", "immediate", "stop")
        finally:
            time.sleep(0.05)
            shutil.rmtree(self.dir, ignore_errors=True)
