from __future__ import annotations

from api.schemas.common import RequestBody
from domain.reports import ReportTemplate


class ReportRequest(RequestBody):
    """Which report to render: `prospectus` (several pages) or `summary` (one page)."""

    template: ReportTemplate
