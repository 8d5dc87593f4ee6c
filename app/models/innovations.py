from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, Timestamps, UUIDPrimaryKey, Versioned
from app.models.enums import InnovationStage, InnovationStatus, SustainabilityStatus


def _enum(enum: type[Any], name: str, length: int = 20) -> Enum:
    return Enum(enum, native_enum=False, create_constraint=True, length=length, name=name)


class InnovationCategory(Timestamps, Versioned, Base):
    """A thematic category of the managed vocabulary (`kesehatan`, `pendidikan`, ...)."""

    __tablename__ = "innovation_categories"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str | None] = mapped_column(String(500))

    __table_args__ = (CheckConstraint("code ~ '^[a-z][a-z0-9_]{1,39}$'", name="code_format"),)


# The text the full-text index reads: title and acronym expansion weigh most, the knowledge
# sections less. Apostrophes go (Ma'Siti and Masiti are one word to a searcher).
SEARCH_VECTOR_SQL = (
    "setweight(to_tsvector('indonesian'::regconfig, "
    "replace(title, '''', '') || ' ' || coalesce(replace(acronym_expansion, '''', ''), '')), 'A')"
    " || setweight(to_tsvector('indonesian'::regconfig, "
    "coalesce(sections->>'summary', '') || ' ' || coalesce(sections->>'novelty', '')), 'B')"
    " || setweight(to_tsvector('indonesian'::regconfig, "
    "coalesce(sections->>'background_and_aims', '') || ' ' "
    "|| coalesce(sections->>'implementation', '') || ' ' "
    "|| coalesce(sections->>'significance_and_impact', '') || ' ' "
    "|| coalesce(sections->>'adaptability', '') || ' ' "
    "|| coalesce(sections->>'resources', '') || ' ' "
    "|| coalesce(sections->>'sustainability_strategy', '')), 'C')"
)
# What fuzzy (trigram) matching reads: the names people type, lower-cased, apostrophes gone.
SEARCH_TITLE_SQL = "lower(replace(title || ' ' || coalesce(acronym_expansion, ''), '''', ''))"


class Innovation(UUIDPrimaryKey, Timestamps, Versioned, Base):
    """A public-service innovation of one unit (and so of its institution)."""

    __tablename__ = "innovations"

    institution_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("institutions.id", ondelete="RESTRICT")
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    title: Mapped[str] = mapped_column(String(200))
    acronym_expansion: Mapped[str | None] = mapped_column(String(300))
    year_started: Mapped[int] = mapped_column(SmallInteger)
    implemented_date: Mapped[date | None] = mapped_column(Date)
    is_digital: Mapped[bool] = mapped_column(Boolean)
    stage: Mapped[InnovationStage] = mapped_column(_enum(InnovationStage, "innovation_stage"))
    sdgs: Mapped[list[int]] = mapped_column(
        ARRAY(SmallInteger), server_default=text("'{}'::smallint[]")
    )
    category_codes: Mapped[list[str]] = mapped_column(
        ARRAY(String(40)), server_default=text("'{}'::varchar[]")
    )
    # {summary, background_and_aims, novelty, implementation, significance_and_impact,
    #  adaptability, resources, sustainability_strategy}: text each, absent when empty.
    sections: Mapped[dict[str, str]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    regulations: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    budget_lines: Mapped[list[dict[str, Any]]] = mapped_column(
        JSONB, server_default=text("'[]'::jsonb")
    )
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default=text("'[]'::jsonb"))
    sustainability_status: Mapped[SustainabilityStatus | None] = mapped_column(
        _enum(SustainabilityStatus, "sustainability_status")
    )
    status: Mapped[InnovationStatus] = mapped_column(
        _enum(InnovationStatus, "innovation_status"), default=InnovationStatus.draft
    )
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Provenance: the system the record came from and its id there.
    source_system: Mapped[str | None] = mapped_column(String(60))
    external_id: Mapped[str | None] = mapped_column(String(100))
    search_vector: Mapped[Any] = mapped_column(
        TSVECTOR, Computed(SEARCH_VECTOR_SQL, persisted=True), deferred=True
    )
    search_title: Mapped[str] = mapped_column(
        Text, Computed(SEARCH_TITLE_SQL, persisted=True), deferred=True
    )

    __table_args__ = (
        # The unit must belong to the innovation's institution.
        ForeignKeyConstraint(
            ["unit_id", "institution_id"],
            ["units.id", "units.institution_id"],
            name="fk_innovations_unit_same_institution",
            ondelete="RESTRICT",
        ),
        CheckConstraint("year_started BETWEEN 1945 AND 2100", name="year_started_range"),
        CheckConstraint(
            "implemented_date IS NULL OR extract(year FROM implemented_date) >= year_started",
            name="implemented_after_start",
        ),
        CheckConstraint(
            "sdgs <@ '{1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17}'::smallint[]",
            name="sdgs_range",
        ),
        CheckConstraint(
            "(status = 'draft') OR (published_at IS NOT NULL)", name="published_has_date"
        ),
        Index("ix_innovations_institution_id_created_at", "institution_id", "created_at", "id"),
        Index("ix_innovations_unit_id_created_at", "unit_id", "created_at", "id"),
        Index("ix_innovations_created_at_id", "created_at", "id"),
        Index("ix_innovations_title_id", "title", "id"),
        Index("ix_innovations_year_started_id", "year_started", "id"),
        # The public catalogue's orderings over published records only.
        Index(
            "ix_innovations_published_created_at",
            "created_at",
            "id",
            postgresql_where=text("status = 'published'"),
        ),
        Index(
            "ix_innovations_published_title",
            "title",
            "id",
            postgresql_where=text("status = 'published'"),
        ),
        Index(
            "ix_innovations_published_year_started",
            "year_started",
            "id",
            postgresql_where=text("status = 'published'"),
        ),
        # Facets and statistics over published records read only this index (index-only
        # scans, joined to institutions), not the wide rows (bench/README.md).
        Index(
            "ix_innovations_published_facets",
            "institution_id",
            postgresql_include=[
                "status",
                "stage",
                "is_digital",
                "year_started",
                "sdgs",
                "category_codes",
            ],
            postgresql_where=text("status = 'published'"),
        ),
        Index("ix_innovations_search_vector", "search_vector", postgresql_using="gin"),
        Index("ix_innovations_sdgs", "sdgs", postgresql_using="gin"),
        Index("ix_innovations_category_codes", "category_codes", postgresql_using="gin"),
        Index(
            "uq_innovations_institution_external_id",
            "institution_id",
            "external_id",
            unique=True,
            postgresql_where=text("external_id IS NOT NULL"),
        ),
    )


class InnovationWord(Base):
    """One distinct word of the innovations' titles and acronym expansions (`search_title`),
    for typo-tolerant search: a typed word that is not one of these is matched against the
    most similar ones (trigram similarity) instead of against every record's title.

    Filled by statement-level triggers on `innovations` (migration 0007), whatever writes the
    rows (the service, a bulk COPY). Never pruned: a word no title has any more stays a typo's
    candidate (matching nothing), and once published it stays known, so that word typed again
    is taken as typed and not corrected (known limitation: per-word counts would fix it)."""

    __tablename__ = "innovation_words"

    word: Mapped[str] = mapped_column(Text, primary_key=True)
    # Once any published record's title has had the word. Only such words are taken as typed
    # (not corrected): the public must not learn from the search that a draft's title has one.
    published: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))

    __table_args__ = (
        Index(
            "ix_innovation_words_word_trgm",
            "word",
            postgresql_using="gin",
            postgresql_ops={"word": "gin_trgm_ops"},
        ),
    )
