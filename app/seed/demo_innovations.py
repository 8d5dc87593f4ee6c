"""Demo innovations from DOMAIN.md section 5, named as the programme's announcements name them:

- the 22 innovations Sekretariat DPRD Kota Medan launched on 1 July 2021 (5 non-IT, 17
  IT-based), every title verbatim, with an acronym's expansion only where the list gives one;
- Kota Malang's awarded innovations: Emas Hitam di Balik Tumpukan Sampah (Top 25, 2015),
  SEPASAR PEDAS (Top 45, 2020), Si Ikan Nila (Top 45, 2021) and Jarik Ma'Siti of SMP Negeri 10
  Kota Malang (Top 45, 2023), with its replications NASI TIGA BERAS (SMP Negeri 13) and SIMBA
  ASIA (SMP Negeri 2), both Top 5 of the 2024 replication group (the awards are in
  app/seed/demo_replications.py and, for KIPP 2022, app/seed/demo_evaluation.py);
- Kabupaten Deli Serdang's Demi Sepeda Bagus (Dinas Pendidikan, Top 45 of 2022).

What the announcements do not say is illustrative and reads as such: every section text that is
not from the record starts with "[Ilustrasi]"; the summaries, categories, SDGs and lifecycle
states, the years started (except Medan's launch), the implementation dates and stages, and the
unit of Malang's three earlier winners (the announcements name the city only; the demo files
them under its organisation bureau) are demo values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InnovationStage, InnovationStatus, SustainabilityStatus
from app.models.innovations import Innovation
from app.models.institutions import Unit
from app.seed.ids import demo_id

ILLUSTRATIVE = "[Ilustrasi] "  # the start of every section text the record does not give


@dataclass(frozen=True)
class DemoInnovation:
    title: str
    expansion: str | None
    digital: bool
    summary: str  # illustrative
    categories: tuple[str, ...]
    sdgs: tuple[int, ...]
    unit: str
    year_started: int
    implemented: date | None
    status: InnovationStatus = InnovationStatus.published
    stage: InnovationStage = InnovationStage.penerapan
    key: str | None = None  # its demo id's name when not its title
    background: str | None = None  # from the record
    adaptability: str | None = None  # from the record

    @property
    def name(self) -> str:
        return self.key or self.title


_DPRD = "Sekretariat DPRD Kota Medan"
_LAUNCH = date(2021, 7, 1)
_MEDAN_BACKGROUND = (
    "Lahir dari masukan anggota dewan dalam survei kepuasan Sekretariat DPRD Kota Medan; "
    "diluncurkan bersama 21 inovasi lain pada 1 Juli 2021, hari jadi Kota Medan ke-431."
)
SMPN10, SMPN13, SMPN2 = (
    "SMP Negeri 10 Kota Malang",
    "SMP Negeri 13 Kota Malang",
    "SMP Negeri 2 Kota Malang",
)
MALANG_BUREAU = "Bagian Organisasi Sekretariat Daerah Kota Malang"
DELI_SERDANG_EDUCATION = "Dinas Pendidikan Kabupaten Deli Serdang"
DEMI_SEPEDA_BAGUS = "Demi Sepeda Bagus"  # the key of its (long) title
DEMI_SEPEDA_BAGUS_TITLE = (
    "Demi Sepeda Bagus: Sebuah Model Layanan Publik Berkebutuhan Khusus melalui PKBM, Inklusi "
    "Sosial, Pendidikan Keluarga, Kolaborasi Stakeholder dan Pembelajaran Berdiferensiasi"
)


def _medan(
    title: str,
    expansion: str | None,
    digital: bool,
    summary: str,
    *categories: str,
    status: InnovationStatus = InnovationStatus.published,
) -> DemoInnovation:
    return DemoInnovation(
        title, expansion, digital, summary, categories or ("legislatif",), (16,), _DPRD, 2021,
        _LAUNCH, status, background=_MEDAN_BACKGROUND,
    )  # fmt: skip


# Sekretariat DPRD Kota Medan, 1 July 2021, in the order of its list (DOMAIN.md section 5).
DEMO_INNOVATIONS: tuple[DemoInnovation, ...] = (
    # ... five non-IT innovations ...
    _medan(
        "Pengadaan Ruang Terbuka Hijau / Penataan Taman", None, False,
        "Penataan taman dan ruang terbuka hijau di lingkungan gedung dewan sehingga pegawai dan "
        "pengunjung mendapat tempat yang teduh dan asri.",
        "lingkungan_hidup",
    ),
    _medan(
        'Layanan Kehumasan "DPRD Menyapa"', None, False,
        "Layanan kehumasan yang menyapa warga dengan kabar kegiatan dewan dan menjawab "
        "pertanyaan mereka tentang jadwal rapat dan pembahasan.",
        "legislatif", "pengaduan_publik",
    ),
    _medan(
        "Penyusunan Pedoman Keprotokolan / Juklak", None, False,
        "Pedoman keprotokolan dan petunjuk pelaksanaan acara resmi dewan, agar setiap acara "
        "berjalan dengan tata urutan yang sama.",
        "legislatif", "tata_kelola", status=InnovationStatus.draft,
    ),
    _medan(
        "MAJATOKI", "Mari Jaga Toilet Kita", False,
        "Gerakan menjaga kebersihan toilet gedung dewan bersama pegawai dan pengunjung, dengan "
        "jadwal piket dan penilaian kebersihan setiap pekan.",
        "lingkungan_hidup",
    ),
    _medan(
        "RINDU", "Ruang Inovatif Terpadu", False,
        "Ruang pelayanan terpadu di lobi gedung dewan tempat warga menyampaikan aspirasi, "
        "mengambil dokumen dan bertemu anggota dewan tanpa berpindah-pindah ruangan.",
    ),
    # ... and seventeen IT-based ones.
    _medan(
        "E-SAKIP", None, True,
        "Penyusunan dan pelaporan akuntabilitas kinerja sekretariat dewan secara elektronik, "
        "dari perjanjian kinerja sampai laporan tahunan.",
        "tata_kelola",
    ),
    _medan(
        "E-Tindak Lanjut", None, True,
        "Pemantauan tindak lanjut hasil rapat dan rekomendasi dewan secara elektronik sampai "
        "setiap butir selesai.",
    ),
    _medan(
        "E-Salary", None, True,
        "Rincian gaji dan tunjangan pegawai sekretariat dewan yang dapat dilihat setiap pegawai "
        "secara elektronik.",
        "tata_kelola",
    ),
    _medan(
        "E-Perjadin", None, True,
        "Pengajuan, persetujuan dan pertanggungjawaban perjalanan dinas dewan secara elektronik.",
        "tata_kelola",
    ),
    _medan(
        "Produk Hukum (JDIH Daerah)", None, True,
        "Penelusuran peraturan daerah dan produk hukum dewan melalui jaringan dokumentasi dan "
        "informasi hukum daerah.",
        "legislatif", "tata_kelola",
    ),
    _medan(
        "E-Disposisi", None, True,
        "Disposisi pimpinan atas surat masuk diteruskan dan dipantau secara elektronik.",
        "tata_kelola",
    ),
    _medan(
        "Chatting", None, True,
        "Percakapan daring bagi warga yang ingin bertanya kepada sekretariat dewan tanpa datang "
        "ke gedung dewan.",
        "legislatif", "pengaduan_publik",
    ),
    _medan(
        "E-Reses", None, True,
        "Pencatatan hasil reses anggota dewan secara elektronik sehingga usulan warga dari "
        "daerah pemilihan dapat dilacak sampai masuk perencanaan anggaran.",
    ),
    _medan(
        "E-Kuesioner", None, True,
        "Kuesioner survei kepuasan anggota dewan dan warga atas layanan sekretariat, diisi dan "
        "diolah secara elektronik.",
        "tata_kelola", status=InnovationStatus.draft,
    ),
    _medan(
        "Website", None, True,
        "Situs web resmi dewan sebagai sistem informasi kegiatan, agenda dan dokumen publik "
        "DPRD Kota Medan.",
    ),
    _medan(
        "TV Media", None, True,
        "Siaran video rapat paripurna dan kegiatan dewan agar warga dapat mengikuti sidang dari "
        "rumah.",
    ),
    _medan(
        "VTT", "Voice To Text", True,
        "Pengubahan rekaman suara rapat dan sidang menjadi teks risalah secara otomatis "
        "sehingga notulen selesai pada hari yang sama.",
    ),
    _medan(
        "E-Surat", None, True,
        "Surat masuk dan keluar sekretariat dewan diproses dan diarsipkan secara elektronik.",
        "tata_kelola", status=InnovationStatus.archived,
    ),
    _medan(
        "SIMASDU", "Sistem Manajemen Aset Terpadu", True,
        "Sistem informasi aset sekretariat dewan: pencatatan, pemeliharaan dan penghapusan "
        "barang milik daerah dalam satu aplikasi.",
        "tata_kelola",
    ),
    _medan(
        "SIKULIN", "Sistem Layanan Kunjungan Online", True,
        "Pemesanan jadwal kunjungan kerja dan studi banding ke DPRD Kota Medan secara daring, "
        "lengkap dengan konfirmasi dan pengingat otomatis.",
    ),
    _medan(
        "E-Jadwal", None, True,
        "Kalender kegiatan anggota dewan yang dapat dilihat publik dan diperbarui oleh staf "
        "sekretariat.",
    ),
    _medan(
        "Penggunaan QR Code pada Kegiatan DPRD Kota Medan", None, True,
        "Daftar hadir dan bahan kegiatan dewan diakses dengan memindai kode QR, tanpa kertas.",
    ),
    # Kota Malang's awarded innovations; the first three name the city only.
    DemoInnovation(
        "Emas Hitam di Balik Tumpukan Sampah", None, False,
        "Sampah kota diolah menjadi kompos dan produk bernilai jual bersama warga.",
        ("lingkungan_hidup",), (11, 12), MALANG_BUREAU, 2014, None,
    ),
    DemoInnovation(
        "SEPASAR PEDAS", "Sekolah Pasar Pedagang Cerdas", False,
        "Kelas bagi pedagang pasar rakyat tentang pengelolaan usaha, kebersihan dan pembayaran "
        "nontunai.",
        ("ekonomi",), (8,), MALANG_BUREAU, 2019, None,
    ),
    DemoInnovation(
        "Si Ikan Nila", "Sentra Intensif Budidaya Ikan Nila Sistem Bioflok", False,
        "Budidaya ikan nila dengan kolam bioflok bersama kelompok pembudidaya di perkotaan.",
        ("pertanian_pangan", "ekonomi"), (2, 8), MALANG_BUREAU, 2020, None,
    ),
    DemoInnovation(
        "Jarik Ma'Siti", "Belajar Menarik Bersama Siswa Istimewa", False,
        "Program sekolah inklusi: siswa berkebutuhan khusus belajar bersama teman sebaya yang "
        "dilatih menjadi pendamping.",
        ("pendidikan", "kesetaraan_gender"), (4, 10), SMPN10, 2022, date(2022, 1, 10),
        adaptability="Menjadi tujuan studi tiru sekolah dari daerah lain. Direplikasi oleh "
        "SMP Negeri 13 Kota Malang (NASI TIGA BERAS) dan SMP Negeri 2 Kota Malang (SIMBA ASIA), "
        "keduanya Top 5 kelompok replikasi PKRI 2024.",
    ),
    DemoInnovation(
        "NASI TIGA BERAS", "Pelayanan Siswa Istimewa Galas Berwirausaha", False,
        "Replikasi program inklusi Jarik Ma'Siti: siswa berkebutuhan khusus belajar bersama "
        "teman sebaya dan berlatih berwirausaha.",
        ("pendidikan", "kesetaraan_gender"), (4, 10), SMPN13, 2023, date(2023, 7, 17),
    ),
    DemoInnovation(
        "SIMBA ASIA", "Sinau Mandiri Bersama Anak Satata Wiyata Mandalaning Bangsa Istimewa",
        False,
        "Replikasi program inklusi Jarik Ma'Siti yang menyesuaikan pembelajaran dan asesmen "
        "untuk siswa berkebutuhan khusus.",
        ("pendidikan", "kesetaraan_gender"), (4, 10), SMPN2, 2023, date(2023, 7, 17),
        stage=InnovationStage.uji_coba,
    ),
    DemoInnovation(
        DEMI_SEPEDA_BAGUS_TITLE, None, False,
        "Layanan pendidikan bagi anak berkebutuhan khusus melalui pusat kegiatan belajar "
        "masyarakat, bersama keluarga dan para pemangku kepentingan.",
        ("pendidikan", "kesetaraan_gender"), (4, 10), DELI_SERDANG_EDUCATION, 2020,
        date(2020, 7, 13), key=DEMI_SEPEDA_BAGUS,
    ),
)  # fmt: skip


def _sections(spec: DemoInnovation) -> dict[str, str]:
    name = spec.title if spec.expansion is None else f"{spec.title} ({spec.expansion})"
    since = spec.implemented.isoformat() if spec.implemented else str(spec.year_started)
    return {
        "summary": ILLUSTRATIVE + spec.summary,
        "background_and_aims": spec.background
        or f"{ILLUSTRATIVE}{name} lahir dari keluhan warga tentang layanan yang lambat dan "
        "tidak pasti; tujuannya layanan yang cepat, mudah dan terbuka.",
        "novelty": f"{ILLUSTRATIVE}{spec.title} mengubah cara layanan diberikan, bukan hanya "
        "mempercepatnya.",
        "implementation": f"{ILLUSTRATIVE}Diterapkan sejak {since} dengan tim kecil, standar "
        "operasional prosedur dan evaluasi bulanan.",
        "significance_and_impact": f"{ILLUSTRATIVE}Waktu layanan lebih singkat, keluhan "
        "berkurang, dan kepuasan masyarakat naik pada survei tahunan.",
        "adaptability": spec.adaptability
        or f"{ILLUSTRATIVE}Dapat direplikasi oleh instansi lain dengan sumber daya sederhana.",
    }


def _external_id(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("'", "")).strip("-")[:100]


def _record(spec: DemoInnovation) -> Innovation:
    started = spec.implemented or date(spec.year_started, 1, 1)
    created = datetime.combine(started, datetime.min.time(), UTC)
    status = spec.status
    published = created if status is not InnovationStatus.draft else None
    return Innovation(
        id=demo_id("innovation", spec.name),
        unit_id=demo_id("unit", spec.unit),
        title=spec.title,
        acronym_expansion=spec.expansion,
        year_started=spec.year_started,
        implemented_date=spec.implemented,
        is_digital=spec.digital,
        stage=spec.stage,
        sdgs=list(spec.sdgs),
        category_codes=list(spec.categories),
        sections=_sections(spec),
        links=[],
        regulations=[],
        budget_lines=[],
        sustainability_status=SustainabilityStatus.running,
        status=status,
        published_at=published,
        archived_at=created if status is InnovationStatus.archived else None,
        created_at=created,
        updated_at=created,
        source_system="demo",
        external_id=_external_id(spec.name),
    )


async def load_demo_innovations(session: AsyncSession) -> int:
    """Add the demo innovations that are missing (after the demo units); returns how many."""
    added = 0
    for spec in DEMO_INNOVATIONS:
        record = _record(spec)
        if await session.get(Innovation, record.id) is not None:
            continue
        unit = await session.get(Unit, record.unit_id)
        assert unit is not None, f"demo unit {spec.unit} is missing"
        record.institution_id = unit.institution_id
        session.add(record)
        added += 1
    await session.flush()
    return added
