"""The ASGI app: `uv run uvicorn vitec_simulator.app:app --port 8100`."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from vitec_simulator import control_routes, hub_routes
from vitec_simulator.config import Config
from vitec_simulator.middleware import FaultMiddleware
from vitec_simulator.responses import HubError, json_response, problem
from vitec_simulator.state import SimulatorState


async def _hub_error(request: Request, error: Exception) -> Response:
    if not isinstance(error, HubError):
        raise error
    return error.response()


async def _invalid_request(request: Request, error: Exception) -> Response:
    detail = str(error.errors()) if isinstance(error, RequestValidationError) else str(error)
    return json_response(problem(400, detail), 400)


async def _http_error(request: Request, error: Exception) -> Response:
    status = error.status_code if isinstance(error, StarletteHTTPException) else 500
    return json_response(problem(status, str(getattr(error, "detail", ""))), status)


def create_app(config: Config) -> FastAPI:
    """A simulator app with its own seeded state (apps never share state)."""
    app = FastAPI(title="Vitec Hub simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.simulator = state = SimulatorState(config)
    app.include_router(control_routes.router)
    app.include_router(hub_routes.router)
    app.add_exception_handler(HubError, _hub_error)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(FaultMiddleware, state=state, routes=hub_routes.router.routes)
    return app


app = create_app(Config.from_env())
