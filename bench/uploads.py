"""Streaming a large upload through the API into Azurite, against the SDK's own `upload_blob`.

The API runs as a real uvicorn process (uvloop, httptools); the client streams N MiB from memory
it reuses (one 1 MiB buffer), so the client side costs the same in both runs. The API's resident
memory is sampled from /proc every 20 ms while it streams; its growth is the peak over the RSS it
had after a warm-up upload. The baseline uploads the same bytes from this process with
`BlobClient.upload_blob` (block size and concurrency equal to the API's settings). The Azurite is
private to the benchmark, its data in a temporary directory on disk.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from azure.storage.blob.aio import BlobServiceClient

from core.settings import AZURITE_ACCOUNT_KEY, AzureSettings
from repository.models import Estate
from service.unit_of_work import transaction

MIB = 1024 * 1024
CONTAINER = "bench"


def connection_string(port: int) -> str:
    return (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )


def start_azurite(root: Path, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    subprocess.run(["bash", str(root / "scripts" / "azurite.sh"), "ensure"], check=True)
    return subprocess.Popen(
        ["bash", str(root / "scripts" / "azurite.sh"), "exec", str(port), data_dir],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for {pid}")


class RssSampler:
    """The highest RSS of a process seen while it runs (a thread reading /proc every 20 ms)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_bytes(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def payload(total: int, block: bytes) -> tuple[AsyncIterator[bytes], str]:
    """A PDF-looking stream of `total` bytes built from one reused block, and its SHA-256."""
    head = b"%PDF-1.7\n"
    digest = hashlib.sha256(head)
    remaining = total - len(head)
    while remaining > 0:
        digest.update(block[: min(remaining, len(block))])
        remaining -= len(block)

    async def chunks() -> AsyncIterator[bytes]:
        yield head
        left = total - len(head)
        while left > 0:
            piece = block if left >= len(block) else block[:left]
            left -= len(piece)
            yield piece

    return chunks(), digest.hexdigest()


def cpu_of(pids: dict[str, int]) -> dict[str, float]:
    return {name: cpu_seconds(pid) for name, pid in pids.items()}


def cpu_used(before: dict[str, float], pids: dict[str, int], seconds: float) -> dict[str, float]:
    """Each process's CPU use over the run, in cores (1.0 = one core busy all along)."""
    return {name: round((cpu_seconds(pid) - before[name]) / seconds, 2) for name, pid in pids.items()}


async def through_api(
    port: int, pids: dict[str, int], estate_id: uuid.UUID, token: str, total: int, block: bytes
) -> dict[str, Any]:
    pid = pids["api"]
    url = f"http://127.0.0.1:{port}/api/v1/estates/{estate_id}/documents"
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/pdf"}
    async with httpx.AsyncClient(timeout=600) as client:
        warm, _ = payload(8 * MIB, block)
        warmed = await client.post(
            url, params={"filename": "warm.pdf"}, content=warm, headers={**headers, "Content-Length": str(8 * MIB)}
        )
        warmed.raise_for_status()
        baseline = rss_bytes(pid)
        body, sha256 = payload(total, block)
        with RssSampler(pid) as sampler:
            cpu = cpu_of(pids)
            started = time.perf_counter()
            response = await client.post(
                url, params={"filename": "big.pdf"}, content=body, headers={**headers, "Content-Length": str(total)}
            )
            seconds = time.perf_counter() - started
            cores = cpu_used(cpu, pids, seconds)
    response.raise_for_status()
    document = response.json()
    if (document["size_bytes"], document["sha256"]) != (total, sha256):
        raise RuntimeError(f"the API stored something else: {document}")
    return {
        "seconds": seconds,
        "mib_per_second": total / MIB / seconds,
        "rss_before_mib": baseline / MIB,
        "rss_peak_mib": sampler.peak / MIB,
        "rss_growth_mib": (sampler.peak - baseline) / MIB,
        "cores": cores,
    }


async def through_sdk(settings: AzureSettings, pids: dict[str, int], total: int, block: bytes) -> dict[str, Any]:
    client = BlobServiceClient.from_connection_string(settings.connection_string.get_secret_value())
    async with client:
        blob = client.get_blob_client(CONTAINER, f"sdk-{uuid.uuid4().hex}")
        body, _ = payload(total, block)
        cpu = cpu_of(pids)
        started = time.perf_counter()
        await blob.upload_blob(
            body, length=total, max_concurrency=settings.blocks_in_flight, overwrite=True,
        )  # fmt: skip
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "mib_per_second": total / MIB / seconds, "cores": cpu_used(cpu, pids, seconds)}


