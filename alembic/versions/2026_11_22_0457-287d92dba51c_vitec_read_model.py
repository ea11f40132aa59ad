"""vitec read model

Revision ID: 287d92dba51c
Revises: aefbdc085588
Create Date: 2026-11-22 04:57:21.728010+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "287d92dba51c"
down_revision: str | None = "aefbdc085588"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Trigram indexes for the estate list's free-text filter (a trusted extension since PostgreSQL 13).
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        "departments",
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("vitec_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("market_name", sa.String(length=300), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("street", sa.String(length=300), nullable=True),
        sa.Column("zip_code", sa.String(length=16), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_departments_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("organization_id", "vitec_id", name=op.f("uq_departments_organization_id_vitec_id")),
    )
    op.create_table(
        "employees",
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("vitec_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("mobile_phone", sa.String(length=64), nullable=True),
        sa.Column("department_vitec_ids", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_employees_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_employees")),
        sa.UniqueConstraint("organization_id", "vitec_id", name=op.f("uq_employees_organization_id_vitec_id")),
    )
    op.create_table(
        "vitec_sync_states",
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("watermark", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_vitec_sync_states_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vitec_sync_states")),
        sa.UniqueConstraint("organization_id", name=op.f("uq_vitec_sync_states_organization_id")),
    )
    op.create_table(
        "estates",
        sa.Column("organization_id", sa.UUID(), nullable=False),
        sa.Column("vitec_id", sa.String(length=64), nullable=False),
        sa.Column("department_id", sa.UUID(), nullable=True),
        sa.Column("assignment_number", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("estate_type", sa.String(length=32), nullable=False),
        sa.Column("estate_type_code", sa.Integer(), nullable=True),
        sa.Column("street", sa.String(length=300), nullable=True),
        sa.Column("zip_code", sa.String(length=16), nullable=True),
        sa.Column("city", sa.String(length=120), nullable=True),
        sa.Column("heading", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("asking_price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("total_price", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("primary_area", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("usable_area", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("rooms", sa.Integer(), nullable=True),
        sa.Column("bedrooms", sa.Integer(), nullable=True),
        sa.Column("construction_year", sa.Integer(), nullable=True),
        sa.Column("energy_letter", sa.String(length=8), nullable=True),
        sa.Column("vitec_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "search_text",
            sa.Text(),
            sa.Computed(
                "lower(coalesce(street, '') || ' ' || coalesce(zip_code, '') || ' ' || coalesce(city, '') || ' ' "
                "|| coalesce(heading, ''))",
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_estates_department_id_departments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_estates_organization_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estates")),
        sa.UniqueConstraint("organization_id", "vitec_id", name=op.f("uq_estates_organization_id_vitec_id")),
    )
    op.create_index(
        "ix_estates_organization_id_department_id", "estates", ["organization_id", "department_id"], unique=False
    )
    op.create_index("ix_estates_organization_id_status", "estates", ["organization_id", "status"], unique=False)
    op.create_index(
        "ix_estates_organization_id_updated_at_id", "estates", ["organization_id", "updated_at", "id"], unique=False
    )
    op.create_index(
        "ix_estates_search_text",
        "estates",
        ["search_text"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.create_table(
        "estate_brokers",
        sa.Column("estate_id", sa.UUID(), nullable=False),
        sa.Column("employee_id", sa.UUID(), nullable=True),
        sa.Column("employee_vitec_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("role_code", sa.Integer(), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_estate_brokers_employee_id_employees"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_estate_brokers_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estate_brokers")),
        sa.UniqueConstraint(
            "estate_id", "employee_vitec_id", "role", name=op.f("uq_estate_brokers_estate_id_employee_vitec_id_role")
        ),
    )
    op.create_index("ix_estate_brokers_employee_id", "estate_brokers", ["employee_id"], unique=False)
    op.create_table(
        "estate_images",
        sa.Column("estate_id", sa.UUID(), nullable=False),
        sa.Column("vitec_id", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("category", sa.String(length=120), nullable=True),
        sa.Column("vitec_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_estate_images_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estate_images")),
        sa.UniqueConstraint("estate_id", "vitec_id", name=op.f("uq_estate_images_estate_id_vitec_id")),
    )
    op.create_table(
        "estate_vitec_documents",
        sa.Column("estate_id", sa.UUID(), nullable=False),
        sa.Column("vitec_id", sa.String(length=64), nullable=False),
        sa.Column("doc_type", sa.String(length=120), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("extension", sa.String(length=16), nullable=True),
        sa.Column("vitec_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_estate_vitec_documents_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_estate_vitec_documents")),
        sa.UniqueConstraint("estate_id", "vitec_id", name=op.f("uq_estate_vitec_documents_estate_id_vitec_id")),
    )


def downgrade() -> None:
    op.drop_table("estate_vitec_documents")
    op.drop_table("estate_images")
    op.drop_index("ix_estate_brokers_employee_id", table_name="estate_brokers")
    op.drop_table("estate_brokers")
    op.drop_index(
        "ix_estates_search_text",
        table_name="estates",
        postgresql_using="gin",
        postgresql_ops={"search_text": "gin_trgm_ops"},
    )
    op.drop_index("ix_estates_organization_id_updated_at_id", table_name="estates")
    op.drop_index("ix_estates_organization_id_status", table_name="estates")
    op.drop_index("ix_estates_organization_id_department_id", table_name="estates")
    op.drop_table("estates")
    op.drop_table("vitec_sync_states")
    op.drop_table("employees")
    op.drop_table("departments")
