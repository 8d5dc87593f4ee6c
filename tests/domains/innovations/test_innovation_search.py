"""Searching the catalogue with `q`: what the demo data's users type finds the right innovation
first, drafts and archived records stay hidden from the public, snippets are safe HTML, the
ranking prefers title matches, odd input never breaks the search, and relevance cursors walk
every match once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InnovationStage, InnovationStatus, InstitutionKind
from app.models.innovations import Innovation
from app.models.institutions import Unit
from app.seed.demo import load_demo
from tests.conftest import COMPLETE_SECTIONS, InnovationFactory, InstitutionFactory, UnitFactory

Headers = dict[str, str]
PUBLISHED = InnovationStatus.published
DEMI = (
    "Demi Sepeda Bagus: Sebuah Model Layanan Publik Berkebutuhan Khusus melalui PKBM, Inklusi "
    "Sosial, Pendidikan Keluarga, Kolaborasi Stakeholder dan Pembelajaran Berdiferensiasi"
)


@pytest.fixture
async def demo(session: AsyncSession) -> None:
    """The demo institutions, units and innovations, inside the test's transaction."""
    await load_demo(session)


@pytest.fixture
async def search_unit(make_institution: InstitutionFactory, make_unit: UnitFactory) -> Unit:
    """A unit of a city government of our own, for hand-made search records."""
    city = await make_institution(
        name="Pemerintah Kota Uji Cari", kind=InstitutionKind.pemkot, region_code="12.71"
    )
    return await make_unit(city, name="Bagian Organisasi Kota Uji Cari")


async def search(
    client: httpx.AsyncClient, q: str, headers: Headers | None = None, **params: Any
) -> dict[str, Any]:
    response = await client.get(
        "/v1/innovations", params={"q": q, "limit": 100, **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def titles(body: dict[str, Any]) -> list[str]:
    return [item["title"] for item in body["items"]]


# --- what people type finds the innovation first ------------------------------------------


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("sikulin", "SIKULIN"),
        ("SIKULIN", "SIKULIN"),
        ("Sikulin", "SIKULIN"),
        ("sikulim", "SIKULIN"),
        ("jarik masiti", "Jarik Ma'Siti"),
        ("Jarik Ma'Siti", "Jarik Ma'Siti"),
        ("majatoki", "MAJATOKI"),
        ("voice to text", "VTT"),
        ("toilet", "MAJATOKI"),
        ("kunjungan online", "SIKULIN"),
        ("sepeda", DEMI),
        ("e-reses", "E-Reses"),
        ("simasdu", "SIMASDU"),
        ("emas hitam", "Emas Hitam di Balik Tumpukan Sampah"),
        ("sekolah pasar", "SEPASAR PEDAS"),
    ],
)
async def test_search_finds_the_demo_innovation_first(
    client: httpx.AsyncClient, demo: None, q: str, expected: str
) -> None:
    found = titles(await search(client, q))
    assert found, f"{q!r} found nothing"
    assert found[0] == expected, found


@pytest.mark.parametrize(("q", "title"), [("e-kuesioner", "E-Kuesioner"), ("e-surat", "E-Surat")])
async def test_search_never_shows_drafts_or_archived_records_to_the_public(
    client: httpx.AsyncClient, demo: None, q: str, title: str
) -> None:
    assert title not in titles(await search(client, q))


@pytest.mark.parametrize(
    ("q", "title", "status"),
    [("e-kuesioner", "E-Kuesioner", "draft"), ("e-surat", "E-Surat", "archived")],
)
async def test_search_shows_drafts_and_archived_records_to_the_secretariat(
    client: httpx.AsyncClient, demo: None, admin: Headers, q: str, title: str, status: str
) -> None:
    body = await search(client, q, admin)
    assert body["items"][0]["title"] == title, titles(body)
    assert body["items"][0]["status"] == status


# --- snippets -------------------------------------------------------------------------------


async def test_snippet_marks_the_matched_word(client: httpx.AsyncClient, demo: None) -> None:
    body = await search(client, "toilet")
    first = body["items"][0]
    assert first["title"] == "MAJATOKI"
    assert "<mark>Toilet</mark>" in first["snippet"] or "<mark>toilet</mark>" in first["snippet"]


async def test_snippet_is_absent_without_q(client: httpx.AsyncClient, demo: None) -> None:
    response = await client.get("/v1/innovations", params={"limit": 5})
    assert response.status_code == 200, response.text
    assert all(item["snippet"] is None for item in response.json()["items"])


