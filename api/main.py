"""The FastAPI application: factory, lifespan, middleware, routers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from api.exceptions import install_exception_handlers, problem_only_openapi
from api.input_guard import InputGuardMiddleware, no_unknown_query_parameters
from api.middleware import RequestContextMiddleware
from api.pagination import CursorCodec
from api.routes import API_PREFIX, admin, auth, documents, estates, health, jobs, reports, sync, users
from core.logging import configure_logging, get_logger
from core.resources import Resources
from core.settings import Settings, get_settings
from service.access import AccessGuard
from service.blobs import prepare_blob_storage
from service.estates import EstatePages
from service.job_events import JobFeeds
from service.job_polling import JobPoller, JobSnapshotCache
from service.page_cache import PageCache, forget_pages_after_syncs

logger = get_logger(__name__)


def _operation_id(route: APIRoute) -> str:
    """Stable operation ids for the frontend's generated client: `<tag>-<function name>`."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.app)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = Resources.build(settings)
        app.state.resources = resources
        await resources.start_producer()
        await resources.start_raw_pool()
        await prepare_blob_storage(resources)
        resources.job_changes.on_change(app.state.job_cache.invalidate)
        resources.read_model_changes.on_change(app.state.page_cache.invalidate)
        app.state.estate_pages = EstatePages(resources, app.state.page_cache)
        app.state.access_guard = AccessGuard(resources)
        resources.access_changes.on_change(app.state.access_guard.invalidate)
        app.state.job_poller = JobPoller(resources, app.state.job_cache)
        app.state.job_feeds = JobFeeds(resources, app.state.job_cache)
        await resources.job_changes.start()
        await resources.read_model_changes.start()
        await resources.access_changes.start()
        # Everything built so far lives as long as the process: keep it out of the cyclic
        # collector, whose full passes over it otherwise stall every in-flight request.
        gc.freeze()
        logger.info("api_started", environment=settings.app.environment.value)
        try:
            yield
        finally:
            await app.state.job_feeds.close()
            await resources.close()
            logger.info("api_stopped")

    app = FastAPI(
        title="estate-bff",
        summary="Backend-for-frontend of the brokerage app: Vitec read model, documents, reports, jobs.",
        version="0.1.0",
        lifespan=lifespan,
        generate_unique_id_function=_operation_id,
        # Observability is Prometheus (/metrics) and JSON logs; FastAPI's OpenTelemetry hooks would
        # only add a check to every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        dependencies=[Depends(no_unknown_query_parameters)],
    )
    app.state.cursor_codec = CursorCodec(settings.auth.jwt_secret.get_secret_value())
    app.state.page_cache = PageCache(settings.app.page_cache_seconds)
    app.state.job_cache = JobSnapshotCache(on_read=forget_pages_after_syncs(app.state.page_cache))
    install_exception_handlers(app)
    problem_only_openapi(app)

    # The hottest reads first (estate pages, job polls): routes are matched in order, one by one.
    for router in (
        estates.router,
        jobs.router,
        auth.router,
        users.router,
        admin.router,
        sync.router,
        documents.router,
        reports.router,
    ):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health.router)
    # Before every router: a poll need not be matched against them first.
    app.router.routes.insert(0, jobs.poll_route)

    # Added innermost first: the request context wraps everything, so even a 500 gets its headers.
    app.add_middleware(InputGuardMiddleware, api=app, max_bytes=settings.app.max_json_body_bytes)
    if settings.app.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.app.cors_allow_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-None-Match", "X-Request-ID"],
            expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed"],
        )
    app.add_middleware(RequestContextMiddleware, hsts=settings.is_production)
    return app


app = create_app()
