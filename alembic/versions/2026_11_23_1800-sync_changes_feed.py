"""the sync change log: one row per write of a unit, innovation, replication or hub activity

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23 18:00:00+00:00

Triggers write `sync_changes` in the writing transaction, stamped with its transaction id
(`pg_current_xact_id()`). `GET /v1/sync/changes` reads it in (xid, position) order and only
below the reading snapshot's xmin: every transaction with a smaller id has ended, so a row that
becomes visible later always sorts after any cursor handed out (docs/sync.md).

Each row says whose records it concerns (`institution_ids`) and whether the record was public
before and after the write, so a caller of another institution is shown the writes of records
it could read (and a tombstone when one stops being readable), never anything of another
institution's drafts. Visibility that follows from another record (a replication is public when
its source innovation is published; a hub activity when its hub is) is logged again when that
record changes.

Units, replications and hub activities get the caller's `external_id` (innovations have it):
unique per institution (for replications and hub activities, the institution that pushed it).
Existing records get one `upsert` row each, so a feed read from the beginning holds every one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Public: what an anonymous caller may read (each resource's read endpoint).
RECORD_CHANGE = """
CREATE FUNCTION sync_record_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    rec record;
    res text;
    insiders uuid[];
    before_public boolean := false;
    after_public boolean := false;
    ext_id text;
    ext_institution uuid;
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    IF TG_TABLE_NAME = 'innovations' THEN
        res := 'innovations';
        insiders := ARRAY[rec.institution_id];
        IF TG_OP <> 'INSERT' THEN before_public := OLD.status = 'published'; END IF;
        IF TG_OP <> 'DELETE' THEN after_public := NEW.status = 'published'; END IF;
        ext_id := rec.external_id;
        ext_institution := rec.institution_id;
    ELSIF TG_TABLE_NAME = 'units' THEN
        res := 'units';
        insiders := ARRAY[rec.institution_id];
        before_public := TG_OP <> 'INSERT';
        after_public := TG_OP <> 'DELETE';
        ext_id := rec.external_id;
        ext_institution := rec.institution_id;
    ELSIF TG_TABLE_NAME = 'replications' THEN
        res := 'replications';
        insiders := ARRAY[rec.source_institution_id, rec.adopter_institution_id];
        IF TG_OP <> 'INSERT' THEN
            before_public := OLD.approved_date IS NOT NULL AND EXISTS (
                SELECT FROM innovations
                WHERE id = OLD.source_innovation_id AND status = 'published'
            );
        END IF;
        IF TG_OP <> 'DELETE' THEN
            after_public := NEW.approved_date IS NOT NULL AND EXISTS (
                SELECT FROM innovations
                WHERE id = NEW.source_innovation_id AND status = 'published'
            );
        END IF;
        ext_id := rec.external_id;
        ext_institution := rec.external_institution_id;
    ELSE
        res := 'hub-activities';
        SELECT ARRAY[host_institution_id] INTO insiders FROM hubs WHERE id = rec.hub_id;
        IF TG_OP <> 'INSERT' THEN
            before_public := OLD.status = 'published' AND EXISTS (
                SELECT FROM hubs
                WHERE id = OLD.hub_id AND status IN ('designated', 'active', 'inactive')
            );
        END IF;
        IF TG_OP <> 'DELETE' THEN
            after_public := NEW.status = 'published' AND EXISTS (
                SELECT FROM hubs
                WHERE id = NEW.hub_id AND status IN ('designated', 'active', 'inactive')
            );
        END IF;
        ext_id := rec.external_id;
        ext_institution := rec.external_institution_id;
    END IF;
    INSERT INTO sync_changes (
        resource, record_id, operation, version, institution_ids,
        public_before, public_after, external_id, external_institution_id
    ) VALUES (
        res, rec.id, CASE WHEN TG_OP = 'DELETE' THEN 'delete' ELSE 'upsert' END, rec.version,
        coalesce(insiders, '{}'), before_public, after_public, ext_id, ext_institution
    );
    RETURN NULL;
END;
$$
"""

# A source innovation published or taken out of the public eye changes what its approved
# replications show to everyone: they are logged again, as unchanged records.
SOURCE_VISIBILITY = """
CREATE FUNCTION sync_source_visibility() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_changes (
        resource, record_id, operation, version, institution_ids,
        public_before, public_after, external_id, external_institution_id
    )
    SELECT 'replications', r.id, 'upsert', r.version,
        ARRAY[r.source_institution_id, r.adopter_institution_id],
        OLD.status = 'published', NEW.status = 'published',
        r.external_id, r.external_institution_id
    FROM replications r
    WHERE r.source_innovation_id = NEW.id AND r.approved_date IS NOT NULL;
    RETURN NULL;
END;
$$
"""

# Likewise a hub becoming public (designated) or hidden again, for its published activities.
HUB_VISIBILITY = """
CREATE FUNCTION sync_hub_visibility() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO sync_changes (
        resource, record_id, operation, version, institution_ids,
        public_before, public_after, external_id, external_institution_id
    )
    SELECT 'hub-activities', a.id, 'upsert', a.version, ARRAY[NEW.host_institution_id],
        OLD.status IN ('designated', 'active', 'inactive'),
        NEW.status IN ('designated', 'active', 'inactive'),
        a.external_id, a.external_institution_id
    FROM hub_activities a
    WHERE a.hub_id = NEW.id AND a.status = 'published';
    RETURN NULL;
