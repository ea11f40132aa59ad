"""Report data as the loader builds it, with photo-like pictures of a camera's size."""

from __future__ import annotations

import io
import random
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Any

from PIL import Image, ImageDraw

from domain.reports import ReportBroker, ReportData, ReportDepartment, ReportEstate, ReportImage

DESCRIPTION = (
    "<p><strong>Lys og romslig leilighet på Grünerløkka</strong></p>"
    "<p>Leiligheten ligger i 3. etasje med utsikt over Birkelunden. Stuen har store vinduer mot vest og "
    "kveldssol.<br>Kjøkkenet fra 2019 har integrerte hvitevarer &amp; god benkeplass.</p>"
    "<ul><li>Balkong på 6 m² mot bakgården</li><li>Fjernvarme inkludert i felleskostnadene</li></ul>"
    "<p>Gangavstand til trikk, butikker og kaféer på Thorvald Meyers gate.</p>"
)
CAPTIONS = ("Stue med utsikt", "Kjøkken", "Soverom", "Bad", "Balkong", "Nærområdet om våren")


@cache
def photo(seed: int, size: tuple[int, int] = (2400, 1600)) -> bytes:
    """A JPEG that compresses like a photograph: a sky-to-ground gradient, shapes, and grain."""
    rng = random.Random(seed)
    width, height = size
    sky = tuple(rng.randint(120, 210) for _ in range(3))
    ground = tuple(rng.randint(40, 120) for _ in range(3))
    gradient = Image.linear_gradient("L").resize(size)
    image = Image.composite(Image.new("RGB", size, ground), Image.new("RGB", size, sky), gradient)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(width), rng.randrange(height // 3, height)
        w, h = rng.randint(width // 12, width // 4), rng.randint(height // 10, height // 3)
        draw.rectangle((x, y, x + w, y + h), fill=tuple(rng.randint(30, 230) for _ in range(3)))
    grain = Image.frombytes("L", size, rng.randbytes(width * height)).convert("RGB")
    image = Image.blend(image, grain, 0.08)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


def report_data(images: int = 6, first_photo: int = 0, **estate: Any) -> ReportData:
    """A flat on Grünerløkka with `images` photos (seeds from `first_photo` on), its broker and department;
    `estate` overrides facts."""
    facts = ReportEstate(
        assignment_number="1-0142/26",
        status="for_sale",
        estate_type="residential",
        street="Øvre Størgårdsgate 7",
        zip_code="0553",
        city="Oslo",
        heading="Solrik og påkostet treroms med balkong",
        description=DESCRIPTION,
        asking_price=Decimal("4250000"),
        primary_area=Decimal("87"),
        usable_area=Decimal("92.5"),
        rooms=3,
        bedrooms=2,
        construction_year=1898,
        energy_letter="C",
        changed_at=datetime(2026, 11, 30, 23, 30, tzinfo=UTC),
    )
    return ReportData(
        estate=replace(facts, **estate),
        images=tuple(ReportImage(photo(first_photo + n), CAPTIONS[n % len(CAPTIONS)]) for n in range(images)),
        broker=ReportBroker("Åse Kjærstad Bråten", "Eiendomsmegler MNEF", "ase.braten@example.no", "+47 912 34 567"),
        department=ReportDepartment(
            "Løkka Eiendom AS", "post@lokka.example.no", "+47 22 00 11 22", "Thorvald Meyers gate 45", "0555", "Oslo"
        ),
        generated_at=datetime(2026, 12, 3, 23, 15, tzinfo=UTC),
    )
