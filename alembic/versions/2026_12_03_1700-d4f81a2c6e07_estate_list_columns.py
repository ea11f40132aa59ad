"""estate list columns: each estate's broker ids and first image, kept on its row by triggers

Revision ID: d4f81a2c6e07
Revises: c3d9a7e51f20
Create Date: 2026-12-03 17:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "d4f81a2c6e07"
down_revision: str | None = "c3d9a7e51f20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A list page showed each estate's broker ids and first image through a correlated subquery and a
# lateral join per row: five times the database time of the page's own index scan. They are now
# columns of the estate, which triggers keep right whoever writes brokers or images (the sync, the
# mirror, a cascade, an operator's psql): statement-level, so a sync's bulk statement refreshes its
# estates once, and only rows whose values changed are written. `updated_at` is the ORM's and does
# not move (a mirrored thumbnail must not reorder the list).
_REFRESH = """
CREATE FUNCTION estates_refresh_list_columns(ids uuid[]) RETURNS void LANGUAGE sql AS $$
UPDATE estates e
SET broker_ids = fresh.broker_ids, thumbnail_image_id = fresh.image_id, thumbnail_blob_name = fresh.blob_name
FROM (
    SELECT e2.id,
           ARRAY(
               SELECT b.employee_id FROM estate_brokers b
               WHERE b.estate_id = e2.id AND b.employee_id IS NOT NULL
               GROUP BY b.employee_id ORDER BY min(b.role_code), b.employee_id
           ) AS broker_ids,
           first.id AS image_id,
           first.blob_name
    FROM estates e2
    LEFT JOIN LATERAL (
        SELECT i.id, CASE WHEN i.mirrored_at IS NOT NULL THEN i.blob_name END AS blob_name
        FROM estate_images i WHERE i.estate_id = e2.id ORDER BY i.sequence, i.id LIMIT 1
    ) first ON true
    WHERE e2.id = ANY(ids)
) fresh
WHERE e.id = fresh.id
  AND (e.broker_ids, e.thumbnail_image_id, e.thumbnail_blob_name)
      IS DISTINCT FROM (fresh.broker_ids, fresh.image_id, fresh.blob_name)
$$
"""

_CHANGED = """
CREATE FUNCTION estates_list_columns_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM estates_refresh_list_columns(ARRAY(SELECT DISTINCT estate_id FROM changed));
    RETURN NULL;
END
$$
"""

# One trigger per table and event: a trigger with transition tables takes a single event. An
# UPDATE names its new rows `changed` (estate_id is never changed by an update).
_TRIGGERS = [
    (table, event, "NEW" if event != "DELETE" else "OLD")
    for table in ("estate_brokers", "estate_images")
    for event in ("INSERT", "UPDATE", "DELETE")
]


def upgrade() -> None:
    op.add_column(
        "estates",
        sa.Column("broker_ids", postgresql.ARRAY(sa.Uuid()), server_default=sa.text("'{}'"), nullable=False),
    )
    op.add_column("estates", sa.Column("thumbnail_image_id", sa.Uuid(), nullable=True))
    op.add_column("estates", sa.Column("thumbnail_blob_name", sa.String(length=200), nullable=True))
    op.execute(_REFRESH)
    op.execute(_CHANGED)
    for table, event, rows in _TRIGGERS:
        op.execute(
            f"CREATE TRIGGER {table}_{event.lower()}_list_columns AFTER {event} ON {table} "
            f"REFERENCING {rows} TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION estates_list_columns_changed()"
        )
    op.execute("SELECT estates_refresh_list_columns(ARRAY(SELECT id FROM estates))")


def downgrade() -> None:
    for table, event, _ in _TRIGGERS:
        op.execute(f"DROP TRIGGER {table}_{event.lower()}_list_columns ON {table}")
    op.execute("DROP FUNCTION estates_list_columns_changed()")
    op.execute("DROP FUNCTION estates_refresh_list_columns(uuid[])")
    op.drop_column("estates", "thumbnail_blob_name")
    op.drop_column("estates", "thumbnail_image_id")
    op.drop_column("estates", "broker_ids")
