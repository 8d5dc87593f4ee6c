"""The round ranking (app.domains.evaluation.ranking) checked against an independent
re-implementation of the rules in the module's docstring, plus hand-built examples.

Pure: no database, no fixtures from the project's conftest."""

from __future__ import annotations

import functools
import itertools
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from app.domains.evaluation.ranking import (
    Criterion,
    Entry,
    Evaluation,
    Ranked,
    Settings,
    rank,
)

# ---------------------------------------------------------------------------------------------
# The independent reference
# ---------------------------------------------------------------------------------------------

THOUSANDTH = Decimal("0.001")


def round3(value: Fraction | Decimal) -> Decimal:
    """Half-even to 3 decimals, from an exact fraction (100 digits is far more than any total
    here needs to decide a half exactly)."""
    with localcontext() as ctx:
        ctx.prec = 100
        if isinstance(value, Fraction):
            value = Decimal(value.numerator) / Decimal(value.denominator)
        return value.quantize(THOUSANDTH, rounding=ROUND_HALF_EVEN)


@dataclass
class Expected:
    submission_id: uuid.UUID
    submitted_at: datetime | None
    score: Decimal | None
    spread: Decimal | None
    flagged: bool
    totals: dict[uuid.UUID, tuple[uuid.UUID, Fraction]]  # evaluator -> (assignment, raw total)
    advances: bool = False


def raw_totals(
    criteria: Sequence[Criterion], entries: Sequence[Entry], evaluations: Sequence[Evaluation]
) -> dict[uuid.UUID, dict[uuid.UUID, tuple[uuid.UUID, Fraction]]]:
    """submission -> evaluator -> (assignment, exact weighted total scaled to 0..100)."""
    group_of = {entry.submission_id: entry.group_id for entry in entries}
    result: dict[uuid.UUID, dict[uuid.UUID, tuple[uuid.UUID, Fraction]]] = defaultdict(dict)
    for evaluation in evaluations:
        if evaluation.submission_id not in group_of:
            continue
        group = group_of[evaluation.submission_id]
        value = Fraction(0)
        for criterion in criteria:
            if criterion.group_id != group:
                continue
            score = evaluation.scores.get(criterion.id)
            above_min = Fraction(0) if score is None else Fraction(score) - criterion.min_score
            value += (
                Fraction(criterion.weight) * above_min / (criterion.max_score - criterion.min_score)
            )
        result[evaluation.submission_id][evaluation.evaluator_id] = (
            evaluation.assignment_id,
            value,
        )
    return result


def compare(a: Expected, b: Expected) -> int:
    """The documented order, written as a plain comparison."""
    if (a.score is None) != (b.score is None):
        return 1 if a.score is None else -1
    if a.score is not None and b.score is not None:
        if a.score != b.score:
            return -1 if a.score > b.score else 1
        assert a.spread is not None
        assert b.spread is not None
        if a.spread != b.spread:
            return -1 if a.spread < b.spread else 1
    if (a.submitted_at is None) != (b.submitted_at is None):
        return 1 if a.submitted_at is None else -1
    # Aware datetimes compare as instants, whatever their offsets.
    if (
        a.submitted_at is not None
        and b.submitted_at is not None
        and a.submitted_at != b.submitted_at
    ):
        return -1 if a.submitted_at < b.submitted_at else 1
    sa, sb = str(a.submission_id), str(b.submission_id)
    if sa != sb:
        return -1 if sa < sb else 1
    return 0


