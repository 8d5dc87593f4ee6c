"""typo-tolerant search over a vocabulary of title words instead of every title

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 00:00:00+00:00

The trigram match of a query against every record's `search_title` read GIN posting lists that
grow with the catalogue (bench/README.md). Typos are now matched against `innovation_words`,
the distinct words of those titles, and only for typed words that are not such a word; the
matching records are then found through the full-text index.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The words of a title as the vocabulary and the typed query split them: lower case,
# apostrophes gone (as in `search_title`), runs of letters and digits.
TITLE_WORDS = r"""
CREATE FUNCTION innovation_title_words(title text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 4 AS $$
    SELECT DISTINCT w
    FROM regexp_split_to_table(lower(replace(title, '''', '')), '[^[:alnum:]]+') AS w
    WHERE w <> ''
$$
"""

# Statement-level, so a bulk COPY adds its words once. New words only (DO NOTHING takes no lock
# on a word already there, so writers of records sharing common words never wait for each
# other), sorted; then the flag of words just published, which locks only those rows.
# `published` marks a word once any published record's title has had it.
COLLECT_WORDS = """
CREATE FUNCTION innovation_words_collect() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO innovation_words (word, published)
    SELECT w, bool_or(new_rows.status = 'published')
    FROM new_rows, innovation_title_words(new_rows.search_title) AS w
    GROUP BY w
    ORDER BY w
    ON CONFLICT (word) DO NOTHING;
    UPDATE innovation_words SET published = true
    WHERE NOT published AND word IN (
        SELECT w FROM new_rows, innovation_title_words(new_rows.search_title) AS w
        WHERE new_rows.status = 'published'
    );
    RETURN NULL;
END
$$
"""

# The typo part of a search, as a tsquery over the title weight (A): every typed word must
# match, either as itself or, when it is no published title's word, as any title word at least
# 0.5 trigram-similar to it (`%` narrows through the index with pg_trgm's default 0.3 first).
# Only published words count as known: whether a word is taken as typed must not tell the
# public that some draft's title has it. With `published_only` (every caller but the
# secretariat) the alternatives are published words too: a draft's word, once stemmed, could
# otherwise match a published title and so change what the caller finds.
# NULL when `q` has no word. PL/pgSQL, not SQL: its statements' plans are kept per connection
# (a SQL function that cannot be inlined is planned again on every call, about 5 ms here).
FUZZY_TSQUERY = """
CREATE FUNCTION innovation_fuzzy_tsquery(q text, published_only boolean) RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    typed text;
    alternatives text;
    groups text[] := '{}';
BEGIN
    FOR typed IN SELECT innovation_title_words(q) LOOP
        IF EXISTS (SELECT FROM innovation_words WHERE word = typed AND published) THEN
            alternatives := quote_literal(typed) || '\\:A';
        ELSE
            SELECT string_agg(quote_literal(candidate) || '\\:A', ' | ')
            INTO alternatives
            FROM (
                SELECT typed AS candidate
                UNION
                SELECT word FROM innovation_words
                WHERE word % typed AND similarity(word, typed) >= 0.5
                    AND (published OR NOT published_only)
            ) AS candidates;
        END IF;
        groups := groups || ('(' || alternatives || ')');
    END LOOP;
    IF cardinality(groups) = 0 THEN
        RETURN NULL;
    END IF;
    RETURN to_tsquery('indonesian', array_to_string(groups, ' & '));
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "innovation_words",
        sa.Column("word", sa.Text(), nullable=False),
        sa.Column("published", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_innovation_words")),
    )
    op.execute(TITLE_WORDS)
    op.execute(
        "INSERT INTO innovation_words (word, published) "
        "SELECT w, bool_or(status = 'published') "
        "FROM innovations, innovation_title_words(search_title) AS w GROUP BY w"
    )
    op.create_index(
        "ix_innovation_words_word_trgm",
        "innovation_words",
        ["word"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.execute(COLLECT_WORDS)
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER innovations_collect_words_{event.lower()} AFTER {event} "
            "ON innovations REFERENCING NEW TABLE AS new_rows "
            "FOR EACH STATEMENT EXECUTE FUNCTION innovation_words_collect()"
        )
    op.execute(sa.text(FUZZY_TSQUERY))  # text(): the escaped colon of `:A` is no bind parameter
    op.drop_index(
        "ix_innovations_search_title_trgm",
        table_name="innovations",
        postgresql_using="gin",
        postgresql_ops={"search_title": "gin_trgm_ops"},
    )


def downgrade() -> None:
    op.create_index(
        "ix_innovations_search_title_trgm",
        "innovations",
        ["search_title"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"search_title": "gin_trgm_ops"},
    )
    op.execute("DROP FUNCTION innovation_fuzzy_tsquery(text, boolean)")
    for event in ("insert", "update"):
        op.execute(f"DROP TRIGGER innovations_collect_words_{event} ON innovations")
    op.execute("DROP FUNCTION innovation_words_collect()")
    op.execute("DROP FUNCTION innovation_title_words(text)")
    op.drop_index(
        "ix_innovation_words_word_trgm",
        table_name="innovation_words",
        postgresql_using="gin",
        postgresql_ops={"word": "gin_trgm_ops"},
    )
    op.drop_table("innovation_words")
