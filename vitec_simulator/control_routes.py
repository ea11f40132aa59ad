"""The control API under `/_control/` (no auth, never counted or faulted): data changes, faults, stats."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.responses import Response

from vitec_simulator.clock import now_seconds
from vitec_simulator.faults import FaultSpec
from vitec_simulator.responses import json_response, not_found
from vitec_simulator.state import simulator

router = APIRouter(prefix="/_control")
EstateId = Annotated[str, Path(alias="estateId")]


def _changed(estate_id: str, changed_date: str) -> dict[str, Any]:
    return {"estateId": estate_id, "changedDate": changed_date}


@router.post("/estates/{inst}/mutate-random")
async def mutate_random(request: Request, inst: str, count: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    """Mutate `count` random live estates; answers `{"estateIds": [...]}`."""
    store = simulator(request).control_installation(inst)
    return json_response({"estateIds": store.mutate_random(count, now_seconds())})


@router.post("/estates/{inst}/{estateId}/mutate")
async def mutate(request: Request, inst: str, estate_id: EstateId, images: bool = False) -> Response:
    """Change an estate's heading and price and stamp it changed now (`?images=true`: its images too,
    with new bytes); answers its id and `changedDate`."""
    record = simulator(request).control_installation(inst).mutate(estate_id, now_seconds(), images=images)
    if record is None:
        raise not_found(f"estate {estate_id}")
    return json_response(_changed(record.summary["estateId"], record.summary["changedDate"]))


@router.delete("/estates/{inst}/{estateId}", status_code=204)
async def delete_estate(request: Request, inst: str, estate_id: EstateId) -> Response:
    """Delete an estate: it vanishes from lists and its detail answers 404."""
    if not simulator(request).control_installation(inst).delete(estate_id):
        raise not_found(f"estate {estate_id}")
    return Response(status_code=204)


@router.post("/estates/{inst}", status_code=201)
async def create_estate(request: Request, inst: str) -> Response:
    """Create a new estate changed now; answers its id and `changedDate`."""
    record = simulator(request).control_installation(inst).create(now_seconds())
    return json_response(_changed(record.summary["estateId"], record.summary["changedDate"]), 201)


@router.put("/faults")
async def put_faults(request: Request, spec: FaultSpec) -> Response:
    """Replace the active faults; answers them."""
    faults = simulator(request).faults
    faults.set(spec)
    return json_response(faults.spec.model_dump())


@router.get("/faults")
async def get_faults(request: Request) -> Response:
    """The active faults with the counts still left."""
    return json_response(simulator(request).faults.spec.model_dump())


@router.delete("/faults", status_code=204)
async def delete_faults(request: Request) -> Response:
    """Clear every fault."""
    simulator(request).faults.clear()
    return Response(status_code=204)


@router.get("/stats")
async def get_stats(request: Request) -> Response:
    """Request counters: `total`, and per `routes` template, exact `paths`, `statuses` and `faults`."""
    return json_response(simulator(request).stats.snapshot())


@router.delete("/stats", status_code=204)
async def delete_stats(request: Request) -> Response:
    """Zero the counters only."""
    simulator(request).stats.clear()
    return Response(status_code=204)


@router.post("/reset", status_code=204)
async def reset(request: Request) -> Response:
    """Counters, faults and every data change back to the seeded state."""
    simulator(request).reset()
    return Response(status_code=204)
