"""Benchmark task kinds, loaded by the benchmark's worker as an extra module.

`bench.noop` goes through the whole job wrapper (claim, trivial body, finish, ack);
`bench.plain` is a plain taskiq task on the same broker, the baseline.
"""

from __future__ import annotations

from typing import Any

from service.job_runner import JobContext
from worker.broker import broker
from worker.tasks import register_job_task

NOOP_KIND = "bench.noop"
PLAIN_TASK = "bench.plain"


async def noop(context: JobContext) -> dict[str, Any]:
    return {}


async def plain(seq: int) -> None:
    return None


register_job_task(broker, NOOP_KIND, noop)
broker.register_task(plain, task_name=PLAIN_TASK)
