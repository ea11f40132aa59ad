"""Rendering a report: a pure, CPU-bound function from `ReportData` to PDF bytes, with typst.

The templates are typst files in `service/report_templates/`; they get the data as one JSON value
(`sys.inputs.data`), never as markup built from strings, so no text of an estate can change the
layout. Images are downscaled to print size and re-encoded as JPEG first, so a 20-image estate
stays a few megabytes. Fonts: Source Sans Pro (the `font-source-sans-pro` package) and typst's own
embedded fonts, never the host's, embedded as subsets in the PDF.

Rendering blocks its thread for tens of milliseconds (typst and Pillow release the GIL): call it
off the event loop (`render_report_in_thread`), in the worker only.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import tempfile
import threading
from dataclasses import asdict
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import typst
from PIL import Image, ImageOps

from domain.reports import ReportData, ReportTemplate
from service import report_formatting as fmt

TEMPLATES = Path(__file__).resolve().parent / "report_templates"
# Print size at about 200 ppi: the cover spans the text width (17.4 cm), gallery images half of it.
MAIN_IMAGE_PIXELS = 1400
GALLERY_IMAGE_PIXELS = 800
JPEG_QUALITY = 80
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
    """The images the template shows, downscaled into `root/images`; unreadable ones are left out."""
    wanted = data.images if template.gallery else data.images[:1]
    (root / "images").mkdir()
    written: list[dict[str, Any]] = []
    for image in wanted:
        longest = MAIN_IMAGE_PIXELS if not written else GALLERY_IMAGE_PIXELS
        jpeg = downscaled_jpeg(image.content, longest)
        if jpeg is None:
            continue
        path = f"images/{len(written)}.jpg"
        (root / path).write_bytes(jpeg)
        written.append({"path": path, "caption": image.caption})
    return written


def downscaled_jpeg(content: bytes, longest: int) -> bytes | None:
    """The image as a JPEG whose longer side is at most `longest` pixels; None when unreadable."""
    try:
        with Image.open(io.BytesIO(content)) as opened:
            scale = min(1.0, longest / max(opened.size))
            # A JPEG is then decoded at a reduced scale: several times faster than resizing it whole.
            opened.draft("RGB", (round(opened.width * scale), round(opened.height * scale)))
            image = ImageOps.exif_transpose(opened)
            image.thumbnail((longest, longest))
            out = io.BytesIO()
            _on_white(image).save(out, "JPEG", quality=JPEG_QUALITY)
    except (OSError, ValueError, Image.DecompressionBombError):
        return None  # a broken or hostile image is left out of the report, not a failed report
    return out.getvalue()


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white paper (JPEG has no alpha)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        paper = Image.new("RGB", rgba.size, "white")
        paper.paste(rgba, mask=rgba.getchannel("A"))
        return paper
    return image if image.mode == "RGB" else image.convert("RGB")


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
