"""Every table the application owns; Alembic reads `Base.metadata` from here."""

from repository.models.auth_session import AuthSession
from repository.models.base import Base, BaseTableModel
from repository.models.document import Document
from repository.models.idempotency_key import IdempotencyKey
from repository.models.job import Job
from repository.models.organization import Organization
from repository.models.refresh_token import RefreshToken
from repository.models.user import User
from repository.models.vitec import (
    Department,
    Employee,
    Estate,
    EstateBroker,
    EstateImage,
    EstateVitecDocument,
    VitecSyncState,
)

__all__ = [
    "AuthSession",
    "Base",
    "BaseTableModel",
    "Department",
    "Document",
    "Employee",
    "Estate",
    "EstateBroker",
    "EstateImage",
    "EstateVitecDocument",
    "IdempotencyKey",
    "Job",
    "Organization",
    "RefreshToken",
    "User",
    "VitecSyncState",
]
