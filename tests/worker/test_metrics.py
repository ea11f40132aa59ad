"""The worker's own /metrics: the runs it did (by kind and status) and the system-wide job and
queue gauges the API shows too."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.resources import Resources
from tests.worker.conftest import Spawn, wait_registered
from tests.worker.processes import eventually, free_port
from tests.worker.support import EFFECT_KIND
from tests.worker.test_durability import start_job, wait_finished


async def test_the_worker_exports_job_runs_and_the_queue_gauges(
    live: Resources, organization_id: uuid.UUID, processes: dict[str, Spawn]
) -> None:
    port = free_port()
    worker = processes["worker"](JOB_WORKER_METRICS_PORT=str(port))
    await wait_registered(live, worker.name, seconds=60)  # a loaded CI machine starts processes slowly
    job = await wait_finished(live, await start_job(live, organization_id, steps=1, step_seconds=0.01))
    found: dict[str, float] = {}

    async def exported() -> bool:
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
        found.clear()
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
                found[f"{sample.name}{{{labels}}}"] = sample.value
        return f"estate_bff_jobs{{kind={EFFECT_KIND},status=succeeded}}" in found

    await eventually(exported, 20, "the worker exported the job gauges")

    assert job.status == "succeeded"
    assert found[f"estate_bff_jobs_finished_total{{kind={EFFECT_KIND},status=succeeded}}"] >= 1
    assert found[f"estate_bff_job_duration_seconds_count{{kind={EFFECT_KIND},status=succeeded}}"] >= 1
    assert "estate_bff_queue_stream_length{}" in found
    assert "estate_bff_queue_oldest_queued_age_seconds{}" in found
