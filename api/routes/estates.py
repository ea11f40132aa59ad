"""Estates, departments and employees: served from the read model, never from Vitec live."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import RedirectResponse

from api.deps import CurrentPrincipal, CursorCodecDep, ResourcesDep, SessionDep
from api.exceptions import AUTH_ERRORS, error_responses
from api.page_cache import PageCache
from api.pagination import Cursor, Limit
from api.responses import links
from api.schemas.common import DateTimeInput
from api.schemas.estates import (
    Address,
    Area,
    BrokerRead,
    DepartmentCollection,
    DepartmentRead,
    EmployeeCollection,
    EmployeeRead,
    EstateCollection,
    EstateImageRead,
    EstateListItem,
    EstateRead,
    Price,
)
from domain.errors import InvalidCursorError
from domain.estates import EstateFilters
from domain.vitec import (
    RASTER_IMAGE_TYPES,
    EstateImageNotFoundError,
    EstateImageTimeoutError,
    EstateImageTooLargeError,
    EstateNotFoundError,
    VitecUnavailableError,
)
from service.estates import EstateDetail, EstateListing, EstateService, read_image

router = APIRouter(tags=["estates"])


async def get_estate_service(session: SessionDep, resources: ResourcesDep) -> EstateService:
    return EstateService(session, resources)


EstateServiceDep = Annotated[EstateService, Depends(get_estate_service)]


def _image_url(estate_id: uuid.UUID, image_id: uuid.UUID) -> str:
    return f"/api/v1/estates/{estate_id}/images/{image_id}"


def _list_item(listing: EstateListing) -> EstateListItem:
    estate = listing.estate
    return EstateListItem(
        id=estate.id,
        vitec_estate_id=estate.vitec_id,
        assignment_number=estate.assignment_number,
        status=estate.status,
        estate_type=estate.estate_type,
        address=Address(street=estate.street, zip_code=estate.zip_code, city=estate.city),
        heading=estate.heading,
        asking_price=estate.asking_price,
        department_id=estate.department_id,
        broker_ids=listing.broker_ids,
        thumbnail_url=listing.thumbnail_url
        or (_image_url(estate.id, listing.thumbnail_id) if listing.thumbnail_id else None),
        vitec_changed_at=estate.vitec_changed_at,
        updated_at=estate.updated_at,
    )


def _detail(detail: EstateDetail) -> EstateRead:
    estate, department = detail.estate, detail.department
    item = _list_item(detail.listing())
    return EstateRead(
        **item.model_dump(),
        description=estate.description,
        price=Price(asking=estate.asking_price, total=estate.total_price),
        area=Area(primary_room=estate.primary_area, usable=estate.usable_area),
        rooms=estate.rooms,
        bedrooms=estate.bedrooms,
        construction_year=estate.construction_year,
        energy_letter=estate.energy_letter,
        images=[
            EstateImageRead(
                id=i.id,
                sequence=i.sequence,
                description=i.description,
                category=i.category,
                url=detail.image_urls.get(i.id) or _image_url(estate.id, i.id),
            )
            for i in detail.images
        ],
        brokers=[BrokerRead(employee_id=b.employee_id, name=b.name, role=b.role) for b in detail.brokers],
        department=None
        if department is None
        else DepartmentRead(
            id=department.id,
            vitec_department_id=department.vitec_id,
            name=department.name,
            market_name=department.market_name,
            email=department.email,
            phone=department.phone,
            address=Address(street=department.street, zip_code=department.zip_code, city=department.city),
        ),
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
    request: Request,
    principal: CurrentPrincipal,
    service: EstateServiceDep,
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
    cache: PageCache = request.app.state.page_cache
    epoch = cache.epoch  # before reading: a sync committing meanwhile must not leave this page cached
    listed = await service.list(principal, filters, limit=limit, after=codec.decode_time_id(cursor))
    page = listed.page
    collection = EstateCollection(
        items=[_list_item(listing) for listing in page.items], next_cursor=codec.encode_time_id(page.next_key)
    )
    body = collection.model_dump_json().encode()
    # The hot path (api.hot_paths) answers the same organization's same query from here on.
    cache.put(
        principal.organization_id, request.url.path, request.scope["query_string"], body, epoch, listed.urls_expire_at
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
async def read_estate(estate_id: uuid.UUID, principal: CurrentPrincipal, service: EstateServiceDep) -> EstateRead:
    """One estate with its images, brokers and department; another organization's or a deleted one: 404."""
    return _detail(await service.get(principal, estate_id))


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
