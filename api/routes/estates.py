"""Estates, departments and employees: served from the read model, never from Vitec live."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import CurrentPrincipal, CursorCodecDep, ResourcesDep, SessionDep
from api.exceptions import AUTH_ERRORS, error_responses
from api.pagination import Cursor, CursorCodec, Limit
from api.responses import links
from api.schemas.common import DateTimeInput
from api.schemas.estates import (
    Address,
    DepartmentCollection,
    DepartmentRead,
    EmployeeCollection,
    EmployeeRead,
    EstateCollection,
    EstateRead,
)
from domain.errors import InvalidCursorError
from domain.estates import EstateFilters, EstateSummary
from domain.vitec import (
    RASTER_IMAGE_TYPES,
    EstateImageNotFoundError,
    EstateImageTimeoutError,
    EstateImageTooLargeError,
    EstateNotFoundError,
    VitecUnavailableError,
)
from service.estates import EstateDetail, EstateListingPage, EstatePages, EstateService, read_image

router = APIRouter(tags=["estates"])


async def get_estate_pages(request: Request) -> EstatePages:
    pages: EstatePages = request.app.state.estate_pages
    return pages


async def get_estate_service(session: SessionDep) -> EstateService:
    return EstateService(session)


EstatePagesDep = Annotated[EstatePages, Depends(get_estate_pages)]
EstateServiceDep = Annotated[EstateService, Depends(get_estate_service)]


def _image_url(estate_id: uuid.UUID, image_id: uuid.UUID) -> str:
    return f"/api/v1/estates/{estate_id}/images/{image_id}"


# The two hottest answers are written as JSON straight from the rows, in the shape and field order
# of their response models (`EstateListItem`, `EstateRead`, which document them): validating rows
# into models and serializing those again cost more than the query. orjson writes them, spelling
# decimals, UUIDs and UTC datetimes as pydantic does (tests compare the bytes with the models').
def _spelled(value: object) -> str:
    if isinstance(value, Decimal | uuid.UUID):  # asyncpg's UUID is a subclass orjson does not take
        return str(value)
    raise TypeError(f"no JSON for {type(value).__name__}")


def to_json(document: dict[str, Any]) -> bytes:
    return orjson.dumps(document, default=_spelled, option=orjson.OPT_UTC_Z)


def _item(estate: EstateSummary, thumbnail_url: str | None) -> dict[str, Any]:
    # UUIDs and decimals as text here: asyncpg's UUID is a subclass orjson hands back to `_spelled`,
    # and a page has some 250 of them.
    if thumbnail_url is None and estate.thumbnail_id is not None:
        thumbnail_url = _image_url(estate.id, estate.thumbnail_id)
    return {
        "id": str(estate.id),
        "vitec_estate_id": estate.vitec_id,
        "assignment_number": estate.assignment_number,
        "status": estate.status,
        "estate_type": estate.estate_type,
        "address": {"street": estate.street, "zip_code": estate.zip_code, "city": estate.city},
        "heading": estate.heading,
        "asking_price": None if estate.asking_price is None else str(estate.asking_price),
        "department_id": None if estate.department_id is None else str(estate.department_id),
        "broker_ids": [str(broker_id) for broker_id in estate.broker_ids],
        "thumbnail_url": thumbnail_url,
        "vitec_changed_at": estate.vitec_changed_at,
        "updated_at": estate.updated_at,
    }


def render_list(listed: EstateListingPage, codec: CursorCodec) -> bytes:
    """An `EstateCollection` as JSON."""
    page = listed.page
    return to_json(
        {
            "items": [_item(listing.estate, listing.thumbnail_url) for listing in page.items],
            "next_cursor": codec.encode_time_id(page.next_key),
        }
    )


def render_detail(detail: EstateDetail) -> bytes:
    """An `EstateRead` as JSON."""
    row, department = detail.row, detail.row.department
    estate = row.estate
    return to_json(
        {
            **_item(estate, detail.thumbnail_url),
            "description": row.description,
            "price": {"asking": estate.asking_price, "total": row.total_price},
            "area": {"primary_room": row.primary_area, "usable": row.usable_area},
            "rooms": row.rooms,
            "bedrooms": row.bedrooms,
            "construction_year": row.construction_year,
            "energy_letter": row.energy_letter,
            "images": [
                {
                    "id": image.id,
                    "sequence": image.sequence,
                    "description": image.description,
                    "category": image.category,
                    "url": detail.image_urls.get(image.id) or _image_url(estate.id, image.id),
                }
                for image in row.images
            ],
            "brokers": [{"employee_id": b.employee_id, "name": b.name, "role": b.role} for b in row.brokers],
            "department": None
            if department is None
            else {
                "id": department.id,
                "vitec_department_id": department.vitec_id,
                "name": department.name,
                "market_name": department.market_name,
                "email": department.email,
                "phone": department.phone,
                "address": {"street": department.street, "zip_code": department.zip_code, "city": department.city},
            },
        }
    )


@router.get(
    "/estates",
    response_model=EstateCollection,
    responses={
        200: {"links": links(read=dict(operationId="estates-read_estate", estate_id="$response.body#/items/0/id"))},
        **error_responses(*AUTH_ERRORS, InvalidCursorError),
    },
)
async def list_estates(
    principal: CurrentPrincipal,
    pages: EstatePagesDep,
    codec: CursorCodecDep,
    status: Annotated[list[str] | None, Query(max_length=32, description="Repeatable.")] = None,
    department_id: uuid.UUID | None = None,
    broker_id: Annotated[uuid.UUID | None, Query(description="An employee in any broker role.")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Every word in address or heading.")] = None,
    updated_since: DateTimeInput | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> Response:
    """The organization's estates, most recently changed first. Estates gone from Vitec are not listed."""
    filters = EstateFilters(
        statuses=status or [], department_id=department_id, broker_id=broker_id,
        words=(q or "").split(), updated_since=updated_since,
    )  # fmt: skip
    body = await pages.list(
        principal,
        filters,
        limit=limit,
        after=codec.decode_time_id(cursor),
        render=lambda page: render_list(page, codec),
    )
    return Response(body, media_type="application/json")


