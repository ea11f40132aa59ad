"""How reports write values, the Norwegian way: `kr 4 250 000`, `87,5 m²`, `3. desember 2026` (Oslo
time), the read model's names in Norwegian, and Vitec's HTML description as plain paragraphs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from html.parser import HTMLParser
from typing import Literal
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
# A no-break space groups digits and ties the unit to its number, so `kr 4 250 000` never wraps.
NBSP = "\u00a0"
MONTHS = (
    "januar", "februar", "mars", "april", "mai", "juni",
    "juli", "august", "september", "oktober", "november", "desember",
)  # fmt: skip
STATUSES = {
    "request": "Forespørsel",
    "preparation": "Under forberedelse",
    "for_sale": "Til salgs",
    "reserved": "Reservert",
    "sold": "Solgt",
    "archived": "Arkivert",
}
ESTATE_TYPES = {
    "residential": "Bolig",
    "leisure": "Fritidsbolig",
    "business": "Næring",
    "project": "Prosjekt",
    "plot": "Tomt",
}


def grouped(number: int) -> str:
    """`4250000` → `4 250 000`, grouped in threes with no-break spaces."""
    return f"{number:,}".replace(",", NBSP)


def price(amount: Decimal | None) -> str | None:
    """Whole kroner: `kr 4 250 000`."""
    if amount is None:
        return None
    return f"kr{NBSP}{grouped(int(amount.quantize(Decimal(1), ROUND_HALF_UP)))}"


def area(square_metres: Decimal | None) -> str | None:
    """`87 m²`, or with one decimal after a comma when the area has one: `87,5 m²`."""
    if square_metres is None:
        return None
    tenths = square_metres.quantize(Decimal("0.1"), ROUND_HALF_UP)
    whole = int(tenths)
    text = grouped(whole) if tenths == whole else f"{grouped(whole)},{int(tenths * 10) % 10}"
    return f"{text}{NBSP}m²"


def date(moment: datetime) -> str:
    """The day in Oslo: `3. desember 2026`."""
    local = moment.astimezone(OSLO)
    return f"{local.day}. {MONTHS[local.month - 1]} {local.year}"


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A paragraph or a list item; `lines` were separated by line breaks."""

    kind: Literal["paragraph", "item"]
    lines: tuple[str, ...]


def description_blocks(description: str | None) -> list[TextBlock]:
    """Vitec's description (HTML, sometimes plain text) as paragraphs and list items of plain text.

    Only text is kept: tags, scripts and styles are dropped, entities decoded, whitespace collapsed,
    so nothing in a description can change how the report is laid out."""
    if description is None or not description.strip():
        return []
    if "<" not in description:
        return [_block("paragraph", part.split("\n")) for part in description.split("\n\n") if part.strip()]
    parser = _DescriptionParser()
    parser.feed(description)
    parser.close()
    parser.flush()
    return parser.blocks


def _block(kind: Literal["paragraph", "item"], lines: list[str]) -> TextBlock:
    return TextBlock(kind, tuple(text for line in lines if (text := " ".join(line.split()))))


_BLOCK_TAGS = frozenset(
    {"p", "div", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr", "section"}
)
# Their text is not part of the description a reader sees.
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "iframe", "object", "svg"})


class _DescriptionParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[TextBlock] = []
        self._kind: Literal["paragraph", "item"] = "paragraph"
        self._lines = [""]
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "br":
            self._lines.append("")
        elif tag in _BLOCK_TAGS:
            self.flush()
            if tag == "li":
                self._kind = "item"

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self._lines[-1] += data

    def flush(self) -> None:
        block = _block(self._kind, self._lines)
        if block.lines:
            self.blocks.append(block)
        self._kind, self._lines = "paragraph", [""]