def reference(
    criteria: Sequence[Criterion],
    entries: Sequence[Entry],
    evaluations: Sequence[Evaluation],
    round_settings: Settings,
) -> list[Expected]:
    """The ranking without normalisation, recomputed from the docstring's rules."""
    assert not round_settings.normalise
    totals = raw_totals(criteria, entries, evaluations)
    rows: list[Expected] = []
    for entry in entries:
        own = totals.get(entry.submission_id, {})
        values = [value for _, value in own.values()]
        score = spread = None
        flagged = False
        if values:
            score = round3(sum(values, Fraction(0)) / len(values))
            # The reported spread is rounded like the score; the flag and the tie-break use
            # the reported value (see the report accompanying this file).
            spread = round3(max(values) - min(values))
            flagged = len(values) >= 2 and spread > round_settings.spread_threshold
        rows.append(Expected(entry.submission_id, entry.submitted_at, score, spread, flagged, own))
    rows.sort(key=functools.cmp_to_key(compare))
    advancing = 0
    for row in rows:
        if row.score is None:
            continue
        passing = round_settings.passing_grade
        if passing is not None and not row.score >= passing:
            continue
        quota = round_settings.advance_quota
        if quota is not None and advancing >= quota:
            continue
        row.advances = True
        advancing += 1
    return rows


def reference_normalised(
    totals: dict[uuid.UUID, dict[uuid.UUID, tuple[uuid.UUID, Fraction]]],
) -> dict[tuple[uuid.UUID, uuid.UUID], Decimal]:
    """(submission, evaluator) -> round mean + round deviation * the evaluator's z-score
    (population deviations), in 80-digit decimals."""
    with localcontext() as ctx:
        ctx.prec = 80
        flat = {
            (sid, eid): Decimal(value.numerator) / Decimal(value.denominator)
            for sid, own in totals.items()
            for eid, (_, value) in own.items()
        }
        if not flat:
            return {}

        def mean_sd(values: list[Decimal]) -> tuple[Decimal, Decimal]:
            mean = sum(values, Decimal(0)) / len(values)
            return mean, (sum((v - mean) ** 2 for v in values) / len(values)).sqrt()

        round_mean, round_sd = mean_sd(list(flat.values()))
        per_evaluator: dict[uuid.UUID, list[Decimal]] = defaultdict(list)
        for (_, eid), value in flat.items():
            per_evaluator[eid].append(value)
        stats = {eid: mean_sd(values) for eid, values in per_evaluator.items()}
        result = {}
        for (sid, eid), value in flat.items():
            mean, sd = stats[eid]
            z = Decimal(0) if sd == 0 else (value - mean) / sd
            result[sid, eid] = round_mean + round_sd * z
        return result


# ---------------------------------------------------------------------------------------------
# Random rounds
# ---------------------------------------------------------------------------------------------


@dataclass
class Round:
    criteria: list[Criterion]
    entries: list[Entry]
    evaluations: list[Evaluation]
    settings: Settings


INSTANTS = [datetime(2023, 5, 1, 8, 0, tzinfo=UTC) + timedelta(minutes=k) for k in range(3)]
OFFSETS = [UTC, timezone(timedelta(hours=7)), timezone(timedelta(hours=-5, minutes=-30))]


@st.composite
def submitted_ats(draw: st.DrawFn) -> datetime | None:
    if draw(st.integers(0, 3)) == 0:
        return None
    instant = draw(
        st.one_of(
            # A few shared instants make equal submission times common...
            st.sampled_from(INSTANTS),
            st.datetimes(
                min_value=datetime(2020, 1, 1),
                max_value=datetime(2030, 1, 1),
                timezones=st.just(UTC),
            ),
        )
    )
    # ...and the same instant is given in different offsets.
    return instant.astimezone(draw(st.sampled_from(OFFSETS)))


def scores_between(low: int, high: int) -> st.SearchStrategy[Decimal]:
    return st.one_of(
        st.sampled_from([Decimal(low), Decimal(high)]),
        st.integers(low, high).map(Decimal),
        st.decimals(min_value=low, max_value=high, places=2, allow_nan=False, allow_infinity=False),
    )


