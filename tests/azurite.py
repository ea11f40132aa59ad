"""The test run's Blob Storage: the one named by AZURE_STORAGE_CONNECTION_STRING, else Azurite on
its default port when one answers there, else a private Azurite on a free port (scripts/azurite.sh
installs it on first use), stopped at the end of the run. Tests use a container of the run's own."""

from __future__ import annotations

import os
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

from core.settings import AZURITE_ACCOUNT_KEY, AZURITE_CONNECTION_STRING

DEFAULT_PORT = 10000


def _answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def azurite_connection_string(port: int) -> str:
    return (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )


@dataclass
class BlobEndpoint:
    connection_string: str
    process: subprocess.Popen[bytes] | None = None
    data_dir: tempfile.TemporaryDirectory[str] | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # Its data is thrown away with the run: no graceful shutdown to wait for.
            self.process.kill()
            self.process.wait(timeout=10)
        if self.data_dir is not None:
            self.data_dir.cleanup()


def start_blob_endpoint(root: str) -> BlobEndpoint:
    configured = os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
    if configured:
        return BlobEndpoint(configured)
    if _answers(DEFAULT_PORT):
        return BlobEndpoint(AZURITE_CONNECTION_STRING)
    subprocess.run(["bash", os.path.join(root, "scripts", "azurite.sh"), "ensure"], check=True)
    port = _free_port()
    data_dir = tempfile.TemporaryDirectory(prefix="azurite-")
    process = subprocess.Popen(
        ["bash", os.path.join(root, "scripts", "azurite.sh"), "exec", str(port), data_dir.name],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    endpoint = BlobEndpoint(azurite_connection_string(port), process, data_dir)
    deadline = time.monotonic() + 60
    while not _answers(port):
        if process.poll() is not None or time.monotonic() > deadline:
            endpoint.stop()
            raise RuntimeError(
                f"the private Azurite did not start: {process.stderr.read() if process.stderr else ''!r}"
            )
        time.sleep(0.1)
    return endpoint
