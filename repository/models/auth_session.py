from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from repository.models.base import BaseTableModel


class AuthSession(BaseTableModel):
    """One sign-in: the family of refresh tokens rotated from it, and the access tokens they issued
    (their `sid`). Revoking it (logout, refresh-token reuse) ends them all at once.

    The row is also the family's lock: a refresh and a logout of one session take it `FOR UPDATE`
    before they touch any of its tokens (always in that order, so they never deadlock), and a
    logout can never miss a token that a refresh is issuing at the same moment.
    """

    __tablename__ = "auth_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    revoked_at: Mapped[datetime | None]
