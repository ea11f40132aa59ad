"""Images and documents are real bytes: a decodable PNG, a PDF with a valid xref table, plain text."""

from __future__ import annotations

import re
import struct
import zlib
from typing import Any

import httpx

from tests.vitec_simulator.support import INSTALLATION, get_json

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    """The chunks of a PNG by type, each CRC checked."""
    assert data.startswith(PNG_SIGNATURE)
    chunks, position = {}, len(PNG_SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind, body = data[position + 4 : position + 8], data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks[kind] = body
        position += 12 + length
    return chunks


async def estate_details(client: httpx.AsyncClient, count: int = 30) -> list[dict[str, Any]]:
    rows = await get_json(client, f"/{INSTALLATION}/Estates")
    return [await get_json(client, f"/{INSTALLATION}/Estates/{row['estateId']}") for row in rows[:count]]


async def test_estate_images_are_small_valid_pngs(client: httpx.AsyncClient) -> None:
    estate = next(detail for detail in await estate_details(client) if len(detail["images"]) >= 2)
    bodies = []
    for image in estate["images"][:2]:
        response = await client.get(f"/{INSTALLATION}/Estates/{estate['estateId']}/Images/{image['imageId'].lower()}")
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        chunks = png_chunks(response.content)
        width, height, depth, colour_type = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
        assert (width, height, depth, colour_type) == (32, 24, 8, 2)
        pixels = zlib.decompress(chunks[b"IDAT"])
        assert len(pixels) == height * (1 + width * 3)
        assert b"IEND" in chunks
        bodies.append(response.content)
    assert bodies[0] != bodies[1]


async def test_documents_are_pdfs_or_plain_text(client: httpx.AsyncClient) -> None:
    estates = await estate_details(client, 60)
    documents = [(estate, document) for estate in estates for document in estate["documents"]]
    assert {document["extension"] for _, document in documents} == {"pdf", "txt"}
    for estate, document in documents[:12]:
        path = f"/{INSTALLATION}/Estates/{estate['estateId']}/Documents/{document['documentId']}"
        response = await client.get(path)
        assert response.status_code == 200
        if document["extension"] == "pdf":
            assert response.headers["content-type"] == "application/pdf"
            assert_valid_pdf(response.content)
        else:
            assert response.headers["content-type"].startswith("text/plain")
            assert response.text.startswith(document["head"])


def assert_valid_pdf(data: bytes) -> None:
    """`%PDF` header, `%%EOF` trailer, and every xref offset pointing at its object."""
    assert data.startswith(b"%PDF-1.")
    assert data.rstrip().endswith(b"%%EOF")
    found = re.search(rb"startxref\s+(\d+)", data)
    assert found is not None
    startxref = int(found.group(1))
    assert data[startxref:].startswith(b"xref")
    offsets = re.findall(rb"(\d{10}) 00000 n", data[startxref:])
    assert offsets
    for number, offset in enumerate(offsets, start=1):
        assert data[int(offset) :].startswith(f"{number} 0 obj".encode())


async def test_department_and_employee_pictures_exist_for_most(client: httpx.AsyncClient) -> None:
    statuses = []
    for kind, key in (("Departments", "departmentId"), ("Employees", "employeeId")):
        for row in await get_json(client, f"/{INSTALLATION}/{kind}"):
            response = await client.get(f"/{INSTALLATION}/{kind}/{row[key]}/Picture")
            statuses.append(response.status_code)
            if response.status_code == 200:
                assert response.headers["content-type"] == "image/png"
                assert response.content.startswith(PNG_SIGNATURE)
    assert set(statuses) == {200, 404}
    assert statuses.count(200) > statuses.count(404)
