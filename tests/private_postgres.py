"""A PostgreSQL cluster of the test's own (initdb + pg_ctl in a temporary directory), on a free
port, that the test stops and starts to see how the service behaves during a real outage."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from tests.worker.processes import free_port


def _postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


class PrivatePostgres:
    """initdb once, then `start()`/`stop()` at will; `close()` stops it and removes its files."""

    def __init__(self) -> None:
        bin_dir = _postgres_bin()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        self._bin = bin_dir
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="estate-bff-pg-"))
        self._data = self._dir / "data"
        # PostgreSQL refuses to run as root: hand the directory to the postgres user when we are root.
        self._as: list[str] = []
        if os.geteuid() == 0:
            account = pwd.getpwnam("postgres")
            os.chown(self._dir, account.pw_uid, account.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self._data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C")

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self._dir} -c fsync=off"
        self._run(
            "pg_ctl", "start", "-D", str(self._data), "-l", str(self._dir / "log"), "-w", "-t", "60", "-o", options
        )

    def stop(self) -> None:
        self._run("pg_ctl", "stop", "-D", str(self._data), "-m", "fast", "-w", "-t", "30")

    def close(self) -> None:
        subprocess.run(
            [*self._as, str(self._bin / "pg_ctl"), "stop", "-D", str(self._data), "-m", "immediate"],
            capture_output=True, check=False,
        )  # fmt: skip
        shutil.rmtree(self._dir, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run([*self._as, str(self._bin / program), *args], capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"{program} failed: {result.stdout}{result.stderr}")