async def create_estate(resources: Any, organization_id: uuid.UUID) -> uuid.UUID:
    async with transaction(resources) as session:
        estate = Estate(organization_id=organization_id, vitec_id=f"B{uuid.uuid4().hex[:10]}", status="for_sale",
                        estate_type="detached", raw={}, content_hash="0" * 64)  # fmt: skip
        session.add(estate)
    return estate.id


@dataclass
class Harness:
    """What the benchmark borrows from bench/__main__.py: ports, and uvicorn with extra settings."""

    root: Path
    free_port: Callable[[], int]
    wait_port: Callable[[int], None]
    serve: Callable[[str, int, dict[str, str]], subprocess.Popen[bytes]]


async def upload_benchmark(harness: Harness, resources: Any, organization_id: uuid.UUID, token: str) -> dict[str, Any]:
    """1 GiB (BENCH_UPLOAD_MIB) through the API and through the SDK; API RSS growth and the ratio."""
    total = int(os.environ.get("BENCH_UPLOAD_MIB", "1024")) * MIB
    block = os.urandom(MIB)
    estate_id = await create_estate(resources, organization_id)
    azurite_port = harness.free_port()
    with tempfile.TemporaryDirectory(prefix="bench-azurite-") as data_dir:
        azurite = start_azurite(harness.root, azurite_port, data_dir)
        harness.wait_port(azurite_port)
        settings = AzureSettings(connection_string=connection_string(azurite_port), container=CONTAINER)  # type: ignore[arg-type]
        api_port = harness.free_port()
        env = {"AZURE_STORAGE_CONNECTION_STRING": connection_string(azurite_port), "AZURE_STORAGE_CONTAINER": CONTAINER}
        api = harness.serve("api.main:app", api_port, env)
        pids = {"api": api.pid, "azurite": azurite.pid, "client": os.getpid()}
        api_runs: list[dict[str, Any]] = []
        sdk_runs: list[dict[str, Any]] = []
        try:
            # Alternating, so a neighbour's burst of load on the shared cores hits both sides alike.
            for _ in range(int(os.environ.get("BENCH_UPLOAD_ROUNDS", "2"))):
                api_runs.append(await through_api(api_port, pids, estate_id, token, total, block))
                sdk_runs.append(await through_sdk(settings, pids, total, block))
        finally:
            api.terminate()
            api.wait(10)
            azurite.kill()
            azurite.wait(10)
    api_rate = statistics.median(run["mib_per_second"] for run in api_runs)
    sdk_rate = statistics.median(run["mib_per_second"] for run in sdk_runs)
    return {
        "mib": total // MIB,
        "block_size_mib": settings.block_size_bytes / MIB,
        "blocks_in_flight": settings.blocks_in_flight,
        "api_runs": api_runs,
        "sdk_runs": sdk_runs,
        "api_mib_per_second": api_rate,
        "sdk_mib_per_second": sdk_rate,
        "api_vs_sdk": api_rate / sdk_rate,
        "api_rss_growth_mib": max(run["rss_growth_mib"] for run in api_runs),
    }


def upload_lines(uploads: dict[str, Any]) -> list[str]:
    api, sdk = uploads["api_runs"], uploads["sdk_runs"]
    api_rates = ", ".join(f"{run['mib_per_second']:.0f}" for run in api)
    sdk_rates = ", ".join(f"{run['mib_per_second']:.0f}" for run in sdk)
    return [
        f"rounds of {uploads['mib']} MiB: API {api_rates} MiB/s; SDK upload_blob {sdk_rates} MiB/s",
        f"upload through the API (median): {uploads['api_mib_per_second']:.0f} MiB/s vs the SDK's "
        f"{uploads['sdk_mib_per_second']:.0f} MiB/s = {uploads['api_vs_sdk']:.2f}x (target >= 0.7)",
        f"API peak RSS growth while streaming: {uploads['api_rss_growth_mib']:.1f} MiB (target <= 50 MB); "
        f"cores busy (API run): {api[-1]['cores']}, (SDK run): {sdk[-1]['cores']}",
    ]
