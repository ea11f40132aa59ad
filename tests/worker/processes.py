"""Real worker, scheduler and redis-server processes for the durability tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from core.settings import Settings
from tests.conftest import ROOT, TEST_JOB_SETTINGS, TEST_JWT_SECRET

TEST_MODULE = "tests.worker.support"


def service_env(settings: Settings, **overrides: str) -> dict[str, str]:
    """The environment a subprocess needs to join this test run's database, Redis and stream."""
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("JOB_", "DATABASE_", "REDIS_", "AZURE_"))
    }
    env.update(
        {
            "DATABASE_URL": settings.database.url,
            "REDIS_URL": settings.redis.url,
            "AZURE_STORAGE_CONNECTION_STRING": settings.azure.connection_string.get_secret_value(),
            "AZURE_STORAGE_CONTAINER": settings.azure.container,
            "JWT_SECRET": TEST_JWT_SECRET,
            "ENVIRONMENT": "test",
            "LOG_LEVEL": "INFO",
            "PASSWORD_HASH_MEMORY_KIB": "1024",
            # No scheduled syncs of every test organization against a Vitec that is not there.
            "VITEC_SYNC_INTERVAL_SECONDS": "0",
            **{f"JOB_{name.upper()}": str(value) for name, value in TEST_JOB_SETTINGS.items()},
        }
    )
    env.update(overrides)
    return env


class ManagedProcess:
    """A subprocess in a session of its own, so a kill reaches its children too."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, signum: int) -> None:
        """Signal the main process only (what a container runtime does on stop)."""
        self.process.send_signal(signum)

    def kill_all(self) -> None:
        """SIGKILL the whole process group: the container is gone, mid-task, no goodbyes."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)

    def wait_exit(self, seconds: float) -> int | None:
        try:
            return self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill_all()
        self._log.close()


def start_worker(settings: Settings, name: str, log_dir: Path, **env: str) -> ManagedProcess:
    command = [
        sys.executable, "-m", "taskiq", "worker", "worker.broker:broker", "worker.tasks", TEST_MODULE,
        "--workers", "1", "--wait-tasks-timeout", "5", "--shutdown-timeout", "2", "--no-configure-logging",
    ]  # fmt: skip
    return ManagedProcess(name, command, service_env(settings, JOB_WORKER_NAME=name, **env), log_dir)


def start_scheduler(settings: Settings, name: str, log_dir: Path, **env: str) -> ManagedProcess:
    command = [
        sys.executable, "-m", "taskiq", "scheduler", "worker.scheduler:scheduler", TEST_MODULE,
        "--no-configure-logging",
    ]  # fmt: skip
    return ManagedProcess(name, command, service_env(settings, JOB_WORKER_NAME=name, **env), log_dir)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PrivateRedis:
    """A redis-server of the test's own, on a free port, that the test stops and starts."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._log_dir = log_dir
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self._log_dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("private redis-server did not start")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float, message: str) -> None:
    """Wait for a condition (polling every 50 ms), failing with `message` after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {seconds} s: {message}")


def start_simulator(**env: str) -> tuple[subprocess.Popen[bytes], str]:
    """The Vitec simulator as a real HTTP server (for faults that need a socket); answers the process
    and its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "vitec_simulator.app:app", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env},
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, url
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("the simulator did not start")
