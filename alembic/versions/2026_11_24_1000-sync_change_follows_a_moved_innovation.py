"""the sync change log follows an innovation that moves to another institution

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-24 10:00:00+00:00

An innovation moved to another institution's unit (by the secretariat) is logged for both
institutions: the one it leaves is shown a tombstone (unless the innovation is public), with its
own `external_id` for it; the service clears that `external_id` on the move, since it was the
other institution's id.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RECORD_CHANGE = """
CREATE OR REPLACE FUNCTION sync_record_change() RETURNS trigger
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
        IF TG_OP = 'UPDATE' AND OLD.institution_id IS DISTINCT FROM NEW.institution_id THEN
            -- Moved to another institution: the one it leaves is shown the change too (a
            -- tombstone, unless the record is public), under the id it knew it by.
            insiders := ARRAY[NEW.institution_id, OLD.institution_id];
            ext_id := OLD.external_id;
            ext_institution := OLD.institution_id;
        END IF;
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

# As migration 0013 created it.
RECORD_CHANGE_0013 = """
CREATE OR REPLACE FUNCTION sync_record_change() RETURNS trigger
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


def upgrade() -> None:
    op.execute(RECORD_CHANGE)


def downgrade() -> None:
    op.execute(RECORD_CHANGE_0013)
