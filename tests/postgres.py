"""A throwaway PostgreSQL server on 127.0.0.1 for tests that need a Dagster instance on Postgres.

The server is the real one from the machine's PostgreSQL packages (`.ci/run` installs them in CI);
tests skip with the reason only where no PostgreSQL binaries exist. PostgreSQL refuses to run as root,
so under root the server runs as the `postgres` system user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    database: str

    @property
    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.postgres.yaml reads (trust auth on loopback: any password)."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.user,
            "DAGSTER_PG_PASSWORD": "unused-with-trust-auth",
            "DAGSTER_PG_DB": self.database,
        }


def postgres_bin_dir() -> Path | None:
    """Where initdb/pg_ctl live: on PATH, or Debian's versioned folder."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(candidates[-1]).parent if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> tuple[list[str], str]:
    """Command prefix and OS user for the server: itself, or `postgres` when running as root."""
    if os.geteuid() != 0:
        return [], pwd.getpwuid(os.geteuid()).pw_name
    runuser = shutil.which("runuser") or shutil.which("setpriv")
    if runuser is None:
        raise RuntimeError("running as root and neither runuser nor setpriv is available")
    try:
        pwd.getpwnam("postgres")
    except KeyError as exc:
        raise RuntimeError("running as root and there is no 'postgres' system user") from exc
    prefix = ["runuser", "-u", "postgres", "--"] if runuser.endswith("runuser") else [runuser, "--reuid=postgres"]
    return prefix, "postgres"


@contextmanager
def postgres_server(bin_dir: Path) -> Iterator[PostgresServer]:
    prefix, os_user = _as_user()
    root = Path(tempfile.mkdtemp(prefix="okr-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, user=os_user)
    port = _free_port()
    run = lambda *args: subprocess.run([*prefix, *args], check=True, capture_output=True, text=True, timeout=120)  # noqa: E731
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        options = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"), "-w", "start")
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "dagster")
        yield PostgresServer("127.0.0.1", port, "postgres", "dagster")
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        time.sleep(0.1)
        shutil.rmtree(root, ignore_errors=True)
