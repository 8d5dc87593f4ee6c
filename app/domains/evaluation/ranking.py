"""A round's ranking, computed from its criteria and its submitted evaluations: pure, exact and
deterministic (docs/evaluation.md, "Ranking").

- An evaluator's **total** for an entry is the weighted sum of the scores, each scaled to its
  criterion's range: `sum(weight * (score - min) / (max - min))`, so a total lies in 0..100
  whatever scale the criteria use (0..100 criteria give `sum(weight * score) / 100`).
- With `normalise`, each total is replaced by the evaluator's z-score over the round
  (`(total - evaluator's mean) / evaluator's standard deviation`, 0 for an evaluator whose
  totals are all equal) re-expressed on the round's scale (`round mean + round deviation * z`).
- An entry's **score** is the mean of its totals, rounded half-even to 3 decimals; its
  **spread** is its highest raw total minus its lowest, rounded the same way; it is flagged
  when that spread exceeds the round's threshold (with two evaluations or more).
- **Rank**: score, highest first (entries without a submitted evaluation last); ties broken by
  the smaller spread, then the earlier `submitted_at` (sent to the organiser first), then the
  smaller submission id. Every entry has its own rank.
- **Advances**: an entry with a score advances when it reaches the passing grade (if the round
  has one) and is within the quota among those that do (if the round has one); a round with
  neither advances every entry with a score.

Raw totals are exact (fractions); normalised ones are computed in 50-digit decimals from exact
means and variances, and an entry's totals are summed in a fixed order (by evaluator id), so the
result never depends on the order of the input.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

SCORE_PLACES = Decimal("0.001")
# One evaluator's sheet for one entry: (submission, evaluator).
SheetKey = tuple[uuid.UUID, uuid.UUID]


@dataclass(frozen=True)
class Criterion:
    id: uuid.UUID
    group_id: uuid.UUID
    weight: int
    min_score: int
    max_score: int


@dataclass(frozen=True)
class Entry:
    submission_id: uuid.UUID
    group_id: uuid.UUID
    submitted_at: datetime | None


@dataclass(frozen=True)
class Evaluation:
    """One submitted evaluation: an evaluator's scores for one entry, by criterion."""

    assignment_id: uuid.UUID
    submission_id: uuid.UUID
    evaluator_id: uuid.UUID
    scores: Mapping[uuid.UUID, Decimal]


@dataclass(frozen=True)
class Settings:
    advance_quota: int | None = None
    passing_grade: Decimal | None = None
    spread_threshold: Decimal = Decimal(20)
    normalise: bool = False


@dataclass
class EvaluatorTotal:
    assignment_id: uuid.UUID
    evaluator_id: uuid.UUID
    total: Decimal  # raw, rounded for display
    counted: Decimal  # what the score averages: the raw total, or its normalised value


@dataclass
class Ranked:
    submission_id: uuid.UUID
    rank: int = 0
    score: Decimal | None = None
    spread: Decimal | None = None
    flagged: bool = False
    advances: bool = False
    totals: list[EvaluatorTotal] = field(default_factory=list)


def _places(value: Fraction | Decimal) -> Decimal:
    if isinstance(value, Fraction):
        with localcontext() as ctx:
            ctx.prec = 50
            value = Decimal(value.numerator) / Decimal(value.denominator)
    return value.quantize(SCORE_PLACES, rounding=ROUND_HALF_EVEN)


def total(criteria: Iterable[Criterion], scores: Mapping[uuid.UUID, Decimal]) -> Fraction:
    """An evaluator's weighted total (0..100) for the criteria of the entry's group; a
    criterion without a score counts as its minimum."""
    result = Fraction(0)
    for criterion in criteria:
        score = scores.get(criterion.id)
        if score is None:
            continue
        span = criterion.max_score - criterion.min_score
        result += criterion.weight * (Fraction(score) - criterion.min_score) / span
    return result


def _decimal(value: Fraction) -> Decimal:
    return Decimal(value.numerator) / Decimal(value.denominator)


def _mean_and_deviation(values: list[Fraction]) -> tuple[Fraction, Decimal]:
    """The exact mean and the population standard deviation (50 digits) of the values."""
    mean = sum(values, Fraction(0)) / len(values)
    variance = sum(((v - mean) ** 2 for v in values), Fraction(0)) / len(values)
    return mean, _decimal(variance).sqrt()