@st.composite
def rounds(draw: st.DrawFn, normalise: st.SearchStrategy[bool] = st.just(False)) -> Round:
    groups = draw(st.lists(st.uuids(), min_size=1, max_size=2, unique=True))
    criteria: list[Criterion] = []
    criterion_ids = iter(draw(st.lists(st.uuids(), min_size=12, max_size=12, unique=True)))
    for group in groups:
        count = draw(st.integers(1, 6))
        cuts = sorted(draw(st.lists(st.integers(0, 100), min_size=count - 1, max_size=count - 1)))
        bounds = [0, *cuts, 100]
        for low_bound, high_bound in itertools.pairwise(bounds):
            low = draw(st.integers(0, 5))
            high = draw(st.integers(low + 1, 100))
            criteria.append(
                Criterion(next(criterion_ids), group, high_bound - low_bound, low, high)
            )
    assert all(sum(c.weight for c in criteria if c.group_id == g) == 100 for g in groups)

    entry_count = draw(st.integers(1, 15))
    entry_ids = draw(st.lists(st.uuids(), min_size=entry_count, max_size=entry_count, unique=True))
    entries = [
        Entry(sid, draw(st.sampled_from(groups)), draw(submitted_ats())) for sid in entry_ids
    ]
    panel = draw(st.lists(st.uuids(), min_size=1, max_size=6, unique=True))
    evaluations: list[Evaluation] = []
    for entry in entries:
        evaluators = draw(st.lists(st.sampled_from(panel), unique=True, max_size=len(panel)))
        for evaluator in evaluators:
            scores = {
                c.id: draw(scores_between(c.min_score, c.max_score))
                for c in criteria
                if c.group_id == entry.group_id
            }
            evaluations.append(Evaluation(draw(st.uuids()), entry.submission_id, evaluator, scores))

    quota = draw(st.none() | st.integers(1, entry_count))
    passing = draw(
        st.none()
        | st.integers(0, 100).map(Decimal)
        | st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)
    )
    threshold = draw(
        st.just(Decimal(20))
        | st.integers(0, 30).map(Decimal)  # often equal to a spread of integer scores
        | st.decimals(min_value=0, max_value=100, places=3, allow_nan=False)
    )
    return Round(
        criteria,
        entries,
        evaluations,
        Settings(
            advance_quota=quota,
            passing_grade=passing,
            spread_threshold=threshold,
            normalise=draw(normalise),
        ),
    )


def run(r: Round) -> list[Ranked]:
    return rank(r.criteria, r.entries, r.evaluations, r.settings)


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(rounds())
def test_rank_matches_an_independent_recomputation(r: Round) -> None:
    got = run(r)
    expected = reference(r.criteria, r.entries, r.evaluations, r.settings)

    assert [item.submission_id for item in got] == [row.submission_id for row in expected]
    assert [item.rank for item in got] == list(range(1, len(r.entries) + 1))
    for item, row in zip(got, expected, strict=True):
        assert item.score == row.score
        assert item.spread == row.spread
        if item.score is not None:
            assert item.score.as_tuple().exponent == -3
        assert item.flagged is row.flagged
        assert item.advances is row.advances
        assert {t.evaluator_id: (t.assignment_id, t.total, t.counted) for t in item.totals} == {
            eid: (aid, round3(value), round3(value)) for eid, (aid, value) in row.totals.items()
        }
        assert len(item.totals) == len(row.totals)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_rank_does_not_depend_on_input_order(data: st.DataObject) -> None:
    r = data.draw(rounds(normalise=st.booleans()))
    entries = data.draw(st.permutations(r.entries))
    evaluations = data.draw(st.permutations(r.evaluations))
    first = run(r)
    again = rank(r.criteria, entries, evaluations, r.settings)
    assert again == first
    assert repr(again) == repr(first)  # down to each Decimal's exponent


