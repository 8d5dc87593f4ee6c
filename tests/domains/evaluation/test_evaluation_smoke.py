"""The evaluation's path end to end: assign, score, rank, close two rounds."""

from __future__ import annotations

from tests.domains.evaluation.conftest import EvalWorld


async def test_two_rounds_end_to_end(ew: EvalWorld) -> None:
    a = await ew.entry(ew.surabaya)
    b = await ew.entry(ew.medan)
    c = await ew.entry(ew.ministry)
    d = await ew.entry(ew.surabaya)
    e1, e2 = ew.evaluators["dosen_a"], ew.evaluators["dosen_b"]
    for entry, value in ((a, 90), (b, 80), (c, 70), (d, 60)):
        await ew.scored(ew.round1, entry, e1, value)
        await ew.scored(ew.round1, entry, e2, value + 2)
    ranking = await ew.ranking(ew.round1)
    assert [item["submission_id"] for item in ranking["entries"]] == [
        str(a.id),
        str(b.id),
        str(c.id),
        str(d.id),
    ]
    assert [item["score"] for item in ranking["entries"]] == [91.0, 81.0, 71.0, 61.0]
    assert [item["advances"] for item in ranking["entries"]] == [True, True, True, False]
    closed = await ew.close(ew.round1)
    assert closed.status_code == 200, closed.text
    assert closed.json()["advanced"] == 3
    for entry, value in ((a, 3), (b, 5), (c, 4)):
        await ew.scored(ew.round2, entry, e1, value)
    closed = await ew.close(ew.round2)
    assert closed.status_code == 200, closed.text
    response = await ew.client.get(f"/v1/submissions/{b.id}", headers=ew.admin)
    assert response.json()["status"] == "finalist"
    response = await ew.client.get(f"/v1/submissions/{d.id}", headers=ew.admin)
    assert response.json()["status"] == "eliminated"
