"""a typed word the catalogue's text already has is taken as typed, without a trigram lookup

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-23 13:30:00+00:00

The trigram lookup of a typed word in `innovation_words` reads posting lists that grow with the
vocabulary: 1.3 ms at 94,000 title words (100k innovations), 6.4 ms at 781,000 (1M), and a rare
word's search grew by 124% between the two (bench/README.md). A word that some published record's
text already contains (the full-text index answers that in well under a millisecond) is no
typo: it now matches as typed, in any section, and only unknown words look for similar title
words. A title word stays a title match (weight A), as before.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Known words: a published title's word (weight A), else a word of a published record's text,
# matched anywhere. Only published text counts, for every caller, as for title words in 0007:
# whether a word is taken as typed must not depend on drafts. Only unknown words become the
# title words at least 0.5 trigram-similar to them. The rest as in 0007.
KNOWN_TEXT = """        ELSIF EXISTS (
            SELECT FROM innovations
            WHERE search_vector @@ to_tsquery('indonesian', quote_literal(typed))
                AND status = 'published'
        ) THEN
            alternatives := quote_literal(typed);
"""
FUZZY = """
CREATE OR REPLACE FUNCTION innovation_fuzzy_tsquery(q text, published_only boolean)
RETURNS tsquery
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
    typed text;
    alternatives text;
    groups text[] := '{}';
BEGIN
    FOR typed IN SELECT innovation_title_words(q) LOOP
        IF EXISTS (SELECT FROM innovation_words WHERE word = typed AND published) THEN
            alternatives := quote_literal(typed) || '\\:A';
{known_text}        ELSE
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
""".replace("{known_text}", KNOWN_TEXT)

# 0007's function: the same without the branch for words of published text.
PREVIOUS = FUZZY.replace(KNOWN_TEXT, "")


def upgrade() -> None:
    op.execute(FUZZY)


def downgrade() -> None:
    op.execute(PREVIOUS)
