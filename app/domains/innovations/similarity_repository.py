"""Finding what to replicate: the published innovations most alike one innovation.

Candidates are the newest published innovations sharing a title, acronym-expansion or summary
word with it, and the newest sharing one of its thematic categories (each set bounded, so the
cost stays flat as the catalogue grows). Each candidate is scored

    (0.6 * text + 0.3 * categories + 0.1 * SDGs) * (1 + 0.25 * awarded + 0.1 * ln(1 + proven))

where `text` is its full-text rank against the innovation's title and summary words, relative
to the best candidate's (0-1); `categories` and `SDGs` are the Jaccard overlaps of the two
sets (0-1); `awarded` is 1 when it holds an award; `proven` counts the adopter institutions
that implemented a replication of it. Every score is rounded to 4 decimals; equal scores go
to the larger id (the catalogue's keyset order).
README: "How similarity is computed". The statements of the catalogue's repository.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Float, Integer, Subquery, TextClause, bindparam, text
from sqlalchemy.dialects.postgresql import UUID

CANDIDATES = 1000  # per candidate set (shared words, shared categories)
WORDS = 64  # its title words first, then its most frequent summary words
LIST_LIMIT = 200  # the `similar_to` list filter keeps this many most alike
_SQL = """
WITH source AS (
    SELECT i.id, i.category_codes, i.sdgs,
           (SELECT to_tsquery('simple', string_agg(quote_literal(w.lexeme), ' | '))
              FROM (SELECT t.lexeme FROM unnest(ts_filter(i.search_vector, '{a,b}')) AS t
                     ORDER BY 'A' = ANY(t.weights) DESC, cardinality(t.positions) DESC, t.lexeme
                     LIMIT :words) AS w) AS query
      FROM innovations i
     WHERE i.id = :innovation_id
),
text_matches AS (
    SELECT c.id
      FROM innovations c, source s
     WHERE s.query IS NOT NULL AND c.search_vector @@ s.query
       AND c.status = 'published' AND c.id <> s.id
       AND (CAST(:exclude AS uuid) IS NULL OR c.institution_id <> CAST(:exclude AS uuid))
     ORDER BY c.created_at DESC, c.id DESC
     LIMIT :candidates
),
category_matches AS (
    SELECT c.id
      FROM innovations c, source s
     WHERE c.category_codes && s.category_codes
       AND c.status = 'published' AND c.id <> s.id
       AND (CAST(:exclude AS uuid) IS NULL OR c.institution_id <> CAST(:exclude AS uuid))
     ORDER BY c.created_at DESC, c.id DESC
     LIMIT :candidates
),
scored AS (
    SELECT c.id,
           CASE WHEN s.query IS NULL THEN 0
                ELSE ts_rank(c.search_vector, s.query) END AS text_rank,
           coalesce(cardinality(ARRAY(SELECT unnest(c.category_codes)
                                      INTERSECT SELECT unnest(s.category_codes)))::float
                    / nullif(cardinality(ARRAY(SELECT unnest(c.category_codes)
                                               UNION SELECT unnest(s.category_codes))), 0),
                    0) AS category_score,
           coalesce(cardinality(ARRAY(SELECT unnest(c.sdgs) INTERSECT SELECT unnest(s.sdgs)))::float
                    / nullif(cardinality(ARRAY(SELECT unnest(c.sdgs)
                                               UNION SELECT unnest(s.sdgs))), 0),
                    0) AS sdg_score,
           (SELECT count(DISTINCT r.adopter_institution_id) FROM replications r
             WHERE r.source_innovation_id = c.id
               AND r.implemented_date IS NOT NULL) AS proven_replications,
           EXISTS (SELECT 1 FROM awards a WHERE a.innovation_id = c.id) AS awarded
      FROM (SELECT id FROM text_matches UNION SELECT id FROM category_matches) k
      JOIN innovations c ON c.id = k.id
     CROSS JOIN source s
),
normalised AS (
    SELECT *, coalesce(text_rank / nullif(max(text_rank) OVER (), 0), 0) AS text_score
      FROM scored
)
-- Every score is rounded to 4 decimals here, the one place they are computed: no
-- 0.9999999999999999 for a perfect match (0.6 + 0.3 + 0.1 in floating point).
SELECT id, round(text_score::numeric, 4)::float8 AS text_score,
       round(category_score::numeric, 4)::float8 AS category_score,
       round(sdg_score::numeric, 4)::float8 AS sdg_score, proven_replications, awarded,
       round(((0.6 * text_score + 0.3 * category_score + 0.1 * sdg_score)
              * (1 + 0.25 * awarded::int + 0.1 * ln(1 + proven_replications)))::numeric,
             4)::float8 AS score
  FROM normalised
 ORDER BY score DESC, id DESC
 LIMIT :limit
"""


def statement(innovation_id: uuid.UUID, exclude: uuid.UUID | None, limit: int) -> TextClause:
    """The `limit` published innovations most alike `innovation_id`, best first, with their
    scores; `exclude`: an institution whose innovations are left out (the caller's own)."""
    return text(_SQL).bindparams(
        bindparam("innovation_id", innovation_id, type_=UUID(as_uuid=True)),
        bindparam("exclude", exclude, type_=UUID(as_uuid=True)),
        bindparam("words", WORDS, type_=Integer()),
        bindparam("candidates", CANDIDATES, type_=Integer()),
        bindparam("limit", limit, type_=Integer()),
    )


def ranked(innovation_id: uuid.UUID, exclude: uuid.UUID | None) -> Subquery:
    """The `LIST_LIMIT` most alike as a subquery `(id, score)`, for the catalogue's filters."""
    return (
        statement(innovation_id, exclude, LIST_LIMIT)
        .columns(id=UUID(as_uuid=True), score=Float())
        .subquery("similar")
    )