@settings(max_examples=200, deadline=None)
@given(rounds(normalise=st.just(True)))
def test_normalised_totals(r: Round) -> None:
    got = run(r)
    totals = raw_totals(r.criteria, r.entries, r.evaluations)
    flat = [value for own in totals.values() for _, value in own.values()]
    expected = reference_normalised(totals)
    # Each `counted` is rounded to 3 places: it and any mean of such values can sit up to half
    # a thousandth away from the unrounded value (plus the 50-digit arithmetic's dust).
    half = Decimal("0.0005") + Decimal("1e-30")

    counted: dict[uuid.UUID, list[Decimal]] = defaultdict(list)
    raw_of: dict[uuid.UUID, list[Fraction]] = defaultdict(list)
    for item in got:
        own = totals.get(item.submission_id, {})
        assert {t.evaluator_id for t in item.totals} == set(own)
        for t in item.totals:
            raw = own[t.evaluator_id][1]
            assert t.total == round3(raw)  # the raw total is still reported as such
            assert abs(t.counted - expected[item.submission_id, t.evaluator_id]) <= half
            counted[t.evaluator_id].append(t.counted)
            raw_of[t.evaluator_id].append(raw)
        if own:
            values = [expected[item.submission_id, eid] for eid in own]
            assert item.score is not None
            assert abs(item.score - sum(values, Decimal(0)) / len(values)) <= half
            raws = [value for _, value in own.values()]
            assert item.spread == round3(max(raws) - min(raws))  # spread stays raw
        else:
            assert item.score is None

    if not flat:
        return
    round_mean = sum(flat, Fraction(0)) / len(flat)
    round_mean_dec = Decimal(round_mean.numerator) / Decimal(round_mean.denominator)
    for evaluator, values in counted.items():
        mean = sum(values, Decimal(0)) / len(values)
        # By the definition, an evaluator's z-scores sum to 0, so the mean of their normalised
        # totals is the round mean exactly; only the 3-place rounding of `counted` remains.
        assert abs(mean - round_mean_dec) <= half
        if len(set(raw_of[evaluator])) == 1:  # all equal: z = 0, each total is the round mean
            assert all(abs(v - round_mean_dec) <= half for v in values)
            assert len(set(values)) == 1


# ---------------------------------------------------------------------------------------------
# Hand-built examples
# ---------------------------------------------------------------------------------------------

GROUP = uuid.UUID(int=0xA)
PLAIN = Criterion(uuid.UUID(int=0xC), GROUP, 100, 0, 100)  # a total is this one score
WHEN = datetime(2023, 6, 1, 9, 0, tzinfo=UTC)
A, B, C = uuid.UUID(int=0xA1), uuid.UUID(int=0xB1), uuid.UUID(int=0xC1)