def _normalised(raw: dict[SheetKey, Fraction]) -> dict[SheetKey, Decimal]:
    """Each (submission, evaluator) total as the evaluator's z-score on the round's scale.
    Means and variances are exact; only the square roots and what follows them are 50-digit
    decimals, so the result does not depend on the order of the evaluations."""
    with localcontext() as ctx:
        ctx.prec = 50
        round_mean, round_sd = _mean_and_deviation(list(raw.values()))
        by_evaluator: dict[uuid.UUID, list[Fraction]] = defaultdict(list)
        for (_, evaluator_id), value in raw.items():
            by_evaluator[evaluator_id].append(value)
        stats = {e: _mean_and_deviation(own) for e, own in by_evaluator.items()}
        result: dict[SheetKey, Decimal] = {}
        for key, value in raw.items():
            mean, sd = stats[key[1]]
            z = _decimal(value - mean) / sd if sd else Decimal(0)
            result[key] = _decimal(round_mean) + round_sd * z
        return result


def rank(
    criteria: Sequence[Criterion],
    entries: Sequence[Entry],
    evaluations: Sequence[Evaluation],
    settings: Settings,
) -> list[Ranked]:
    """The entries in rank order (see the module's documentation for every rule)."""
    by_group: dict[uuid.UUID, list[Criterion]] = defaultdict(list)
    for criterion in criteria:
        by_group[criterion.group_id].append(criterion)
    group_of = {entry.submission_id: entry.group_id for entry in entries}
    raw: dict[SheetKey, Fraction] = {}
    assignment_of: dict[SheetKey, uuid.UUID] = {}
    for evaluation in evaluations:
        group_id = group_of.get(evaluation.submission_id)
        if group_id is None:
            continue  # an evaluation of an entry no longer in the round
        key = (evaluation.submission_id, evaluation.evaluator_id)
        raw[key] = total(by_group[group_id], evaluation.scores)
        assignment_of[key] = evaluation.assignment_id
    normalised = _normalised(raw) if settings.normalise and raw else {}
    per_entry: dict[uuid.UUID, list[SheetKey]] = defaultdict(list)
    for key in sorted(raw, key=lambda k: (str(k[0]), str(k[1]))):
        per_entry[key[0]].append(key)
    ranked: list[Ranked] = []
    for entry in entries:
        keys = per_entry.get(entry.submission_id, [])
        item = Ranked(entry.submission_id)
        if keys:
            mean: Fraction | Decimal
            if settings.normalise:
                with localcontext() as ctx:
                    ctx.prec = 50
                    mean = sum((normalised[k] for k in keys), Decimal(0)) / len(keys)
            else:
                mean = sum((raw[k] for k in keys), Fraction(0)) / len(keys)
            item.score = _places(mean)
            raws = [raw[k] for k in keys]
            item.spread = _places(max(raws) - min(raws))
            item.flagged = len(keys) > 1 and item.spread > settings.spread_threshold
            item.totals = [
                EvaluatorTotal(
                    assignment_of[k],
                    k[1],
                    _places(raw[k]),
                    _places(normalised[k] if settings.normalise else raw[k]),
                )
                for k in keys
            ]
        ranked.append(item)
    submitted_at = {entry.submission_id: entry.submitted_at for entry in entries}
    never = datetime.max.replace(tzinfo=None)

    def order(item: Ranked) -> tuple[int, Decimal, Decimal, datetime, str]:
        when = submitted_at[item.submission_id]
        return (
            item.score is None,
            -(item.score or Decimal(0)),
            item.spread or Decimal(0),
            when.astimezone(UTC).replace(tzinfo=None) if when is not None else never,
            str(item.submission_id),
        )

    ranked.sort(key=order)
    advancing = 0
    for position, item in enumerate(ranked, start=1):
        item.rank = position
        if item.score is None:
            continue
        if settings.passing_grade is not None and item.score < settings.passing_grade:
            continue
        if settings.advance_quota is not None and advancing >= settings.advance_quota:
            continue
        item.advances = True
        advancing += 1
    return ranked