END;
$$
"""

TABLES = ("units", "innovations", "replications", "hub_activities")

# Every record already there, once, as public as it is now.
BACKFILL = """
INSERT INTO sync_changes (
    resource, record_id, operation, version, institution_ids,
    public_before, public_after, external_id, external_institution_id
)
SELECT 'units', u.id, 'upsert', u.version, ARRAY[u.institution_id], false, true,
    NULL, u.institution_id
FROM units u
UNION ALL
SELECT 'innovations', i.id, 'upsert', i.version, ARRAY[i.institution_id], false,
    i.status = 'published', i.external_id, i.institution_id
FROM innovations i
UNION ALL
SELECT 'replications', r.id, 'upsert', r.version,
    ARRAY[r.source_institution_id, r.adopter_institution_id], false,
    r.approved_date IS NOT NULL AND s.status = 'published', NULL, NULL
FROM replications r JOIN innovations s ON s.id = r.source_innovation_id
UNION ALL
SELECT 'hub-activities', a.id, 'upsert', a.version, ARRAY[h.host_institution_id], false,
    a.status = 'published' AND h.status IN ('designated', 'active', 'inactive'), NULL, NULL
FROM hub_activities a JOIN hubs h ON h.id = a.hub_id
"""


def upgrade() -> None:
    op.add_column("units", sa.Column("external_id", sa.String(length=100), nullable=True))
    op.create_index(
        "uq_units_institution_external_id",
        "units",
        ["institution_id", "external_id"],
        unique=True,
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    for table in ("replications", "hub_activities"):
        op.add_column(table, sa.Column("external_id", sa.String(length=100), nullable=True))
        op.add_column(
            table,
            sa.Column(
                "external_institution_id",
                sa.Uuid(),
                sa.ForeignKey(
                    "institutions.id",
                    name=f"fk_{table}_external_institution_id_institutions",
                    ondelete="RESTRICT",
                ),
                nullable=True,
            ),
        )
        op.create_check_constraint(
            f"ck_{table}_external_id_with_institution",
            table,
            "(external_id IS NULL) = (external_institution_id IS NULL)",
        )
        op.create_index(
            f"uq_{table}_external_institution_external_id",
            table,
            ["external_institution_id", "external_id"],
            unique=True,
            postgresql_where=sa.text("external_id IS NOT NULL"),
        )
    op.create_table(
        "sync_changes",
        sa.Column("position", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        # The writing transaction's id (xid8, a 64-bit counter that never wraps) as a bigint.
        sa.Column(
            "xid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("resource", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.Uuid(), nullable=False),
        sa.Column("operation", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("institution_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("public_before", sa.Boolean(), nullable=False),
        sa.Column("public_after", sa.Boolean(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("external_institution_id", sa.Uuid(), nullable=True),
        sa.Column(
            "changed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "resource IN ('units', 'innovations', 'replications', 'hub-activities')",
            name="ck_sync_changes_resource",
        ),
        sa.CheckConstraint("operation IN ('upsert', 'delete')", name="ck_sync_changes_operation"),
        sa.PrimaryKeyConstraint("position", name="pk_sync_changes"),
    )
    op.create_index("ix_sync_changes_xid_position", "sync_changes", ["xid", "position"])
    op.create_index(
        "ix_sync_changes_resource_record_id", "sync_changes", ["resource", "record_id", "position"]
    )
    op.create_index("ix_sync_changes_changed_at", "sync_changes", ["changed_at"])
    op.create_table(
        "sync_horizon",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("generation", sa.BigInteger(), nullable=False),
        sa.Column("compacted_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_sync_horizon_one_row"),
        sa.PrimaryKeyConstraint("id", name="pk_sync_horizon"),
    )
    op.execute(BACKFILL)
    op.execute(RECORD_CHANGE)
    op.execute(SOURCE_VISIBILITY)
    op.execute(HUB_VISIBILITY)
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_sync_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION sync_record_change()"
        )
    op.execute(
        "CREATE TRIGGER innovations_sync_source_visibility AFTER UPDATE OF status ON innovations "
        "FOR EACH ROW WHEN ((OLD.status = 'published') IS DISTINCT FROM "
        "(NEW.status = 'published')) EXECUTE FUNCTION sync_source_visibility()"
    )
    op.execute(
        "CREATE TRIGGER hubs_sync_hub_visibility AFTER UPDATE OF status ON hubs "
        "FOR EACH ROW WHEN ((OLD.status IN ('designated', 'active', 'inactive')) IS DISTINCT "
        "FROM (NEW.status IN ('designated', 'active', 'inactive'))) "
        "EXECUTE FUNCTION sync_hub_visibility()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER hubs_sync_hub_visibility ON hubs")
    op.execute("DROP TRIGGER innovations_sync_source_visibility ON innovations")
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_sync_change ON {table}")
    op.execute("DROP FUNCTION sync_hub_visibility()")
    op.execute("DROP FUNCTION sync_source_visibility()")
    op.execute("DROP FUNCTION sync_record_change()")
    op.drop_table("sync_horizon")
    op.drop_table("sync_changes")
    for table in ("hub_activities", "replications"):
        op.drop_index(f"uq_{table}_external_institution_external_id", table_name=table)
        op.drop_constraint(f"ck_{table}_external_id_with_institution", table, type_="check")
        op.drop_column(table, "external_institution_id")
        op.drop_column(table, "external_id")
    op.drop_index("uq_units_institution_external_id", table_name="units")
    op.drop_column("units", "external_id")
