"""Benchmark task kinds, on a broker of the benchmark's own (`taskiq worker bench.tasks:broker`):
the production broker and kind registry never see them.

`bench.noop` goes through the whole job wrapper (claim, trivial body, finish, ack);
`bench.plain` is a plain taskiq task on the same broker, the baseline.
"""

from __future__ import annotations

from typing import Any

from service.job_kinds import JobKindSpec
from service.job_runner import JobContext
from worker.broker import build_worker_broker
from worker.tasks import register_job_task, register_kind_tasks

NOOP_KIND = "bench.noop"
PLAIN_TASK = "bench.plain"


async def noop(context: JobContext) -> dict[str, Any]:
    return {}


async def plain(seq: int) -> None:
    return None


broker = build_worker_broker()
register_kind_tasks(broker)
register_job_task(broker, JobKindSpec(NOOP_KIND, noop))
broker.register_task(plain, task_name=PLAIN_TASK)
