"""The finalist the engine was measured against: the same prospectus built with reportlab's platypus
(cover with the main image, address, heading and price; facts table; description; gallery with
captions; contact cards), from the same `ReportData`, fonts and downscaled images as the typst one.
Benchmark only: the product renders with typst (service/report_rendering.py)."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import Flowable

from domain.reports import ReportData
from service.print_images import COVER_PIXELS, GALLERY_PIXELS, print_copy
from service.report_rendering import description, document, font_directories

ACCENT = colors.HexColor("#24463c")
MUTED = colors.HexColor("#66706b")
PAPER = colors.HexColor("#f3f0e8")
WIDTH = A4[0] - 36 * mm


@cache
def _styles() -> dict[str, ParagraphStyle]:
    folder = Path(font_directories()[0])
    for name, file in (("Sans", "Regular"), ("Sans-Semibold", "Semibold"), ("Sans-Bold", "Bold"), ("Sans-It", "It")):
        pdfmetrics.registerFont(TTFont(name, str(folder / f"SourceSansPro-{file}.ttf")))
    body = ParagraphStyle("body", fontName="Sans", fontSize=10.5, leading=13.5, spaceAfter=5)
    return {
        "body": body,
        "street": ParagraphStyle("street", body, fontName="Sans-Semibold", fontSize=26, leading=30),
        "postal": ParagraphStyle("postal", body, fontSize=14, leading=18, textColor=MUTED),
        "heading": ParagraphStyle("heading", body, fontName="Sans-It", fontSize=17, leading=21, textColor=ACCENT),
        "price": ParagraphStyle("price", body, fontName="Sans-Bold", fontSize=24, leading=28, textColor=ACCENT),
        "label": ParagraphStyle("label", body, fontSize=8.5, textColor=MUTED),
        "section": ParagraphStyle(
            "section", body, fontName="Sans-Semibold", fontSize=9, textColor=ACCENT, spaceBefore=8 * mm
        ),
        "caption": ParagraphStyle("caption", body, fontSize=9, textColor=MUTED),
        "item": ParagraphStyle("item", body, leftIndent=4 * mm, bulletIndent=0),
    }


def _text(value: str, style: str) -> Paragraph:
    return Paragraph(escape(value), _styles()[style])


def _picture(jpeg: bytes, width: float, height: float) -> Image:
    return Image(io.BytesIO(jpeg), width=width, height=height, kind="proportional")


def render_prospectus(data: ReportData) -> bytes:
    """The prospectus of `data` as PDF bytes, with reportlab."""
    prepared = [(print_copy(i.content, _pixels(n)), i.caption) for n, i in enumerate(data.images)]
    pictures = [(jpeg, caption) for jpeg, caption in prepared if jpeg is not None]
    doc = document(data, [{"path": "", "caption": i.caption} for i in data.images])
    story: list[Flowable] = []
    if pictures:
        story.append(_picture(pictures[0][0], WIDTH, 125 * mm))
    story += [Spacer(1, 8 * mm), _text(doc["street"], "street")]
    story += [_text(doc[key], style) for key, style in (("postal", "postal"), ("heading", "heading")) if doc[key]]
    if doc["price"]:
        story += [Spacer(1, 6 * mm), _text("PRISANTYDNING", "label"), _text(doc["price"], "price")]
    story += [Spacer(1, 10 * mm), _contacts(doc), PageBreak(), _text("NØKKELINFORMASJON", "section"), _facts(doc)]
    story += _description(data)
    story += _gallery(pictures)
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                      bottomMargin=22 * mm, title="Salgsoppgave").build(story)  # fmt: skip
    return out.getvalue()


def _pixels(position: int) -> int:
    return COVER_PIXELS if position == 0 else GALLERY_PIXELS


def _facts(doc: dict[str, Any]) -> Table:
    cells = [[_text(fact["label"], "body"), _text(fact["value"], "body")] for fact in doc["facts"]]
    rows = [cells[n] + (cells[n + 1] if n + 1 < len(cells) else ["", ""]) for n in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[WIDTH / 4] * 4)
    table.setStyle(TableStyle([("LINEBELOW", (0, 0), (-1, -1), 0.5, colors.HexColor("#d9d4c7"))]))
    return table


def _description(data: ReportData) -> list[Flowable]:
    blocks = description(data.estate.description)
    if not blocks:
        return []
    story: list[Flowable] = [_text("OM EIENDOMMEN", "section")]
    for block in blocks:
        if block["kind"] == "list":
            story += [Paragraph("<br/>".join(map(escape, item)), _styles()["item"], bulletText="•")
                      for item in block["items"]]  # fmt: skip
        else:
            story.append(Paragraph("<br/>".join(map(escape, block["lines"])), _styles()["body"]))
    return story


def _gallery(pictures: list[tuple[bytes, str | None]]) -> list[Flowable]:
    if not pictures:
        return []
    half = (WIDTH - 6 * mm) / 2
    cells = [[_picture(jpeg, half, 58 * mm), _text(caption or "", "caption")] for jpeg, caption in pictures]
    rows = [cells[n : n + 2] if n + 1 < len(cells) else [cells[n], ""] for n in range(0, len(cells), 2)]
    return [_text("BILDER", "section"), Table(rows, colWidths=[half + 3 * mm] * 2)]


def _contacts(doc: dict[str, Any]) -> Table:
    cards = []
    for label, card in (("ANSVARLIG MEGLER", doc["broker"]), ("MEGLERKONTOR", doc["department"])):
        if card is not None:
            lines = [card["name"], *(card[key] for key in ("phone", "email") if card.get(key))]
            cards.append([_text(label, "label"), *(_text(line, "body") for line in lines)])
    table = Table([cards or [""]], colWidths=[WIDTH / max(1, len(cards))] * max(1, len(cards)))
    table.setStyle(TableStyle([("BACKGROUND", (0, 0), (-1, -1), PAPER), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
    return table
