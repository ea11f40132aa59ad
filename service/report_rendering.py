"""Rendering a report: a pure, CPU-bound function from `ReportData` to PDF bytes, with typst.

The templates are typst files in `service/report_templates/`; they get the data as one JSON value
(`sys.inputs.data`), never as markup built from strings, so no text of an estate can change the
layout. Images are embedded at print size (`service/print_images.py`): the copies the mirror made as
they are, any other image scaled down first, so a 20-image estate stays small. Fonts: Source Sans
Pro (the `font-source-sans-pro` package) and typst's own embedded fonts, never the host's, embedded
as subsets in the PDF.

Rendering blocks its thread for tens of milliseconds (typst and Pillow release the GIL): call it
off the event loop (`render_report_in_thread`), in the worker only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tempfile
import threading
from dataclasses import asdict
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import typst

from domain.reports import ReportData, ReportTemplate
from service import report_formatting as fmt
from service.print_images import COVER_PIXELS, GALLERY_PIXELS, print_copy

TEMPLATES = Path(__file__).resolve().parent / "report_templates"
LEAD_CHARACTERS = 420

_local = threading.local()


def render_report(template: ReportTemplate, data: ReportData) -> bytes:
    """The PDF of `data` in `template`; writes only to a scratch folder of its own."""
    with tempfile.TemporaryDirectory(prefix="estate-report-") as scratch:
        root = Path(scratch)
        for name, source in template_sources().items():
            (root / name).write_bytes(source)
        images = _write_images(root, data, template)
        pdf = _compiler().compile(
            input=str(root / f"{template.value}.typ"),
            root=scratch,
            format="pdf",
            sys_inputs={"data": json.dumps(document(data, images))},
            # typst takes whole seconds only (it refuses a datetime with microseconds).
            timestamp=data.generated_at.replace(microsecond=0),
        )
    if not isinstance(pdf, bytes):  # PDF is one file: typst answers a list for paged formats only
        raise TypeError(f"typst answered {type(pdf).__name__}, not the PDF's bytes")
    return pdf


async def render_report_in_thread(template: ReportTemplate, data: ReportData) -> bytes:
    """`render_report` in a worker thread: the event loop keeps heartbeating meanwhile."""
    return await asyncio.to_thread(render_report, template, data)


@cache
def template_sources() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in TEMPLATES.glob("*.typ")}


@cache
def templates_digest() -> str:
    """A digest of every template file: a report rendered with other templates is another report."""
    digest = hashlib.sha256()
    for name, source in sorted(template_sources().items()):
        digest.update(name.encode() + b"\0" + source)
    return digest.hexdigest()


def font_directories() -> list[str]:
    return [str(files("font_source_sans_pro").joinpath("files"))]


def _compiler() -> typst.Compiler:
    """One compiler per thread (it keeps its fonts and caches; it may not be shared by threads)."""
    compiler: typst.Compiler | None = getattr(_local, "compiler", None)
    if compiler is None:
        fonts = typst.Fonts(include_system_fonts=False, include_embedded_fonts=True, font_paths=font_directories())
        compiler = _local.compiler = typst.Compiler(font_paths=fonts, ignore_system_fonts=True)
    return compiler


def _write_images(root: Path, data: ReportData, template: ReportTemplate) -> list[dict[str, Any]]:
    """The images the template shows, at print size in `root/images`; unreadable ones are left out."""
    wanted = data.images if template.gallery else data.images[:1]
    (root / "images").mkdir()
    written: list[dict[str, Any]] = []
    for image in wanted:
        jpeg = (
            image.content
            if image.print_ready
            else print_copy(image.content, GALLERY_PIXELS if written else COVER_PIXELS)
        )
        if jpeg is None:
            continue
        path = f"images/{len(written)}.jpg"
        (root / path).write_bytes(jpeg)
        written.append({"path": path, "caption": image.caption})
    return written


def document(data: ReportData, images: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON value the templates read: every text already formatted, absent values as null."""
    estate = data.estate
    postal = " ".join(part for part in (estate.zip_code, estate.city) if part)
    return {
        "street": estate.street or "Adresse ikke oppgitt",
        "postal": postal or None,
        "heading": estate.heading,
        "price": fmt.price(estate.asking_price),
        "facts": [{"label": label, "value": value} for label, value in facts(data) if value],
        "description": description(estate.description),
        "lead": lead(estate.description, estate.heading),
        "images": images,
        "broker": asdict(data.broker) if data.broker else None,
        "department": asdict(data.department) if data.department else None,
        "assignment_number": estate.assignment_number,
        "generated": fmt.date(data.generated_at),
        "changed": fmt.date(estate.changed_at) if estate.changed_at else None,
    }


def description(html: str | None) -> list[dict[str, Any]]:
    """Paragraphs as `{kind: paragraph, lines}`; list items that follow each other as one `{kind: list, items}`."""
    grouped: list[dict[str, Any]] = []
    for block in fmt.description_blocks(html):
        if block.kind == "paragraph":
            grouped.append({"kind": "paragraph", "lines": list(block.lines)})
        elif grouped and grouped[-1]["kind"] == "list":
            grouped[-1]["items"].append(list(block.lines))
        else:
            grouped.append({"kind": "list", "items": [list(block.lines)]})
    return grouped


def lead(html: str | None, heading: str | None, limit: int = LEAD_CHARACTERS) -> str | None:
    """The description's opening, cut at a word near `limit` characters (the summary's one page has room
    for no more); a paragraph that only repeats the heading is skipped."""
    paragraphs = [" ".join(b.lines) for b in fmt.description_blocks(html) if b.kind == "paragraph"]
    text = " ".join(p for p in paragraphs if p != heading)
    if len(text) <= limit:
        return text or None
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit].rstrip(" ,.;:\u2013-") + " \u2026"


def facts(data: ReportData) -> list[tuple[str, str | None]]:
    """The facts table's rows in order; the caller leaves out those without a value."""
    estate = data.estate

    def number(value: int | None) -> str | None:
        return None if value is None else str(value)

    return [
        ("Boligtype", fmt.ESTATE_TYPES.get(estate.estate_type)),
        ("Status", fmt.STATUSES.get(estate.status)),
        ("Primærrom", fmt.area(estate.primary_area)),
        ("Bruksareal", fmt.area(estate.usable_area)),
        ("Rom", number(estate.rooms)),
        ("Soverom", number(estate.bedrooms)),
        ("Byggeår", number(estate.construction_year)),
        ("Energimerke", estate.energy_letter),
        ("Oppdragsnummer", estate.assignment_number),
    ]