async def test_snippet_escapes_html_in_the_text(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    sections = {
        **COMPLETE_SECTIONS,
        "summary": 'Formulir <img src=x onerror=alert(1)> & "cepat" untuk pendaftaran kelurahan.',
    }
    await make_innovation(search_unit, PUBLISHED, title="SIDAFTAR", sections=sections)
    body = await search(client, "pendaftaran")
    assert titles(body) == ["SIDAFTAR"]
    snippet = body["items"][0]["snippet"]
    assert "&lt;img src=x onerror=alert(1)&gt; &amp; &quot;cepat&quot;" in snippet
    assert "<img" not in snippet
    assert "<mark>pendaftaran</mark>" in snippet
    # The only markup left is the marks themselves.
    assert snippet.replace("<mark>", "").replace("</mark>", "").count("<") == 0


SCRIPT_SUMMARY = 'Formulir <script>alert("x")</script> untuk pendaftaran kelurahan daring.'


async def test_snippet_never_contains_a_script_tag(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    sections = {**COMPLETE_SECTIONS, "summary": SCRIPT_SUMMARY}
    await make_innovation(search_unit, PUBLISHED, title="SIDAFTAR", sections=sections)
    snippet = (await search(client, "pendaftaran"))["items"][0]["snippet"]
    assert "<script" not in snippet.lower()
    assert "<mark>pendaftaran</mark>" in snippet


async def test_snippet_shows_tag_like_text_escaped_rather_than_dropping_it(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    sections = {**COMPLETE_SECTIONS, "summary": SCRIPT_SUMMARY}
    await make_innovation(search_unit, PUBLISHED, title="SIDAFTAR", sections=sections)
    snippet = (await search(client, "pendaftaran"))["items"][0]["snippet"]
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in snippet


async def test_snippet_marks_only_matched_words(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    sections = {**COMPLETE_SECTIONS, "summary": "Layanan \ue000palsu\ue001 untuk pendaftaran."}
    await make_innovation(search_unit, PUBLISHED, title="SIDAFTAR", sections=sections)
    snippet = (await search(client, "pendaftaran"))["items"][0]["snippet"]
    assert snippet.count("<mark>") == snippet.count("</mark>") == 1, snippet


# --- ranking --------------------------------------------------------------------------------


async def test_a_title_match_ranks_above_a_newer_match_in_a_later_section(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    now = datetime.now(UTC)
    in_title = await make_innovation(
        search_unit,
        PUBLISHED,
        title="POSYANDU DIGITAL",
        acronym_expansion="Pos Pelayanan Terpadu Digital",
        created_at=now - timedelta(days=400),
    )
    in_section = await make_innovation(
        search_unit,
        PUBLISHED,
        title="SIGAP WARGA",
        sections={
            **COMPLETE_SECTIONS,
            "sustainability_strategy": "Bekerja sama dengan kader posyandu setiap bulan.",
        },
        created_at=now,
    )
    body = await search(client, "posyandu")
    assert [item["id"] for item in body["items"]] == [str(in_title.id), str(in_section.id)]
    # Without `q`'s relevance the newer one comes first: the order above is the ranking's.
    newest = await search(client, "posyandu", sort="-created_at")
    assert [item["id"] for item in newest["items"]] == [str(in_section.id), str(in_title.id)]


async def test_relevance_sort_without_q_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/innovations", params={"sort": "relevance"})
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "innovation.relevance_needs_q"


# --- odd input ------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["...", "!?!", "-", "yang dan di", "dan", "&&&", "( )", "“”"])
async def test_punctuation_or_stop_words_only_is_not_an_error(
    client: httpx.AsyncClient, demo: None, q: str
) -> None:
    await search(client, q)


@pytest.mark.parametrize(
    "q",
    [
        "'",
        "dewan'",
        "o'brien",
        "dewan & warga",
        "dewan | warga",
        "!dewan",
        "dewan:*",
        "sik:*",
        "\\",
        "dewan\\",
        "%",
        "dewan%",
        "_",
        "e_surat",
        "'; DROP TABLE innovations; --",
        '"dewan',
        "dewan <-> warga",
        "(dewan",
    ],
)
async def test_query_metacharacters_are_searched_as_text(
    client: httpx.AsyncClient, demo: None, q: str
) -> None:
    await search(client, q)


async def test_percent_and_underscore_are_not_wildcards(
    client: httpx.AsyncClient, demo: None
) -> None:
    assert titles(await search(client, "%")) == []
    assert titles(await search(client, "_")) == []


# --- relevance cursors ----------------------------------------------------------------------


async def walk(client: httpx.AsyncClient, params: dict[str, Any]) -> list[str]:
    """Every id of the list, following cursors one page at a time."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(200):
        response = await client.get(
            "/v1/innovations", params={**params, **({"cursor": cursor} if cursor else {})}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        ids += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        assert body["has_more"] is (cursor is not None)
        if cursor is None:
            return ids
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize("q", ["dewan", "sistem informasi", "inklusi", "elektronik"])
async def test_relevance_cursors_visit_every_match_once_in_order(
    client: httpx.AsyncClient, demo: None, q: str
) -> None:
    one_page = [item["id"] for item in (await search(client, q))["items"]]
    assert len(one_page) >= 2, f"{q!r} should match several demo innovations"
    assert await walk(client, {"q": q, "limit": 1}) == one_page


async def test_relevance_cursors_survive_equal_ranks(
    client: httpx.AsyncClient, session: AsyncSession, search_unit: Unit
) -> None:
    """Records that rank exactly alike are still visited once each (ties broken by id)."""
    records = [
        Innovation(
            institution_id=search_unit.institution_id,
            unit_id=search_unit.id,
            title="LAYANAN KEMBAR",
            year_started=2021,
            is_digital=True,
            stage=InnovationStage.penerapan,
            sdgs=[16],
            sections=dict(COMPLETE_SECTIONS),
            status=PUBLISHED,
            published_at=datetime.now(UTC),
        )
        for _ in range(7)
    ]
    session.add_all(records)
    await session.flush()
    walked = await walk(client, {"q": "kembar", "limit": 2})
    assert sorted(walked) == sorted(str(r.id) for r in records)
    assert walked == sorted(walked, reverse=True)


# --- typos: the vocabulary of title words ---------------------------------------------------


async def test_a_typo_finds_a_new_records_title_word(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    await make_innovation(
        search_unit,
        PUBLISHED,
        title="SIPANDAWA",
        acronym_expansion="Sistem Pelayanan Dana Warga",
    )
    assert titles(await search(client, "sipandawe")) == ["SIPANDAWA"]
    assert titles(await search(client, "pelayanen dana")) == ["SIPANDAWA"]


async def test_a_typo_finds_a_renamed_records_new_title(
    client: httpx.AsyncClient,
    session: AsyncSession,
    search_unit: Unit,
    make_innovation: InnovationFactory,
) -> None:
    record = await make_innovation(search_unit, PUBLISHED, title="SILAKON")
    record.title = "SIRAMBUTAN"
    await session.flush()
    assert titles(await search(client, "sirambutan")) == ["SIRAMBUTAN"]
    # The old title's word stays in the vocabulary, and finds nothing.
    assert titles(await search(client, "silakon")) == []
    assert titles(await search(client, "sirambutam")) == ["SIRAMBUTAN"]


async def test_a_word_that_is_a_title_word_is_not_corrected(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    await make_innovation(search_unit, PUBLISHED, title="SIRAMAH")
    await make_innovation(search_unit, PUBLISHED, title="SIRAMAI")
    assert titles(await search(client, "siramai")) == ["SIRAMAI"]
    assert titles(await search(client, "siramah")) == ["SIRAMAH"]
    # A word no title has is matched against the titles' words most like it.
    assert sorted(titles(await search(client, "siramau"))) == ["SIRAMAH", "SIRAMAI"]


async def test_every_typed_word_must_match_a_title_word_or_the_text(
    client: httpx.AsyncClient, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    await make_innovation(
        search_unit, PUBLISHED, title="SIPANDAWA", acronym_expansion="Sistem Pelayanan Dana Warga"
    )
    assert titles(await search(client, "sipandawe qwxzvk")) == []


async def test_words_of_records_written_in_one_statement_are_all_collected(
    session: AsyncSession, search_unit: Unit
) -> None:
    session.add_all(
        [
            Innovation(
                institution_id=search_unit.institution_id,
                unit_id=search_unit.id,
                title=f"KATA{n}",
                acronym_expansion=f"Kosakata Ma'Ujian{n}",
                year_started=2021,
                is_digital=True,
                stage=InnovationStage.penerapan,
                sdgs=[16],
                sections=dict(COMPLETE_SECTIONS),
            )
            for n in range(5)
        ]
    )
    await session.flush()
    words = set(
        (
            await session.execute(
                text("SELECT word FROM innovation_words WHERE word LIKE 'kata_' OR word ~ 'ujian'")
            )
        ).scalars()
    )
    assert words == {f"kata{n}" for n in range(5)} | {f"maujian{n}" for n in range(5)}


async def test_the_word_trigger_never_reads_the_trigram_index(session: AsyncSession) -> None:
    """pg_trgm's GIN index answers `=` as well, and the planner rated it cheaper than the
    primary key for the trigger's per-word lookups: 8 ms a word instead of 0.002 ms, a bulk
    load 500 times slower (migration 0008, bench/README.md). GIN is read only by bitmap scans."""
    config = (
        await session.execute(
            text("SELECT proconfig FROM pg_proc WHERE proname = 'innovation_words_collect'")
        )
    ).scalar_one()
    assert config == ["enable_bitmapscan=off"]


async def test_a_typo_of_a_drafts_title_reveals_nothing_to_the_public(
    client: httpx.AsyncClient,
    search_unit: Unit,
    make_innovation: InnovationFactory,
    admin: Headers,
) -> None:
    await make_innovation(search_unit, title="SIRAHASIA")
    assert titles(await search(client, "sirahasio")) == []
    assert titles(await search(client, "sirahasio", admin)) == ["SIRAHASIA"]


async def test_a_drafts_title_word_changes_nothing_the_public_finds(
    client: httpx.AsyncClient,
    session: AsyncSession,
    search_unit: Unit,
    make_innovation: InnovationFactory,
    admin: Headers,
) -> None:
    """Only published titles' words are taken as typed: were a draft's words too, a public
    search for one would stop finding the titles like it, and so tell that the draft exists."""
    await make_innovation(search_unit, PUBLISHED, title="SIRAHASIO")
    before = titles(await search(client, "sirahasia"))
    draft = await make_innovation(search_unit, title="SIRAHASIA")
    assert titles(await search(client, "sirahasia")) == before == ["SIRAHASIO"]
    assert titles(await search(client, "sirahasia", admin)) == ["SIRAHASIA", "SIRAHASIO"]
    # Once published, the word is public and taken as typed.
    await session.execute(
        update(Innovation)
        .where(Innovation.id == draft.id)
        .values(status=PUBLISHED, published_at=datetime.now(UTC))
    )
    assert titles(await search(client, "sirahasia")) == ["SIRAHASIA"]


async def test_typo_alternatives_come_from_published_titles_unless_the_caller_sees_all(
    session: AsyncSession, search_unit: Unit, make_innovation: InnovationFactory
) -> None:
    """A draft's word, once stemmed, could match a published title: only the secretariat's
    searches (which see every draft anyway) take drafts' words as alternatives."""
    await make_innovation(search_unit, PUBLISHED, title="SIRAHASIO")
    await make_innovation(search_unit, title="SIRAHASIU")

    async def alternatives(published_only: bool) -> str:
        query = text("SELECT innovation_fuzzy_tsquery('sirahasix', :only)::text")
        return str((await session.execute(query, {"only": published_only})).scalar_one())

    assert "sirahasio" in await alternatives(True)
    assert "sirahasiu" not in await alternatives(True)
    assert "sirahasiu" in await alternatives(False)


async def test_a_word_of_a_published_records_text_is_taken_as_typed(
    client: httpx.AsyncClient,
    search_unit: Unit,
    make_innovation: InnovationFactory,
    admin: Headers,
) -> None:
    """A word some published record's sections contain is no typo (migration 0012): it finds
    those records, and no longer the titles that merely look like it."""
    sections = dict(COMPLETE_SECTIONS, summary="Warga menjalankan gotongrayong setiap pekan.")
    await make_innovation(search_unit, PUBLISHED, title="SIBERKAS", sections=sections)
    await make_innovation(search_unit, PUBLISHED, title="GOTONGRAYON")
    assert titles(await search(client, "gotongrayong")) == ["SIBERKAS"]
    assert titles(await search(client, "gotongrayong", admin)) == ["SIBERKAS"]
    # Unknown anywhere: the titles like it, as before.
    assert titles(await search(client, "gotongrayom")) == ["GOTONGRAYON"]
    # Only published text counts: a draft's sections change nothing.
    draft_sections = dict(COMPLETE_SECTIONS, summary="Program rembuksaja untuk warga.")
    await make_innovation(search_unit, title="SIDRAF", sections=draft_sections)
    await make_innovation(search_unit, PUBLISHED, title="REMBUKSAJO")
    assert titles(await search(client, "rembuksaja")) == ["REMBUKSAJO"]
