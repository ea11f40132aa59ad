"""The real server under uvicorn: a dropped connection is a protocol error, a hang is a client timeout."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.vitec_simulator.support import AUTH, INSTALLATION

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{base_url}/_control/stats", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail(f"the simulator did not start:\n{log.read_text()}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A simulator process on a free port; stopped (and required to stop promptly) afterwards."""
    port, log = free_port(), tmp_path / "simulator.log"
    env = {key: value for key, value in os.environ.items() if not key.startswith("SIMULATOR_")}
    env.update({"SIMULATOR_INSTALLATIONS": INSTALLATION, "SIMULATOR_ESTATES": "40", "SIMULATOR_SEED": "7"})
    command = [sys.executable, "-m", "uvicorn", "vitec_simulator.app:app", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process, log)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            pytest.fail("the simulator did not stop within 10 s of SIGTERM")


async def test_drops_and_hangs_over_real_http(server: str) -> None:
    async with httpx.AsyncClient(base_url=server, auth=AUTH, timeout=0.5) as client:
        assert (await client.put("/_control/faults", json={"drop_count": 1})).status_code == 200
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(f"/{INSTALLATION}/Estates")
        assert (await client.get(f"/{INSTALLATION}/Estates")).status_code == 200

        spec = {"timeout_count": 1, "timeout_seconds": 30}
        assert (await client.put("/_control/faults", json=spec)).status_code == 200
        started = time.perf_counter()
        with pytest.raises(httpx.TimeoutException):
            await client.get(f"/{INSTALLATION}/Departments")
        assert time.perf_counter() - started < 3
        assert (await client.get(f"/{INSTALLATION}/Departments")).status_code == 200

        stats = (await client.get("/_control/stats")).json()
        assert stats["faults"] == {"drop": 1, "timeout": 1}
        assert stats["routes"]["GET /{inst}/Departments"] == 2
