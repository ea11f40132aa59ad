"""Organizations: one Vitec installation each."""

from __future__ import annotations

from domain.errors import NotFoundError


class OrganizationNotFoundError(NotFoundError):
    code = "organization_not_found"
    title = "Organization not found"
