"""The rendered PDFs, parsed back with pypdf: A4 pages, the texts a buyer reads, the pictures at print
size, fonts embedded, and a clean document when data is missing."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from domain.reports import ReportData, ReportImage, ReportTemplate
from service.print_images import COVER_PIXELS, GALLERY_PIXELS
from service.report_rendering import render_report, render_report_in_thread
from tests.factories.reports import report_data

A4 = (595.28, 841.89)  # points


def read(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-")
    return PdfReader(io.BytesIO(pdf))


def text_of(reader: PdfReader) -> str:
    """All text, with no-break spaces read as spaces (they keep `kr 4 250 000` on one line)."""
    return "\n".join(page.extract_text() for page in reader.pages).replace("\u00a0", " ")


def _titles(reader: PdfReader) -> list[str]:
    """The upper-case, letter-spaced labels and section titles, each without its spaces."""
    return ["".join(line.split()) for line in text_of(reader).splitlines() if line.isupper()]


def images_of(reader: PdfReader) -> dict[int, DictionaryObject]:
    """The distinct image objects the pages draw, by object number."""
    found: dict[int, DictionaryObject] = {}
    for page in reader.pages:
        xobjects: Any = page["/Resources"].get_object().get("/XObject")
        for reference in xobjects.get_object().values() if xobjects is not None else ():
            image = reference.get_object()
            if image["/Subtype"] == "/Image":
                found[reference.idnum] = image
    return found


def fonts_of(reader: PdfReader) -> Iterator[DictionaryObject]:
    for page in reader.pages:
        fonts: Any = page["/Resources"].get_object().get("/Font")
        for reference in fonts.get_object().values() if fonts is not None else ():
            yield reference.get_object()


@pytest.fixture(scope="module")
def data() -> ReportData:
    return report_data(images=6)


@pytest.fixture(scope="module")
def prospectus(data: ReportData) -> PdfReader:
    return read(render_report(ReportTemplate.PROSPECTUS, data))


@pytest.fixture(scope="module")
def summary(data: ReportData) -> PdfReader:
    return read(render_report(ReportTemplate.SUMMARY, data))


@pytest.mark.parametrize("name", ["prospectus", "summary"])
def test_every_page_is_a4(name: str, request: pytest.FixtureRequest) -> None:
    reader: PdfReader = request.getfixturevalue(name)
    for page in reader.pages:
        assert (float(page.mediabox.width), float(page.mediabox.height)) == pytest.approx(A4, abs=0.5)


def test_the_prospectus_has_several_pages_and_the_summary_one(prospectus: PdfReader, summary: PdfReader) -> None:
    assert len(prospectus.pages) > 1
    assert len(summary.pages) == 1


@pytest.mark.parametrize("name", ["prospectus", "summary"])
def test_a_buyer_reads_address_price_heading_broker_and_facts(name: str, request: pytest.FixtureRequest) -> None:
    text = text_of(request.getfixturevalue(name))
    for expected in (
        "Øvre Størgårdsgate 7",
        "0553 Oslo",
        "Solrik og påkostet treroms med balkong",
        "kr 4 250 000",
        "Åse Kjærstad Bråten",
        "+47 912 34 567",
        "Løkka Eiendom AS",
        "87 m²",
        "92,5 m²",
        "Til salgs",
        "Energimerke",
        "1-0142/26",
        "4. desember 2026",  # generated at 23:15 UTC on the 3rd: the 4th in Oslo
    ):
        assert expected in text, f"{expected!r} missing from the {name}"


def test_the_prospectus_holds_the_description_and_the_captions(prospectus: PdfReader) -> None:
    text = text_of(prospectus)
    assert "Kjøkkenet fra 2019 har integrerte hvitevarer & god benkeplass." in text
    assert "Fjernvarme inkludert i felleskostnadene" in text
    assert "<" not in text  # no tag of the HTML description shows
    assert {"OMEIENDOMMEN", "BILDER", "ANSVARLIGMEGLER", "PRISANTYDNING"} <= set(_titles(prospectus))
    for caption in ("Stue med utsikt", "Kjøkken", "Nærområdet om våren"):
        assert caption in text


def test_the_summary_opens_the_description_within_its_page(summary: PdfReader) -> None:
    text = " ".join(text_of(summary).split())
    assert "Leiligheten ligger i 3. etasje med utsikt over Birkelunden." in text
    assert "Fjernvarme" not in text  # paragraphs only, no list items


def test_a_long_description_keeps_the_summary_on_one_page() -> None:
    long = "<p>" + "Romslig og lys stue med peis og utgang til terrasse. " * 60 + "</p>"
    reader = read(render_report(ReportTemplate.SUMMARY, report_data(description=long, heading="Lang " * 40)))
    assert len(reader.pages) == 1
    text = " ".join(text_of(reader).split())
    assert "Romslig og lys stue" in text
    assert " …" in text  # cut at a word


def test_images_are_embedded_at_print_size(prospectus: PdfReader, summary: PdfReader) -> None:
    gallery = images_of(prospectus)
    assert len(gallery) == 6  # the cover reuses the first picture of the gallery
    sizes = sorted((int(image["/Width"]), int(image["/Height"])) for image in gallery.values())
    assert sizes[-1] == (COVER_PIXELS, COVER_PIXELS * 2 // 3)  # the 2400 x 1600 main photo
    assert all(max(size) == GALLERY_PIXELS for size in sizes[:-1])
    assert len(images_of(summary)) == 1


def test_fonts_are_embedded(prospectus: PdfReader) -> None:
    fonts = list(fonts_of(prospectus))
    assert fonts
    for font in fonts:
        descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
        descriptor = descendant["/FontDescriptor"].get_object()
        assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font["/BaseFont"]


def test_twenty_images_make_a_pdf_of_sensible_size() -> None:
    data = report_data(images=20)
    pdf = render_report(ReportTemplate.PROSPECTUS, data)
    originals = sum(len(image.content) for image in data.images)
    assert len(images_of(read(pdf))) == 20
    assert len(pdf) < 4_000_000
    assert len(pdf) < originals / 2


def test_no_images_renders_a_clean_document() -> None:
    reader = read(render_report(ReportTemplate.PROSPECTUS, report_data(images=0)))
    assert len(reader.pages) > 1
    assert not images_of(reader)
    assert "Bilder kommer" in text_of(reader)
    assert "BILDER" not in _titles(reader)  # no empty gallery section
    assert len(read(render_report(ReportTemplate.SUMMARY, report_data(images=0))).pages) == 1


def test_unreadable_images_are_left_out() -> None:
    data = report_data(images=2)
    data = replace(data, images=(ReportImage(b"not an image", "Ødelagt"), *data.images))
    reader = read(render_report(ReportTemplate.PROSPECTUS, data))
    assert len(images_of(reader)) == 2
    assert "Ødelagt" not in text_of(reader)


def test_an_empty_description_renders_without_its_section() -> None:
    reader = read(render_report(ReportTemplate.PROSPECTUS, report_data(description="<p> </p>")))
    assert "OMEIENDOMMEN" not in _titles(reader)
    assert "kr 4 250 000" in text_of(reader)


def test_no_broker_and_missing_facts_render_cleanly() -> None:
    data = replace(
        report_data(street=None, asking_price=None, energy_letter=None, heading=None, description=None),
        broker=None,
    )
    for template in ReportTemplate:
        reader = read(render_report(template, data))
        text = text_of(reader)
        assert "MEGLERKONTOR" in _titles(reader)  # the department still tells whom to contact
        assert not {"ANSVARLIGMEGLER", "MEGLER", "PRISANTYDNING"} & set(_titles(reader))
        assert "Energimerke" not in text
        assert "None" not in text


def test_estate_text_is_shown_as_text_never_read_as_markup() -> None:
    heading = '#set page(width: 1cm) *fet* $x^2$ #read("/common.typ") <label> ]'
    reader = read(render_report(ReportTemplate.SUMMARY, report_data(heading=heading)))
    assert heading in text_of(reader)
    assert len(reader.pages) == 1


async def test_rendering_in_a_thread_leaves_the_event_loop_free() -> None:
    """The worker heartbeats while a report renders: typst and Pillow release the GIL."""
    data = report_data(images=20)
    ticks: list[float] = []
    rendering = asyncio.ensure_future(render_report_in_thread(ReportTemplate.PROSPECTUS, data))
    started = last = time.perf_counter()
    while not rendering.done():
        await asyncio.sleep(0.005)
        now = time.perf_counter()
        ticks.append(now - last)
        last = now
    took = time.perf_counter() - started
    assert len(read(await rendering).pages) > 1
    # A render that held the GIL would leave one gap as long as itself.
    assert max(ticks) < took / 3, (max(ticks), took)
    assert len(ticks) >= 20


def test_threads_render_side_by_side() -> None:
    """Each thread has its own compiler: the worker may render several reports at once."""
    datas = [report_data(images=2, street=f"Storgata {n}") for n in range(4)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        pdfs = list(pool.map(lambda data: render_report(ReportTemplate.SUMMARY, data), datas))
    for number, pdf in enumerate(pdfs):
        assert f"Storgata {number}" in text_of(read(pdf))


def test_the_same_data_renders_the_same_bytes(data: ReportData) -> None:
    """So a rendered report can be stored content-addressed, and a re-run of its job changes nothing."""
    assert render_report(ReportTemplate.SUMMARY, data) == render_report(ReportTemplate.SUMMARY, data)


def test_a_generation_time_with_microseconds_renders() -> None:
    """The job renders at `datetime.now()`; typst takes whole seconds only."""
    data = replace(report_data(images=0), generated_at=datetime(2026, 12, 3, 14, 48, 7, 338868, tzinfo=UTC))

    assert len(PdfReader(io.BytesIO(render_report(ReportTemplate.SUMMARY, data))).pages) == 1