_IMAGE_LINK = links(
    image=dict(
        operationId="estates-read_estate_image", estate_id="$response.body#/id", image_id="$response.body#/images/0/id"
    )
)


@router.get(
    "/estates/{estate_id}",
    response_model=EstateRead,
    responses={200: {"links": _IMAGE_LINK}, **error_responses(*AUTH_ERRORS, EstateNotFoundError)},
)
async def read_estate(estate_id: uuid.UUID, principal: CurrentPrincipal, pages: EstatePagesDep) -> Response:
    """One estate with its images, brokers and department; another organization's or a deleted one: 404."""
    return Response(render_detail(await pages.get(principal, estate_id)), media_type="application/json")


@router.get(
    "/estates/{estate_id}/images/{image_id}",
    response_class=Response,
    responses={
        200: {"content": {"image/*": {}}, "description": "The image's bytes, read through from Vitec."},
        307: {"description": "The image is mirrored: a short-lived read SAS URL in Blob Storage."},
        **error_responses(
            *AUTH_ERRORS,
            EstateImageNotFoundError,
            EstateImageTooLargeError,
            VitecUnavailableError,
            EstateImageTimeoutError,
        ),
    },
)
async def read_estate_image(
    estate_id: uuid.UUID, image_id: uuid.UUID, principal: CurrentPrincipal, resources: ResourcesDep
) -> Response:
    """An estate image: a redirect to Blob Storage once mirrored, else its bytes read through from Vitec
    (one deadline and a size cap; no database connection is held while Vitec answers)."""
    answer = await read_image(resources, principal, estate_id, image_id)
    if answer.redirect_url is not None:
        return RedirectResponse(answer.redirect_url, status_code=307)
    image = answer.binary
    assert image is not None
    # Served from our own origin: only raster types, never what a browser would run (HTML, SVG).
    media_type = image.content_type if image.content_type in RASTER_IMAGE_TYPES else "application/octet-stream"
    return Response(image.content, media_type=media_type)


@router.get(
    "/departments", response_model=DepartmentCollection, responses=error_responses(*AUTH_ERRORS, InvalidCursorError)
)
async def list_departments(
    principal: CurrentPrincipal,
    service: EstateServiceDep,
    codec: CursorCodecDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> DepartmentCollection:
    """The organization's departments (offices)."""
    page = await service.departments(principal, limit=limit, after=codec.decode_time_id(cursor))
    items = [
        DepartmentRead(
            id=d.id, vitec_department_id=d.vitec_id, name=d.name, market_name=d.market_name, email=d.email,
            phone=d.phone, address=Address(street=d.street, zip_code=d.zip_code, city=d.city),
        )
        for d in page.items
    ]  # fmt: skip
    return DepartmentCollection(items=items, next_cursor=codec.encode_time_id(page.next_key))


@router.get(
    "/employees", response_model=EmployeeCollection, responses=error_responses(*AUTH_ERRORS, InvalidCursorError)
)
async def list_employees(
    principal: CurrentPrincipal,
    service: EstateServiceDep,
    codec: CursorCodecDep,
    limit: Limit = 50,
    cursor: Cursor = None,
) -> EmployeeCollection:
    """The organization's employees (brokers and staff)."""
    page = await service.employees(principal, limit=limit, after=codec.decode_time_id(cursor))
    items = [
        EmployeeRead(id=e.id, vitec_employee_id=e.vitec_id, name=e.name, title=e.title, email=e.email,
                     mobile_phone=e.mobile_phone, active=e.active)
        for e in page.items
    ]  # fmt: skip
    return EmployeeCollection(items=items, next_cursor=codec.encode_time_id(page.next_key))
