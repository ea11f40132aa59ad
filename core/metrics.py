"""Prometheus metrics shared by the API and the worker (each process serves its own registry)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

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

# Read from PostgreSQL and Redis when scraped (API) or every few seconds (worker), so every process
# shows the same, system-wide picture whichever one Prometheus asks.
JOBS = Gauge("estate_bff_jobs", "Jobs in the database (all organizations), by kind and status.", ["kind", "status"])
JOBS_RUN_SECONDS = Gauge(
    "estate_bff_jobs_run_seconds",
    "Summed run time (started to finished) of the jobs in the database, by kind and status; "
    "divided by estate_bff_jobs it is the mean duration.",
    ["kind", "status"],
)
QUEUE_OLDEST_QUEUED_AGE = Gauge(
    "estate_bff_queue_oldest_queued_age_seconds", "Age of the oldest queued job (0 when none is queued)."
)
QUEUE_STREAM_LENGTH = Gauge("estate_bff_queue_stream_length", "Messages in the job stream.")
QUEUE_STREAM_PENDING = Gauge(
    "estate_bff_queue_stream_pending", "Job messages delivered to a worker and not yet acknowledged."
)
QUEUE_STREAM_LAG = Gauge("estate_bff_queue_stream_lag", "Job messages in the stream not yet delivered to any worker.")
VITEC_REQUESTS = Counter(
    "estate_bff_vitec_requests_total",
    "Requests to the Vitec Hub, by route template and outcome "
    "(ok, retryable, transport_error, circuit_open, not_found, unauthorized, forbidden, error).",
    ["route", "outcome"],
)
VITEC_RETRIES = Counter(
    "estate_bff_vitec_retries_total", "Vitec requests sent again after a failure, by route.", ["route"]
)
JOB_EVENT_STREAMS = Gauge("estate_bff_job_event_streams", "Job event streams (SSE) open in this process.")
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
MIRROR_IMAGES = Counter(
    "estate_bff_mirror_images_total",
    "Estate images handled by blobs.mirror, by outcome: mirrored (uploaded), skipped (fetched again, bytes "
    "already stored), failed (gone at Vitec or too large).",
    ["outcome"],
)
