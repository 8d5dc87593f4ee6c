"""Synthetic catalogue data for `bench.catalogue`: institutions, units and published innovations.

Deterministic (seeded) and fast: innovations are built in batches of tuples ready for asyncpg's
`copy_records_to_table` (binary COPY). Titles are Indonesian-style acronyms (SIKULIN, E-RESES,
Ma'Siti) made from the first syllables of their expansion, which is drawn from a vocabulary of
public-service words; the knowledge sections are sentences from the same vocabulary. Sentences
come from a pool built once (per section), so a row costs a few random choices, not a sentence
generator run.

One word, `RARE_WORD`, is planted in the novelty section of exactly `RARE_ROWS` innovations so the
benchmark can search for a token that occurs in about ten rows at any size.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

GENERATOR_VERSION = 1
SEED = 20261122
RARE_WORD = "mapalus"
RARE_ROWS = 10
YEARS = range(2014, 2026)
# Records were entered between their implementation and this moment (before the bench's date).
CATALOGUE_END = datetime(2026, 11, 1, tzinfo=UTC)

# The columns COPY writes, in tuple order. The generated columns (search_vector, search_title)
# and the ones left to their defaults (archived_at, source_system, external_id) are absent.
INNOVATION_COLUMNS = (
    "id",
    "institution_id",
    "unit_id",
    "title",
    "acronym_expansion",
    "year_started",
    "implemented_date",
    "is_digital",
    "stage",
    "sdgs",
    "category_codes",
    "sections",
    "regulations",
    "budget_lines",
    "links",
    "sustainability_status",
    "status",
    "published_at",
    "created_at",
    "updated_at",
    "version",
)

MINISTRIES = (
    ("Kementerian Kesehatan", "Kemenkes", "Direktorat Jenderal Pelayanan Kesehatan"),
    (
        "Kementerian Pendidikan Dasar dan Menengah",
        "Kemendikdasmen",
        "Direktorat Jenderal Pendidikan Anak Usia Dini, Pendidikan Dasar, dan Pendidikan Menengah",
    ),
    (
        "Kementerian Dalam Negeri",
        "Kemendagri",
        "Direktorat Jenderal Kependudukan dan Pencatatan Sipil",
    ),
    ("Kementerian Sosial", "Kemensos", "Direktorat Jenderal Perlindungan dan Jaminan Sosial"),
    ("Kementerian Pertanian", "Kementan", "Badan Penyuluhan dan Pengembangan SDM Pertanian"),
    ("Kementerian Perhubungan", "Kemenhub", "Direktorat Jenderal Perhubungan Darat"),
)
# Share of innovations owned by ministries; the rest is spread evenly over regencies and cities.
MINISTRY_SHARE = 0.02

# --- vocabulary -------------------------------------------------------------------------------

HEADS = (
    "Sistem",
    "Layanan",
    "Gerakan",
    "Program",
    "Aplikasi",
    "Pelayanan",
    "Sekolah",
    "Kartu",
    "Rumah",
    "Pojok",
    "Klinik",
    "Gerai",
    "Pusat",
    "Jaringan",
    "Kelompok",
    "Sentra",
    "Mobil",
    "Portal",
    "Forum",
    "Satu",
)
TOPICS = (
    "informasi",
    "kesehatan",
    "pendidikan",
    "pengaduan",
    "kependudukan",
    "perizinan",
    "pelayanan",
    "administrasi",
    "kunjungan",
    "imunisasi",
    "gizi",
    "balita",
    "lansia",
    "disabilitas",
    "perempuan",
    "anak",
    "ibu",
    "hamil",
    "stunting",
    "posyandu",
    "puskesmas",
    "rujukan",
    "ambulans",
    "darurat",
    "bencana",
    "sampah",
    "air",
    "sanitasi",
    "jalan",
    "pasar",
    "petani",
    "nelayan",
    "pangan",
    "pupuk",
    "ternak",
    "koperasi",
    "umkm",
    "pajak",
    "retribusi",
    "anggaran",
    "keuangan",
    "arsip",
    "surat",
    "akta",
    "kelahiran",
    "kematian",
    "nikah",
    "bantuan",
    "sosial",
    "keluarga",
    "literasi",
    "perpustakaan",
    "wisata",
    "budaya",
    "guru",
    "siswa",
    "beasiswa",
    "tenaga",
    "kerja",
    "investasi",
    "reses",
    "aspirasi",
    "legislasi",
    "kelurahan",
    "kecamatan",
    "desa",
    "warga",
    "masyarakat",
    "publik",
    "data",
    "statistik",
    "tata",
    "ruang",
    "lingkungan",
    "hutan",
    "energi",
    "listrik",
    "transportasi",
    "angkutan",
    "parkir",
)
MODIFIERS = (
    "daring",
    "terpadu",
    "online",
    "elektronik",
    "digital",
    "keliling",
    "cepat",
    "mandiri",
    "terintegrasi",
    "bersama",
    "sehat",
    "cerdas",
    "aman",
    "ramah",
    "gratis",
    "tuntas",
    "prima",
    "inklusif",
    "berkelanjutan",
    "desa",
    "kelurahan",
    "sekolah",
    "nusantara",
    "satu",
    "pintu",
    "jemput",
    "bola",
)
VERBS = (
    "mempermudah",
    "mempercepat",
    "meningkatkan",
    "mendekatkan",
    "mengintegrasikan",
    "memperluas",
    "menyederhanakan",
    "memantau",
    "mendata",
    "menghubungkan",
    "memperbaiki",
    "mengurangi",
    "memastikan",
    "melayani",
    "menjangkau",
)
PLACES = (
    "bagi warga desa",
    "secara daring",
    "di tingkat kecamatan",
    "tanpa biaya",
    "dalam satu hari kerja",
    "di seluruh kelurahan",
    "melalui telepon genggam",
    "di puskesmas dan posyandu",
    "di sekolah dasar",
    "bagi masyarakat miskin",
    "bagi penyandang disabilitas",
    "di daerah terpencil",
    "tanpa harus datang ke kantor",
    "melalui mal pelayanan publik",
    "bersama perangkat desa",
)
OPENERS = {
    "summary": ("Inovasi ini", "Layanan ini", "Program ini", "Aplikasi ini"),
    "background_and_aims": (
        "Sebelumnya masyarakat kesulitan",
        "Masalah utama adalah lambatnya",
        "Tujuan inovasi ini adalah",
        "Latar belakangnya adalah rendahnya",
        "Selama ini warga mengeluhkan",
    ),
    "novelty": (
        "Kebaruannya terletak pada",
        "Berbeda dari sebelumnya, inovasi ini",
        "Untuk pertama kalinya",
        "Keunikan inovasi ini adalah",
    ),
    "implementation": (
        "Pelaksanaannya dimulai dengan",
        "Petugas melakukan",
        "Setiap bulan dilakukan",
        "Implementasi dilakukan melalui",
        "Tim pelaksana menyiapkan",
    ),
    "significance_and_impact": (
        "Dampaknya terlihat dari meningkatnya",
        "Sejak diterapkan, waktu layanan berkurang dan",
        "Hasilnya menunjukkan peningkatan",
        "Manfaatnya dirasakan oleh",
    ),
    "adaptability": (
        "Inovasi ini dapat direplikasi oleh",
        "Daerah lain dapat menerapkan",
        "Replikasi membutuhkan",
    ),
    "resources": (
        "Sumber daya yang digunakan meliputi",
        "Anggaran berasal dari APBD untuk",
        "Pelaksana terdiri atas petugas",
    ),
    "sustainability_strategy": (
        "Keberlanjutan dijamin melalui",
        "Inovasi ini telah dilembagakan dengan",
        "Strategi keberlanjutan meliputi",
    ),
}
STAGES = ("inisiatif", "uji_coba", "penerapan")
STAGE_WEIGHTS = (1, 2, 7)
SUSTAINABILITY = (None, "running", "institutionalised", "paused", "discontinued")
SUSTAINABILITY_WEIGHTS = (3, 4, 2, 1, 0.5)
SYLLABLES = ("ma", "si", "ti", "ku", "lin", "re", "ses", "pa", "du", "ga", "na", "ri", "to", "be")


@dataclass(frozen=True)
class Owner:
    institution_id: uuid.UUID
    unit_id: uuid.UUID
    institution_name: str


@dataclass(frozen=True)
class InstitutionRow:
    id: uuid.UUID
    name: str
    short_name: str
    kind: str
    region_code: str | None
    unit_id: uuid.UUID
    unit_name: str


BENCH_NAMESPACE = uuid.UUID("0f7c1f3a-2b6e-4d1c-9a40-5e2d8b7c6a11")


def institutions(regions: Sequence[tuple[str, str, str]]) -> list[InstitutionRow]:
    """One pemkab/pemkot per regency/city `(code, name, type)`, and a few ministries; one unit
    each (a regional unit sits in its institution's region)."""
    rows: list[InstitutionRow] = []
    for code, name, region_type in regions:
        kind = "pemkab" if region_type == "kabupaten" else "pemkot"
        short = ("Pemkab " if kind == "pemkab" else "Pemkot ") + name.split(" ", 1)[1]
        rows.append(
            InstitutionRow(
                id=uuid.uuid5(BENCH_NAMESPACE, f"institution:{code}"),
                name=f"Pemerintah {name}",
                short_name=short[:60],
                kind=kind,
                region_code=code,
                unit_id=uuid.uuid5(BENCH_NAMESPACE, f"unit:{code}"),
                unit_name=f"Bagian Organisasi Sekretariat Daerah {name}",
            )
        )
    for name, short, unit in MINISTRIES:
        rows.append(
            InstitutionRow(
                id=uuid.uuid5(BENCH_NAMESPACE, f"institution:{short}"),
                name=name,
                short_name=short,
                kind="kementerian",
                region_code=None,
                unit_id=uuid.uuid5(BENCH_NAMESPACE, f"unit:{short}"),
                unit_name=unit,
            )
        )
    return rows


def _object(rng: random.Random) -> str:
    return f"{rng.choice(HEADS).lower()} {rng.choice(TOPICS)} {rng.choice(TOPICS)}"


def _sentence(rng: random.Random, section: str) -> str:
    opener = rng.choice(OPENERS[section])
    return (
        f"{opener} {rng.choice(VERBS)} {_object(rng)} {rng.choice(MODIFIERS)} "
        f"{rng.choice(PLACES)}, sehingga {rng.choice(TOPICS)} {rng.choice(TOPICS)} "
        f"{rng.choice(MODIFIERS)} dapat {rng.choice(VERBS)} {_object(rng)}."
    )


def _sentence_pools(size: int = 4000) -> dict[str, list[str]]:
    rng = random.Random(SEED)
    return {name: [_sentence(rng, name) for _ in range(size)] for name in OPENERS}


_POOLS = _sentence_pools()
_OPTIONAL_SECTIONS = ("adaptability", "resources", "sustainability_strategy")


def _acronym(words: Sequence[str], rng: random.Random) -> str:
    parts = []
    for word in words:
        cut = rng.choice((1, 2, 2, 2, 3))
        parts.append(word[:cut])
    return "".join(parts).upper()


def _title(rng: random.Random, is_digital: bool) -> tuple[str, str]:
    """(title, acronym expansion): SIKULIN / Sistem Informasi Kunjungan Layanan Inap style."""
    words = [rng.choice(HEADS), *(rng.choice(TOPICS) for _ in range(rng.randint(1, 3)))]
    words.append(rng.choice(MODIFIERS))
    expansion = " ".join(w.capitalize() if len(w) > 3 else w for w in words)
    acronym = _acronym(words, rng)
    roll = rng.random()
    if is_digital and roll < 0.35:
        title = "E-" + acronym
    elif roll < 0.05:
        # Syllable names with an apostrophe (Ma'Siti): searchers type them either way.
        a, b = rng.choice(SYLLABLES), rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
        title = f"{a.capitalize()}'{b.capitalize()}"
    elif roll < 0.12:
        title = f"Gerakan {acronym}"
    else:
        title = acronym
    return title, expansion


def _sections(
    rng: random.Random, title: str, expansion: str, owner: str, rare: bool
) -> dict[str, str]:
    pools = _POOLS
    sections = {
        "summary": f"{title} ({expansion}) adalah inovasi {owner}. "
        + " ".join(rng.sample(pools["summary"], 2)),
        "background_and_aims": " ".join(rng.sample(pools["background_and_aims"], 2)),
        "novelty": rng.choice(pools["novelty"]),
        "implementation": " ".join(rng.sample(pools["implementation"], 2)),
        "significance_and_impact": rng.choice(pools["significance_and_impact"]),
    }
    for name in _OPTIONAL_SECTIONS:
        if rng.random() < 0.6:
            sections[name] = rng.choice(pools[name])
    if rare:
        sections["novelty"] += (
            f" Inovasi ini menghidupkan kembali semangat {RARE_WORD} dalam gotong royong warga."
        )
    return sections


def _extras(rng: random.Random, year: int) -> tuple[str, str, str]:
    """Regulations, budget lines and links as stored (JSON text), each present half the time."""
    regulations: list[dict[str, object]] = []
    budget: list[dict[str, object]] = []
    links: list[dict[str, object]] = []
    if rng.random() < 0.5:
        regulations.append(
            {
                "type": "peraturan_kepala_daerah",
                "number": f"{rng.randint(1, 80)} Tahun {year}",
                "date": date(year, rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
                "title": None,
                "url": None,
            }
        )
    if rng.random() < 0.5:
        budget.append(
            {
                "year": year,
                "source": rng.choice(("apbd", "apbn", "apbdes", "blud")),
                "amount": rng.randint(5, 900) * 1_000_000,
                "description": None,
            }
        )
    if rng.random() < 0.5:
        links.append(
            {"kind": "website", "url": f"https://inovasi.example.go.id/{year}", "title": None}
        )
    return json.dumps(regulations), json.dumps(budget), json.dumps(links)


def _random_time(rng: random.Random, start: datetime, end: datetime) -> datetime:
    span = max(1, int((end - start).total_seconds()))
    return start + timedelta(seconds=rng.randrange(span), microseconds=rng.randrange(1_000_000))


def rare_rows(total: int) -> frozenset[int]:
    """The row numbers that get the rare word: `RARE_ROWS` of them, spread over the load."""
    step = max(1, total // RARE_ROWS)
    return frozenset(k * step + 7 for k in range(RARE_ROWS) if k * step + 7 < total)


def innovation_batch(
    start: int,
    count: int,
    owners: Sequence[Owner],
    ministry_owners: Sequence[Owner],
    categories: Sequence[str],
    rare: frozenset[int],
) -> list[tuple[object, ...]]:
    """Rows `start .. start+count-1` as COPY tuples (INNOVATION_COLUMNS order); the same rows
    for the same arguments."""
    rng = random.Random(SEED * 1_000_003 + start)
    rows: list[tuple[object, ...]] = []
    sdg_choices = range(1, 18)
    for number in range(start, start + count):
        owner = rng.choice(ministry_owners) if rng.random() < MINISTRY_SHARE else rng.choice(owners)
        is_digital = rng.random() < 0.6
        title, expansion = _title(rng, is_digital)
        year = rng.choice(YEARS)
        implemented = date(year, rng.randint(1, 12), rng.randint(1, 28))
        implemented_at = datetime(implemented.year, implemented.month, implemented.day, tzinfo=UTC)
        created = _random_time(rng, implemented_at, CATALOGUE_END)
        published = _random_time(rng, created, min(created + timedelta(days=60), CATALOGUE_END))
        sections = _sections(rng, title, expansion, owner.institution_name, number in rare)
        regulations, budget, links = _extras(rng, year)
        rows.append(
            (
                uuid.UUID(int=rng.getrandbits(128), version=4),
                owner.institution_id,
                owner.unit_id,
                title,
                expansion,
                year,
                implemented,
                is_digital,
                rng.choices(STAGES, STAGE_WEIGHTS)[0],
                sorted(rng.sample(sdg_choices, rng.randint(1, 3))),
                rng.sample(categories, rng.randint(1, 2)),
                json.dumps(sections, ensure_ascii=False),
                regulations,
                budget,
                links,
                rng.choices(SUSTAINABILITY, SUSTAINABILITY_WEIGHTS)[0],
                "published",
                published,
                created,
                published,
                1,
            )
        )
    return rows
