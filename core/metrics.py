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
DOCUMENTS_UPLOADED = Counter(
    "estate_bff_documents_uploaded_total", "Documents stored, by path (api: streamed through; direct: SAS).", ["path"]
)
DOCUMENT_BYTES_UPLOADED = Counter(
    "estate_bff_document_bytes_uploaded_total", "Bytes of documents stored, by path.", ["path"]
)
DOCUMENT_UPLOAD_DURATION = Histogram(
    "estate_bff_document_upload_duration_seconds",
    "From the first byte read to the blob committed (api) or verified (direct), by path.",
    ["path"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
)
UPLOADS_REFUSED = Counter(
    "estate_bff_uploads_refused_total", "Uploads refused, by reason (the error's internal_code).", ["reason"]
)
