"""Prometheus metrics shared by the API and the worker (each process serves its own registry)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOBS_FINISHED = Counter(
    "estate_bff_jobs_finished_total", "Job runs that ended, by kind and outcome.", ["kind", "status"]
)
JOB_DURATION = Histogram(
    "estate_bff_job_duration_seconds",
    "Wall time of one job run, by kind and outcome.",
    ["kind", "status"],
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
JOBS_RETRIED = Counter(
    "estate_bff_jobs_retried_total", "Job runs that failed transiently and were re-queued.", ["kind"]
)
JOBS_SWEPT = Counter("estate_bff_jobs_swept_total", "Jobs the sweeper re-sent or recovered, by reason.", ["reason"])
HTTP_REQUEST_DURATION = Histogram(
    "estate_bff_http_request_duration_seconds",
    "API request latency, by method, route template (relative to /api/v1) and status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MIRROR_IMAGES = Counter(
    "estate_bff_mirror_images_total",
    "Estate images handled by blobs.mirror, by outcome: mirrored (uploaded), skipped (fetched again, bytes "
    "already stored), failed (gone at Vitec or too large).",
    ["outcome"],
)
