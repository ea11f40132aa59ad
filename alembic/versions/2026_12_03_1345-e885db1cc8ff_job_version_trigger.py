"""job version trigger

Revision ID: e885db1cc8ff
Revises: b7c4e1a9d2f3
Create Date: 2026-12-03 13:45:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "e885db1cc8ff"
down_revision: str | None = "b7c4e1a9d2f3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# `version` is the ETag of a job: it must move with every change a reader can see, whoever writes
# the row (a repository statement, the raw pool, an operator's psql). The worker's bookkeeping
# (heartbeat, dispatch time) changes nothing a reader sees, so it moves nothing.
# The whole row is compared, bookkeeping columns set equal first, so a column added later counts
# without touching this function (a row comparison, measured cheaper per UPDATE than to_jsonb).
_FUNCTION = """
CREATE FUNCTION jobs_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    visible jobs;
BEGIN
    visible := NEW;
    visible.heartbeat_at := OLD.heartbeat_at;
    visible.dispatched_at := OLD.dispatched_at;
    visible.updated_at := OLD.updated_at;
    visible.version := OLD.version;
    IF visible IS DISTINCT FROM OLD THEN
        NEW.version := OLD.version + 1;
        NEW.updated_at := now();
    ELSE
        NEW.version := OLD.version;
        NEW.updated_at := OLD.updated_at;
    END IF;
    RETURN NEW;
END
$$
"""


def upgrade() -> None:
    op.execute(_FUNCTION)
    op.execute(
        "CREATE TRIGGER jobs_bump_version BEFORE UPDATE ON jobs FOR EACH ROW EXECUTE FUNCTION jobs_bump_version()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER jobs_bump_version ON jobs")
    op.execute("DROP FUNCTION jobs_bump_version()")
