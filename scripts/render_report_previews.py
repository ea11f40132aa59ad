"""Render the README's pictures of the reports: the first page of each template, for a demo estate of
the Vitec simulator's `DEMOINSTALL` installation (its texts, facts, broker and department). The
simulator's own pictures are flat squares of colour, so generated photo-like placeholders stand in.

    uv run python scripts/render_report_previews.py   # writes docs/reports/*.png (needs pdftoppm)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from domain.reports import (  # noqa: E402
    ReportBroker,
    ReportData,
    ReportDepartment,
    ReportEstate,
    ReportImage,
    ReportTemplate,
)
from domain.vitec import BrokerRole, VitecEstate  # noqa: E402
from repository.vitec import mapping  # noqa: E402
from service.report_rendering import render_report  # noqa: E402
from tests.factories.reports import photo  # noqa: E402
from vitec_simulator.config import Config  # noqa: E402
from vitec_simulator.store import InstallationStore  # noqa: E402

OUT = ROOT / "docs" / "reports"
GENERATED_AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
CONTACTS = (BrokerRole.RESPONSIBLE_BROKER, BrokerRole.MAIN_BROKER)


def presentable(estate: VitecEstate) -> bool:
    """A listed home with pictures, a price, a description and a broker to call."""
    return (
        estate.status == "for_sale"
        and estate.estate_type == "residential"
        and len(estate.images) >= 4
        and None not in (estate.asking_price, estate.construction_year, estate.energy_letter, estate.description)
        and estate.department_vitec_id is not None
        and any(broker.role in CONTACTS for broker in estate.brokers)
    )


def demo_data() -> ReportData:
    store = InstallationStore(Config(), "DEMOINSTALL")
    employees = {e.vitec_id: e for e in map(mapping.employee, store.catalog.employees)}
    departments = {d.vitec_id: d for d in map(mapping.department, store.catalog.departments)}
    estate = next(e for e in (mapping.estate(store.detail(r)) for r in store.records()) if presentable(e))
    contact = next(b for role in CONTACTS for b in estate.brokers if b.role is role)
    broker = employees[contact.employee_vitec_id]
    department = departments[estate.department_vitec_id or 0]
    return ReportData(
        # The mapped estate carries every field of the report's, by the same names.
        estate=ReportEstate(**{field.name: getattr(estate, field.name) for field in fields(ReportEstate)}),
        images=tuple(ReportImage(photo(n), i.description or i.category) for n, i in enumerate(estate.images)),
        broker=ReportBroker(
            broker.name,
            broker.title,
            broker.email,
            broker.mobile_phone,
            responsible=contact.role is BrokerRole.RESPONSIBLE_BROKER,
        ),
        department=ReportDepartment(
            department.market_name or department.name,
            department.email,
            department.phone,
            department.street,
            department.zip_code,
            department.city,
        ),
        generated_at=GENERATED_AT,
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = demo_data()
    with tempfile.TemporaryDirectory() as scratch:
        for template in ReportTemplate:
            pdf = Path(scratch) / f"{template.value}.pdf"
            pdf.write_bytes(render_report(template, data))
            subprocess.run(
                ["pdftoppm", "-png", "-r", "72", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                 str(OUT / template.value)],
                check=True,
            )  # fmt: skip
            print(f"{OUT / template.value}.png")  # noqa: T201


if __name__ == "__main__":
    main()
