"""Norwegian formatting of report values, and Vitec's HTML description turned into plain paragraphs."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from service.report_formatting import TextBlock, area, date, description_blocks, price

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("4250000"), "kr 4 250 000"),
        (Decimal("950"), "kr 950"),
        (Decimal("12500000.50"), "kr 12 500 001"),
        (Decimal("0"), "kr 0"),
    ],
)
def test_prices_are_whole_kroner_grouped_in_threes(amount: Decimal, expected: str) -> None:
    assert price(amount) == expected.replace(" ", NBSP)


@pytest.mark.parametrize(
    ("square_metres", "expected"),
    [
        (Decimal("87"), "87 m²"),
        (Decimal("87.00"), "87 m²"),
        (Decimal("92.5"), "92,5 m²"),
        (Decimal("1250"), "1 250 m²"),
    ],
)
def test_areas_use_a_decimal_comma_only_when_needed(square_metres: Decimal, expected: str) -> None:
    assert area(square_metres) == expected.replace(" ", NBSP)


def test_missing_values_stay_missing() -> None:
    assert price(None) is None
    assert area(None) is None


def test_dates_are_the_day_in_oslo() -> None:
    assert date(datetime(2026, 12, 3, 23, 15, tzinfo=UTC)) == "4. desember 2026"  # 00:15 in Oslo (CET)
    assert date(datetime(2026, 6, 30, 22, 30, tzinfo=UTC)) == "1. juli 2026"  # 00:30 in Oslo (CEST)
    assert date(datetime(2026, 6, 30, 21, 30, tzinfo=UTC)) == "30. juni 2026"


def test_html_becomes_paragraphs_lines_and_items() -> None:
    html = (
        "<p><strong>Solrik enebolig</strong></p><p>Stor stue &amp; kjøkken<br/>med  utsikt&nbsp;</p>"
        "<ul><li>Garasje</li><li>Hage</li></ul>Til slutt"
    )
    assert description_blocks(html) == [
        TextBlock("paragraph", ("Solrik enebolig",)),
        TextBlock("paragraph", ("Stor stue & kjøkken", "med utsikt")),
        TextBlock("item", ("Garasje",)),
        TextBlock("item", ("Hage",)),
        TextBlock("paragraph", ("Til slutt",)),
    ]


def test_scripts_styles_and_empty_blocks_leave_nothing() -> None:
    html = "<div><script>alert('x')</script><style>p{}</style><p> </p><p>Tekst</p><img src=x></div>"
    assert description_blocks(html) == [TextBlock("paragraph", ("Tekst",))]


def test_plain_text_keeps_its_paragraphs() -> None:
    assert description_blocks("Første avsnitt\nlinje to\n\nAndre avsnitt") == [
        TextBlock("paragraph", ("Første avsnitt", "linje to")),
        TextBlock("paragraph", ("Andre avsnitt",)),
    ]


@pytest.mark.parametrize("empty", [None, "", "   ", "<p></p><br>"])
def test_an_empty_description_has_no_blocks(empty: str | None) -> None:
    assert description_blocks(empty) == []