def sid(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def entry(n: int, at: datetime | None = WHEN) -> Entry:
    return Entry(sid(n), GROUP, at)


def scored(n: int, evaluator: uuid.UUID, score: int | str) -> Evaluation:
    """An evaluation of entry `n` on the single 0..100 criterion: its total is `score`."""
    return Evaluation(uuid.uuid4(), sid(n), evaluator, {PLAIN.id: Decimal(score)})


def by_id(result: list[Ranked]) -> dict[uuid.UUID, Ranked]:
    return {item.submission_id: item for item in result}


def order(result: list[Ranked]) -> list[int]:
    return [item.submission_id.int for item in result]


def plain_rank(
    entries: list[Entry], evaluations: list[Evaluation], **round_settings: object
) -> list[Ranked]:
    return rank([PLAIN], entries, evaluations, Settings(**round_settings))  # type: ignore[arg-type]


def test_kipp_2023_general_group_weights() -> None:
    weights = (0, 10, 15, 5, 30, 20, 5, 15)
    criteria = [Criterion(uuid.uuid4(), GROUP, w, 0, 100) for w in weights]
    scores = (80, 70, 90, 60, 85, 75, 50, 95)
    evaluation = Evaluation(
        uuid.uuid4(),
        sid(1),
        A,
        {c.id: Decimal(s) for c, s in zip(criteria, scores, strict=True)},
    )
    [item] = rank(criteria, [entry(1)], [evaluation], Settings())
    # (0*80 + 10*70 + 15*90 + 5*60 + 30*85 + 20*75 + 5*50 + 15*95) / 100
    assert item.score == Decimal("80.750")
    assert str(item.score) == "80.750"
    assert item.totals[0].total == Decimal("80.750")
    assert item.spread == Decimal(0)
    assert item.rank == 1
    assert item.advances


def test_one_to_five_criteria_are_scaled_to_0_100() -> None:
    criteria = [Criterion(uuid.UUID(int=k), GROUP, 25, 1, 5) for k in range(1, 5)]

    def evaluation(n: int, *scores: int) -> Evaluation:
        return Evaluation(
            uuid.uuid4(),
            sid(n),
            A,
            {c.id: Decimal(s) for c, s in zip(criteria, scores, strict=True)},
        )

    result = by_id(
        rank(
            criteria,
            [entry(1), entry(2), entry(3), entry(4)],
            [
                evaluation(1, 5, 5, 5, 5),
                evaluation(2, 1, 1, 1, 1),
                evaluation(3, 1, 5, 3, 4),  # 25 * (0 + 1 + 1/2 + 3/4)
                Evaluation(uuid.uuid4(), sid(4), A, {criteria[0].id: Decimal(5)}),
            ],
            Settings(),
        )
    )
    assert result[sid(1)].score == Decimal(100)
    assert result[sid(2)].score == Decimal(0)
    assert result[sid(3)].score == Decimal("56.250")
    # A criterion without a score counts as its minimum.
    assert result[sid(4)].score == Decimal(25)


def test_score_is_the_mean_rounded_half_even() -> None:
    small = Criterion(uuid.UUID(int=0xD1), GROUP, 10, 0, 100)  # a score of 0.01 gives 0.001
    rest = Criterion(uuid.UUID(int=0xD2), GROUP, 90, 0, 100)

    def evaluation(n: int, evaluator: uuid.UUID, score: str) -> Evaluation:
        return Evaluation(
            uuid.uuid4(), sid(n), evaluator, {small.id: Decimal(score), rest.id: Decimal(0)}
        )

    result = by_id(
        rank(
            [small, rest],
            [entry(1), entry(2), entry(3)],
            [
                evaluation(1, A, "0.01"),  # mean (0.001 + 0) / 2 = 0.0005 -> 0.000
                evaluation(1, B, "0"),
                evaluation(2, A, "0.03"),  # 0.0015 -> 0.002
                evaluation(2, B, "0"),
                evaluation(3, A, "0.05"),  # 0.0025 -> 0.002
                evaluation(3, B, "0"),
            ],
            Settings(),
        )
    )
    assert str(result[sid(1)].score) == "0.000"
    assert str(result[sid(2)].score) == "0.002"
    assert str(result[sid(3)].score) == "0.002"
    assert str(result[sid(3)].spread) == "0.005"


SCORES = {1: 90, 2: 80, 3: 70, 4: 60, 5: 50}


def five_scored_and_one_not(**round_settings: object) -> list[Ranked]:
    entries = [entry(n) for n in range(1, 7)]
    evaluations = [scored(n, A, s) for n, s in SCORES.items()]
    return plain_rank(entries, evaluations, **round_settings)


def advancing(result: list[Ranked]) -> list[int]:
    return [item.submission_id.int for item in result if item.advances]


def test_quota_only() -> None:
    assert advancing(five_scored_and_one_not(advance_quota=2)) == [1, 2]
    # A quota above the number of scored entries never takes in an unscored one.
    assert advancing(five_scored_and_one_not(advance_quota=6)) == [1, 2, 3, 4, 5]


def test_passing_grade_only() -> None:
    # Reaching the grade is enough: 70 with a grade of 70 advances.
    assert advancing(five_scored_and_one_not(passing_grade=Decimal(70))) == [1, 2, 3]
    assert advancing(five_scored_and_one_not(passing_grade=Decimal("70.001"))) == [1, 2]
    # A grade of 0 still leaves out the entry without a score.
    assert advancing(five_scored_and_one_not(passing_grade=Decimal(0))) == [1, 2, 3, 4, 5]


def test_quota_and_passing_grade() -> None:
    # At most the quota, among those at or above the grade.
    both = five_scored_and_one_not(advance_quota=2, passing_grade=Decimal(60))
    assert advancing(both) == [1, 2]
    fewer = five_scored_and_one_not(advance_quota=4, passing_grade=Decimal(75))
    assert advancing(fewer) == [1, 2]


def test_neither_quota_nor_grade_advances_every_scored_entry() -> None:
    entries = [entry(1), entry(2), entry(3)]
    result = plain_rank(entries, [scored(1, A, 0), scored(2, A, 40)])
    assert advancing(result) == [2, 1]
    assert by_id(result)[sid(3)].score is None
    assert not by_id(result)[sid(3)].advances


def test_unscored_entries_rank_last_and_never_advance() -> None:
    early = WHEN - timedelta(days=30)
    entries = [entry(1, early), entry(2, early - timedelta(days=1)), entry(3), entry(4, None)]
    # Entry 3 scores 0 (a submitted evaluation with the minimum); 1, 2 and 4 have none, and
    # an evaluation of an entry not in the round is ignored.
    result = plain_rank(entries, [scored(3, A, 0), scored(99, A, 100)], passing_grade=Decimal(0))
    assert order(result) == [3, 2, 1, 4]  # unscored among themselves: earlier, then never sent
    assert [item.rank for item in result] == [1, 2, 3, 4]
    assert [item.advances for item in result] == [True, False, False, False]
    assert all(item.score is None and item.spread is None for item in result[1:])
    assert all(not item.flagged and not item.totals for item in result[1:])


def test_tie_break_equal_score_smaller_spread_wins() -> None:
    # Entry 1: 40 and 60 (spread 20); entry 2: 50 and 50 (spread 0); both score 50. Entry 1 is
    # sent earlier and has the smaller id, yet the smaller spread wins.
    entries = [entry(1, WHEN - timedelta(hours=1)), entry(2, WHEN)]
    evaluations = [scored(1, A, 40), scored(1, B, 60), scored(2, A, 50), scored(2, B, 50)]
    result = plain_rank(entries, evaluations)
    assert [item.score for item in result] == [Decimal(50), Decimal(50)]
    assert order(result) == [2, 1]
    assert [item.spread for item in result] == [Decimal(0), Decimal(20)]


def test_tie_break_equal_spread_earlier_submission_wins() -> None:
    entries = [entry(1, WHEN), entry(2, WHEN - timedelta(seconds=1)), entry(3, None)]
    evaluations = [scored(n, e, s) for n in (1, 2, 3) for e, s in ((A, 45), (B, 55))]
    assert order(plain_rank(entries, evaluations)) == [2, 1, 3]


def test_tie_break_all_equal_smaller_id_wins() -> None:
    # The same instant written in two offsets is the same submission time.
    jakarta = WHEN.astimezone(timezone(timedelta(hours=7)))
    ids = [uuid.UUID("f0000000-0000-0000-0000-000000000000"), sid(2), sid(1)]
    entries = [
        Entry(ids[0], GROUP, WHEN),
        Entry(ids[1], GROUP, jakarta),
        Entry(ids[2], GROUP, WHEN),
    ]
    evaluations = [Evaluation(uuid.uuid4(), i, A, {PLAIN.id: Decimal(70)}) for i in ids]
    result = rank([PLAIN], entries, evaluations, Settings())
    assert [item.submission_id for item in result] == [sid(1), sid(2), ids[0]]
    assert [item.rank for item in result] == [1, 2, 3]


def test_the_steps_in_turn() -> None:
    # One round in which every step of the tie-break decides something.
    entries = [
        entry(1, WHEN),  # 70, spread 0
        entry(2, WHEN),  # 70, spread 10
        entry(3, WHEN - timedelta(minutes=5)),  # 70, spread 10, sent earlier
        entry(4, WHEN),  # 70, spread 0, same time as 1, larger id
        entry(5, WHEN - timedelta(days=1)),  # 60: a lower score, whatever else
        entry(6, WHEN - timedelta(days=2)),  # no evaluation
    ]
    evaluations = [
        scored(1, A, 70),
        scored(1, B, 70),
        scored(2, A, 65),
        scored(2, B, 75),
        scored(3, A, 75),
        scored(3, B, 65),
        scored(4, A, 70),
        scored(4, B, 70),
        scored(5, A, 60),
    ]
    assert order(plain_rank(entries, evaluations)) == [1, 4, 3, 2, 5, 6]


def test_flag_needs_two_evaluators_and_a_spread_above_the_threshold() -> None:
    entries = [entry(n) for n in range(1, 5)]
    evaluations = [
        scored(1, A, 40),
        scored(1, B, 61),  # spread 21 > 20
        scored(2, A, 40),
        scored(2, B, 60),  # spread 20: equal to the threshold, not flagged
        scored(3, A, 100),  # a single evaluator
        scored(4, A, "40"),
        scored(4, B, "60.01"),  # spread 20.01 > 20
    ]
    result = by_id(plain_rank(entries, evaluations))
    assert result[sid(1)].flagged
    assert result[sid(1)].spread == Decimal(21)
    assert not result[sid(2)].flagged
    assert result[sid(2)].spread == Decimal(20)
    assert not result[sid(3)].flagged
    assert result[sid(4)].flagged

    custom = by_id(plain_rank(entries, evaluations, spread_threshold=Decimal(21)))
    assert not custom[sid(1)].flagged
    assert custom[sid(4)].flagged is False
    # Even a threshold every spread exceeds never flags an entry with a single evaluator.
    negative = by_id(plain_rank(entries, evaluations, spread_threshold=Decimal(-1)))
    assert not negative[sid(3)].flagged
    assert negative[sid(2)].flagged


def counted_of(result: list[Ranked], evaluator: uuid.UUID) -> list[Decimal]:
    return [t.counted for item in result for t in item.totals if t.evaluator_id == evaluator]


def test_normalise_lenient_and_harsh_evaluators_agree_in_order() -> None:
    entries = [entry(n) for n in range(1, 5)]
    lenient = (95, 92, 89, 86)
    harsh = (58, 52, 49, 41)  # around 50, same order, different spacing
    evaluations = [scored(n, A, s) for n, s in zip(range(1, 5), lenient, strict=True)]
    evaluations += [scored(n, B, s) for n, s in zip(range(1, 5), harsh, strict=True)]
    result = plain_rank(entries, evaluations, normalise=True)
    assert order(result) == [1, 2, 3, 4]
    a, b = counted_of(result, A), counted_of(result, B)
    assert a == sorted(a, reverse=True)
    assert len(set(a)) == 4
    assert b == sorted(b, reverse=True)
    assert len(set(b)) == 4
    # The raw totals are still reported as given, and the spread is between raw totals.
    assert [t.total for item in result for t in item.totals if t.evaluator_id == A] == [
        Decimal(s) for s in lenient
    ]
    assert by_id(result)[sid(4)].spread == Decimal(45)


def test_normalise_shifted_evaluator_counts_the_same() -> None:
    entries = [entry(n) for n in range(1, 5)]
    evaluations = [scored(n, A, s) for n, s in zip(range(1, 5), (95, 92, 89, 86), strict=True)]
    evaluations += [scored(n, B, s) for n, s in zip(range(1, 5), (55, 52, 49, 46), strict=True)]
    result = plain_rank(entries, evaluations, normalise=True)
    assert order(result) == [1, 2, 3, 4]
    assert counted_of(result, A) == counted_of(result, B)  # same z-scores
    assert all(item.spread == Decimal(40) and item.flagged for item in result)
    # Without normalisation the shift shows: every entry is (A + B) / 2.
    raw = plain_rank(entries, evaluations)
    assert [item.score for item in raw] == [Decimal(75), Decimal(72), Decimal(69), Decimal(66)]


def test_normalise_changes_who_wins_between_lenient_and_harsh_evaluators() -> None:
    entries = [entry(n) for n in range(1, 7)]
    evaluations = [scored(n, A, s) for n, s in zip(range(1, 5), (95, 92, 89, 86), strict=True)]
    evaluations += [scored(n, B, s) for n, s in zip(range(1, 5), (58, 52, 49, 41), strict=True)]
    evaluations += [scored(5, B, 56), scored(6, A, 85)]  # B's second best, A's worst
    raw = plain_rank(entries, evaluations)
    assert order(raw) == [6, 1, 2, 3, 4, 5]
    # z by A: (95, 92, 89, 86, 85) mean 89.4; by B: (58, 52, 49, 41, 56) mean 51.2.
    # Mean z per entry: 1: 1.32, 5: 0.80, 2: 0.42, 3: -0.24, 6: -1.18, 4: -1.31.
    normalised = plain_rank(entries, evaluations, normalise=True)
    assert order(normalised) == [1, 5, 2, 3, 6, 4]


def test_normalise_constant_evaluator_contributes_the_round_mean() -> None:
    entries = [entry(n) for n in range(1, 5)]
    evaluations = [scored(n, A, s) for n, s in zip(range(1, 5), (95, 92, 89, 86), strict=True)]
    evaluations += [scored(n, C, 70) for n in range(1, 5)]
    result = plain_rank(entries, evaluations, normalise=True)
    # Round mean of every raw total: (95 + 92 + 89 + 86 + 4 * 70) / 8 = 80.25; C's z is 0.
    assert counted_of(result, C) == [Decimal("80.250")] * 4
    assert [t.total for item in result for t in item.totals if t.evaluator_id == C] == [
        Decimal(70)
    ] * 4
    assert order(result) == [1, 2, 3, 4]


def test_normalise_with_a_single_constant_evaluator() -> None:
    # Every total equal: the round deviation and the evaluator's are 0, each total is the mean.
    entries = [entry(n) for n in range(1, 4)]
    result = plain_rank(entries, [scored(n, A, 64) for n in range(1, 4)], normalise=True)
    assert [item.score for item in result] == [Decimal(64)] * 3
    assert order(result) == [1, 2, 3]


def test_normalised_score_does_not_depend_on_the_order_of_evaluations() -> None:
    # Three entries, each in its own group and scored by its own evaluator: every evaluator's
    # totals are all equal, so z = 0 and every entry's score is the round mean, exactly
    # (1070/11 + 135/7 + 12149993/154000) / 3 = 65.1515, which is 65.152 half-even.
    groups = [uuid.UUID(int=0x100 + k) for k in range(3)]
    first = Criterion(uuid.UUID(int=0x201), groups[0], 100, 0, 11)
    second = Criterion(uuid.UUID(int=0x202), groups[1], 100, 0, 7)
    third = [
        Criterion(uuid.UUID(int=0x203), groups[2], 1, 0, 7),
        Criterion(uuid.UUID(int=0x204), groups[2], 2, 0, 11),
        Criterion(uuid.UUID(int=0x205), groups[2], 97, 0, 100),
    ]
    entries = [Entry(sid(k + 1), groups[k], None) for k in range(3)]
    evaluations = [
        Evaluation(
            uuid.UUID(int=0x301), sid(1), uuid.UUID(int=0x401), {first.id: Decimal("10.70")}
        ),
        Evaluation(
            uuid.UUID(int=0x302), sid(2), uuid.UUID(int=0x402), {second.id: Decimal("1.35")}
        ),
        Evaluation(
            uuid.UUID(int=0x303),
            sid(3),
            uuid.UUID(int=0x403),
            {
                third[0].id: Decimal("0.03"),
                third[1].id: Decimal("2.57"),
                third[2].id: Decimal("80.85"),
            },
        ),
    ]
    totals = raw_totals([first, second, *third], entries, evaluations)
    flat = [value for own in totals.values() for _, value in own.values()]
    assert sum(flat, Fraction(0)) / 3 == Fraction(651515, 10000)

    seen = set()
    for ordering in itertools.permutations(evaluations):
        result = rank([first, second, *third], entries, list(ordering), Settings(normalise=True))
        seen.add(tuple(str(item.score) for item in result))
    assert seen == {("65.152", "65.152", "65.152")}
