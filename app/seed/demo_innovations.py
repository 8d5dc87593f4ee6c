"""Demo innovations from DOMAIN.md: the 22 innovations Sekretariat DPRD Kota Medan launched on
1 July 2021 (5 non-IT, 17 IT-based), the Malang schools' Jarik Ma'Siti, NASI TIGA BERAS and
SIMBA ASIA, and Kabupaten Deli Serdang's Demi Sepeda Bagus, in several lifecycle states.

DOMAIN.md names MAJATOKI, RINDU, E-SAKIP, E-Reses, SIKULIN and VTT; the other Medan titles and
every section text are illustrative, written for the demo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.models.enums import InnovationStage, InnovationStatus, SustainabilityStatus
from app.models.innovations import Innovation
from app.models.institutions import Unit
from app.seed.demo import demo_id


@dataclass(frozen=True)
class DemoInnovation:
    title: str
    expansion: str | None
    digital: bool
    summary: str
    categories: tuple[str, ...]
    sdgs: tuple[int, ...]
    unit: str
    implemented: date
    status: InnovationStatus = InnovationStatus.published
    stage: InnovationStage = InnovationStage.penerapan


_DPRD = "Sekretariat DPRD Kota Medan"
_LAUNCH = date(2021, 7, 1)


def _medan(
    title: str,
    expansion: str,
    digital: bool,
    summary: str,
    *categories: str,
    status: InnovationStatus = InnovationStatus.published,
) -> DemoInnovation:
    return DemoInnovation(
        title, expansion, digital, summary, categories or ("legislatif",), (16,), _DPRD, _LAUNCH,
        status,
    )  # fmt: skip


DEMO_INNOVATIONS: tuple[DemoInnovation, ...] = (
    # Sekretariat DPRD Kota Medan, 1 July 2021: five non-IT innovations ...
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
    _medan(
        "POJOK BACA DEWAN", "Pojok Baca Dewan", False,
        "Perpustakaan kecil di ruang tunggu berisi peraturan daerah, risalah sidang dan buku "
        "bacaan untuk warga yang menunggu layanan.",
        "legislatif", "pendidikan",
    ),
    _medan(
        "KLINIK ASPIRASI", "Klinik Aspirasi Masyarakat", False,
        "Pendampingan tatap muka bagi warga yang ingin menyusun aspirasi tertulis kepada "
        "komisi dewan yang tepat.",
        "legislatif", "pengaduan_publik",
    ),
    _medan(
        "SAPA DEWAN", "Sapa Dewan Bersama Warga", False,
        "Pertemuan berkala anggota dewan dengan warga di kelurahan untuk mendengar keluhan "
        "pelayanan publik secara langsung.",
        "legislatif", "pengaduan_publik", status=InnovationStatus.draft,
    ),
    # ... and seventeen IT-based ones
    _medan(
        "E-SAKIP", "Elektronik Sistem Akuntabilitas Kinerja Instansi Pemerintah", True,
        "Aplikasi penyusunan dan pelaporan akuntabilitas kinerja sekretariat dewan secara "
        "daring, dari perjanjian kinerja sampai laporan tahunan.",
        "tata_kelola",
    ),
    _medan(
        "E-RESES", "Elektronik Reses", True,
        "Pencatatan hasil reses anggota dewan secara elektronik sehingga usulan warga dari "
        "daerah pemilihan dapat dilacak sampai masuk perencanaan anggaran.",
    ),
    _medan(
        "SIKULIN", "Sistem Layanan Kunjungan Online", True,
        "Pemesanan jadwal kunjungan kerja dan studi banding ke DPRD Kota Medan secara daring, "
        "lengkap dengan konfirmasi dan pengingat otomatis.",
    ),
    _medan(
        "VTT", "Voice To Text", True,
        "Pengubahan rekaman suara rapat dan sidang menjadi teks risalah secara otomatis "
        "sehingga notulen selesai pada hari yang sama.",
    ),
    _medan(
        "SIPADU", "Sistem Informasi Persidangan Terpadu", True,
        "Jadwal, agenda dan dokumen persidangan dewan dalam satu aplikasi untuk anggota dewan "
        "dan masyarakat.",
    ),
    _medan(
        "E-PERDA", "Elektronik Peraturan Daerah", True,
        "Penelusuran rancangan dan peraturan daerah Kota Medan beserta tahapan pembahasannya.",
        "legislatif", "tata_kelola",
    ),
    _medan(
        "SIJADWAL", "Sistem Informasi Jadwal Kegiatan Dewan", True,
        "Kalender kegiatan anggota dewan yang dapat dilihat publik dan diperbarui oleh staf "
        "sekretariat.",
    ),
    _medan(
        "E-ARSIP", "Elektronik Arsip Dewan", True,
        "Digitalisasi arsip surat dan dokumen dewan dengan pencarian berdasarkan nomor, tanggal "
        "dan perihal.",
        "tata_kelola",
    ),
    _medan(
        "E-NOTULEN", "Elektronik Notulen Rapat", True,
        "Penyusunan notulen rapat komisi secara kolaboratif dan penandatanganan elektronik.",
    ),
    _medan(
        "SIAP", "Sistem Informasi Aspirasi Publik", True,
        "Kanal daring bagi warga untuk menyampaikan aspirasi dan memantau tindak lanjutnya oleh "
        "komisi dewan.",
        "legislatif", "pengaduan_publik",
    ),
    _medan(
        "E-PERJADIN", "Elektronik Perjalanan Dinas", True,
        "Pengajuan, persetujuan dan pertanggungjawaban perjalanan dinas dewan secara elektronik.",
        "tata_kelola",
    ),
    _medan(
        "SIMPEG DEWAN", "Sistem Informasi Kepegawaian Sekretariat Dewan", True,
        "Data kepegawaian sekretariat dewan yang selalu mutakhir untuk layanan kenaikan pangkat "
        "dan cuti.",
        "tata_kelola",
    ),
    _medan(
        "E-LAPKIN", "Elektronik Laporan Kinerja", True,
        "Laporan kinerja harian pegawai yang langsung terhubung dengan penilaian kinerja.",
        "tata_kelola", status=InnovationStatus.draft,
    ),
    _medan(
        "SIPARIPURNA", "Siaran Langsung Rapat Paripurna", True,
        "Siaran langsung rapat paripurna di kanal video resmi agar warga dapat mengikuti sidang "
        "dari rumah.",
    ),
    _medan(
        "JDIH DEWAN", "Jaringan Dokumentasi dan Informasi Hukum Dewan", True,
        "Basis data produk hukum dewan yang terhubung dengan jaringan dokumentasi hukum nasional.",
    ),
    _medan(
        "E-SURAT", "Elektronik Persuratan Dewan", True,
        "Surat masuk dan keluar sekretariat dewan diproses, didisposisi dan diarsipkan secara "
        "elektronik.",
        "tata_kelola", status=InnovationStatus.archived,
    ),
    _medan(
        "E-PPID", "Elektronik Pejabat Pengelola Informasi dan Dokumentasi", True,
        "Permohonan informasi publik kepada sekretariat dewan secara daring sesuai undang-undang "
        "keterbukaan informasi.",
        "legislatif", "pengaduan_publik",
    ),
    # The Malang schools' replication chain (replications themselves come with that issue).
    DemoInnovation(
        "Jarik Ma'Siti", "Jaringan Inklusi Mari Sayangi Teman Inklusi", False,
        "Program sekolah inklusi di SMP Negeri 10 Malang: siswa berkebutuhan khusus belajar "
        "bersama teman sebaya yang dilatih menjadi pendamping.",
        ("pendidikan", "kesetaraan_gender"), (4, 10), "SMP Negeri 10 Malang", date(2022, 1, 10),
    ),
    DemoInnovation(
        "NASI TIGA BERAS", "Nilai Asah Inklusi Tiga Bersama Siswa", False,
        "Replikasi program inklusi Jarik Ma'Siti di SMP Negeri 13 Malang dengan kelas "
        "pendampingan sebaya dan guru pembimbing khusus.",
        ("pendidikan",), (4, 10), "SMP Negeri 13 Malang", date(2023, 7, 17),
    ),
    DemoInnovation(
        "SIMBA ASIA", "Sinergi Membangun Anak Sekolah Inklusi Adaptif", False,
        "Replikasi program inklusi di SMP Negeri 2 Malang yang menyesuaikan pembelajaran dan "
        "asesmen untuk siswa berkebutuhan khusus.",
        ("pendidikan",), (4,), "SMP Negeri 2 Malang", date(2023, 7, 17),
        stage=InnovationStage.uji_coba,
    ),
    DemoInnovation(
        "Demi Sepeda Bagus", None, False,
        "Praktik baik Kabupaten Deli Serdang yang ditampilkan pada klinik pembinaan inovasi "
        "pelayanan publik JIPP Sumatera Utara: layanan yang menjemput warga di desa.",
        ("tata_kelola",), (11, 16), "Bagian Organisasi Sekretariat Daerah Kabupaten Deli Serdang",
        date(2022, 3, 1),
    ),
)  # fmt: skip


def _sections(spec: DemoInnovation) -> dict[str, str]:
    name = spec.title if spec.expansion is None else f"{spec.title} ({spec.expansion})"
    return {
        "summary": spec.summary,
        "background_and_aims": f"{name} lahir dari keluhan warga tentang layanan yang lambat dan "
        "tidak pasti; tujuannya layanan yang cepat, mudah dan terbuka.",
        "novelty": f"{spec.title} mengubah cara layanan diberikan, bukan hanya mempercepatnya.",
        "implementation": f"Diterapkan sejak {spec.implemented.isoformat()} dengan tim kecil, "
        "standar operasional prosedur dan evaluasi bulanan.",
        "significance_and_impact": "Waktu layanan lebih singkat, keluhan berkurang, dan kepuasan "
        "masyarakat naik pada survei tahunan.",
        "adaptability": "Dapat direplikasi oleh instansi lain dengan sumber daya sederhana.",
    }


def _record(spec: DemoInnovation) -> Innovation:
    created = datetime.combine(spec.implemented, datetime.min.time(), UTC)
    status = spec.status
    published = created if status is not InnovationStatus.draft else None
    return Innovation(
        id=demo_id("innovation", spec.title),
        unit_id=demo_id("unit", spec.unit),
        title=spec.title,
        acronym_expansion=spec.expansion,
        year_started=spec.implemented.year,
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
        external_id=spec.title.lower().replace(" ", "-").replace("'", ""),
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
