"""The metrics the README lists, on the API's /metrics: jobs by kind and status (counts and run
time), queue depth and lag, and Vitec calls by route and outcome."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from httpx import AsyncClient
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.ext.asyncio import AsyncSession

from core import metrics
from core.resources import Resources
from domain.jobs import JobStatus
from repository.models import Organization
from tests.factories.jobs import create_job

README = Path(__file__).resolve().parents[2] / "README.md"


async def samples(client: AsyncClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_job_counts_and_run_time_by_kind_and_status_are_on_the_api(
    client: AsyncClient, session: AsyncSession, organization: Organization
) -> None:
    before = await samples(client)
    started = datetime.now(UTC) - timedelta(seconds=30)
    await create_job(session, organization, kind="reports.render", status=JobStatus.FAILED,
                     started_at=started, finished_at=started + timedelta(seconds=12))  # fmt: skip
    await create_job(session, organization, kind="reports.render", status=JobStatus.QUEUED)
    await session.commit()

    after = await samples(client)

    failed = {"kind": "reports.render", "status": "failed"}
    queued = {"kind": "reports.render", "status": "queued"}
    assert value(after, "estate_bff_jobs", **failed) == value(before, "estate_bff_jobs", **failed) + 1
    assert value(after, "estate_bff_jobs", **queued) == value(before, "estate_bff_jobs", **queued) + 1
    run_time = value(after, "estate_bff_jobs_run_seconds", **failed) - value(
        before, "estate_bff_jobs_run_seconds", **failed
    )
    assert abs(run_time - 12) < 0.01
    assert value(after, "estate_bff_queue_oldest_queued_age_seconds") >= 0


async def test_queue_depth_and_lag_are_on_the_api(client: AsyncClient, resources: Resources) -> None:
    await resources.redis.xadd(resources.settings.jobs.stream, {"data": "{}"})

    found = await samples(client)

    stream = resources.settings.jobs.stream
    assert value(found, "estate_bff_queue_stream_length") == await resources.redis.xlen(stream)
    assert ("estate_bff_queue_stream_pending", frozenset()) in found
    assert ("estate_bff_queue_stream_lag", frozenset()) in found


def test_the_readme_lists_every_metric_the_processes_export() -> None:
    exported = {
        family.name + ("_total" if family.type == "counter" else "")
        for metric in vars(metrics).values()
        if isinstance(metric, MetricWrapperBase)
        for family in metric.describe()
    }
    listed = set(re.findall(r"`(estate_bff_[a-z_]+)`", README.read_text()))

    assert exported
    assert exported <= listed, exported - listed
