"""`pulih`: the command line, also the break-glass path when Telegram is down."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from bot import logsafe
from bot.bootstrap import Container, bootstrap
from bot.cli.systems import access_for
from bot.cli.usage import Parser, program_version
from bot.db.migrate import current_revision, head_revision, upgrade
from bot.db.models import Request
from bot.errors import ConfigError, PulihError
from bot.examples import example
from bot.inventory.exposure import exposed_files, unconfined_imports
from bot.inventory.loader import CODE_RE as ZONE_RE
from bot.inventory.loader import NIP_DIGITS, load_inventory
from bot.render import render_text
from bot.services.audit import chain as audit
from bot.services.audit.key import key_path
from bot.services.office.doctor import Level, examine
from bot.services.office.inventory_sync import sync_inventory
from bot.services.office.setup import prepare
from bot.services.people.actors import actor_by_nip
from bot.services.requests.deadlines import open_deadline
from bot.services.requests.records import (
    SCOPE_LABELS,
    Scope,
    apply_action,
    ensure_allowed,
    find_request,
)
from bot.services.requests.timeline import timeline
from bot.services.restores.backups import list_backups, record_check, run_check
from bot.services.watch.run import watch_backups
from bot.settings import Settings, load_settings
from bot.workflow.refusals import Refusal
from bot.workflow.sop import ACTION_LABELS, ROLE_LABELS, STATE_LABELS, Action, Role, State
from letters.kinds import KINDS
from letters.timefmt import utcnow
from restore.check import Verdict
from restore.errors import RestoreError

log = logging.getLogger("pulih")


def nip(text: str) -> str:
    """A NIP as typed on the command line: 18 digits."""
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"NIP {text!r} harus berupa angka (18 digit)")
    if len(text) != NIP_DIGITS:
        raise argparse.ArgumentTypeError(f"NIP {text} ada {len(text)} digit; NIP ASN "
                                         f"{NIP_DIGITS} digit")
    return text


def _zone(text: str) -> str:
    if not ZONE_RE.match(text):
        raise argparse.ArgumentTypeError(f"{text!r}: huruf, angka, . _ -, paling panjang 32")
    return text


def _parser() -> Parser:
    parser = Parser(
        prog="pulih",
        description="Pulih: SOP Restore VPS/VM Database dan Aplikasi Server, lewat Telegram.",
    )
    parser.add_argument("--version", action="version", version=f"pulih {program_version()}",
                        help="tampilkan versi Pulih lalu keluar")
    parser.add_argument("--env-file", type=Path, metavar="BERKAS",
                        help="berkas .env (bawaan: ./.env)")
    commands = parser.commands("command")

    parser.command(commands, "init", "siapkan folder data, kunci SSH, inventaris, .env dan "
                                     "basis data (yang belum ada saja)")
    demo = parser.command(commands, "demo", "mainkan SOP di chat pada mesin ini, tanpa token "
                                            "Telegram (server Bot API lokal)")
    demo.add_argument("--dir", type=Path, metavar="FOLDER", default=Path("demo"),
                      help="folder hasil demo (bawaan: ./demo)")

    db = parser.command(commands, "db", "basis data: buat, perbarui, lihat revisi skema")
    db_cmd = db.commands("db_command")
    db.command(db_cmd, "upgrade", "buat atau perbarui skema basis data (Alembic)")
    db.command(db_cmd, "current", "tampilkan revisi skema saat ini")

    inv = parser.command(commands, "inventory", "berkas inventaris: periksa atau muat")
    inv_cmd = inv.commands("inventory_command")
    for name, text in (("check", "periksa inventaris dan sebutkan setiap masalah"),
                       ("sync", "muat inventaris ke basis data")):
        sub = inv.command(inv_cmd, name, text)
        sub.add_argument("--file", type=Path, metavar="BERKAS",
                         help="path inventaris (bawaan: PULIH_INVENTORY)")

    aud = parser.command(commands, "audit", "catatan kegiatan (audit trail): periksa, ekspor")
    aud_cmd = aud.commands("audit_command")
    verify = aud.command(aud_cmd, "verify", "periksa rantai hash catatan kegiatan")
    verify.add_argument("--anchor", action="append", default=[], metavar="NOMOR:HASH",
                        help="jangkar yang disimpan di luar basis data (pesan harian di grup "
                             "tim, kaki dokumen); boleh berulang")
    export = aud.command(aud_cmd, "export", "ekspor catatan kegiatan")
    export.add_argument("--format", metavar="FORMAT", choices=["csv"], default="csv",
                        help="format (csv)")
    export.add_argument("--out", type=Path, metavar="TUJUAN", help="berkas tujuan (bawaan: layar)")

    bk = parser.command(commands, "backups", "titik backup di server backup (langkah 4)")
    bk_cmd = bk.commands("backups_command")
    bk_list = bk.command(bk_cmd, "list", "titik backup sebuah sistem, terbaru dulu")
    bk_list.add_argument("system", metavar="SISTEM", help="kode sistem dari inventaris")
    bk_check = bk.command(bk_cmd, "check", "periksa satu titik backup tanpa me-restore")
    bk_check.add_argument("system", metavar="SISTEM", help="kode sistem dari inventaris")
    bk_check.add_argument("point", metavar="TITIK",
                          help="nama titik backup (dari `pulih backups list`)")
    bk_check.add_argument("--nip", type=nip, help="NIP petugas yang memeriksa (dicatat di "
                                                  "audit)")
    bk_check.add_argument("--request", metavar="TIKET",
                          help="tiket permohonan yang dilayani (butuh --nip)")
    bk_watch = bk.command(bk_cmd, "watch", "pantau backup terbaru setiap sistem sekarang "
                                           "(seperti pantauan pagi)")
    bk_watch.add_argument("systems", nargs="*", metavar="SISTEM",
                          help="hanya sistem ini (bawaan: semua)")
    how = bk_watch.add_mutually_exclusive_group()
    how.add_argument("--penuh", action="store_true",
                     help="periksa penuh (checksum, format, isi) semua, bukan bergiliran")
    how.add_argument("--ringan", action="store_true",
                     help="hanya pemeriksaan ringan, tanpa pemeriksaan penuh bergiliran")

    rs = parser.command(commands, "restore", "restore sebuah titik backup ke sistem "
                                             "(langkah 5)")
    rs.add_argument("system", metavar="SISTEM", help="kode sistem dari inventaris")
    rs.add_argument("point", metavar="TITIK", help="nama titik backup (dari `pulih backups list`)")
    rs.add_argument("--nip", type=nip, required=True,
                    help="NIP anggota Tim Teknis yang menjalankan")
    rs.add_argument("--request", metavar="TIKET", help="tiket permohonan yang dilayani")
    rs.add_argument("--yes", action="store_true",
                    help="tanpa konfirmasi ketik nama sistem (untuk skrip)")
    rp = parser.command(commands, "report", "laporan pelayanan kantor")
    rp_cmd = rp.commands("report_command")
    monthly = rp.command(rp_cmd, "monthly", "laporan bulanan terhadap Mutu Baku (PDF dan CSV)")
    monthly.add_argument("--month", required=True, metavar="YYYY-MM",
                         help="bulan yang dilaporkan (sudah berakhir)")
    monthly.add_argument("--out", type=Path, default=Path("."), metavar="FOLDER",
                         help="folder tujuan PDF dan CSV (bawaan: folder ini)")
    rb = parser.command(commands, "rollback", "kembalikan kondisi sebelum sebuah restore")
    rb.add_argument("run", type=int, metavar="NOMOR", help="nomor restore (#)")
    rb.add_argument("--nip", type=nip, required=True,
                    help="NIP anggota Tim Teknis yang menjalankan")
    rb.add_argument("--reason", metavar="ALASAN", required=True, help="alasan rollback (dicatat)")
    parser.command(commands, "recover", "bereskan restore yang terhenti karena bot mati")
    rbs = parser.command(commands, "rollbacks", "salinan yang disimpan untuk rollback")
    rbs_cmd = rbs.commands("rollbacks_command")
    rbs.command(rbs_cmd, "list", "salinan yang masih ada, dengan batas simpannya")
    rbs.command(rbs_cmd, "prune", "hapus salinan yang sudah tidak wajib disimpan")

    letters = parser.command(commands, "letters", "dokumen resmi (surat, disposisi, laporan)")
    let = letters.commands("letters_command")
    let_verify = letters.command(let, "verify", "periksa keaslian dokumen terbitan Pulih")
    let_verify.add_argument("file", nargs="?", type=Path, metavar="BERKAS",
                            help="berkas PDF yang diperiksa")
    let_verify.add_argument("--code", metavar="KODE",
                            help="kode verifikasi yang tercetak di dokumen")
    render = letters.command(let, "render", "terbitkan dokumen sebuah permohonan, atau "
                                            "contohnya")
    render.add_argument("kind", metavar="JENIS", choices=[*KINDS, "semua"],
                        help=f"jenis dokumen: {', '.join(KINDS)}, atau semua (keempatnya)")
    source = render.add_mutually_exclusive_group(required=True)
    source.add_argument("--request", metavar="TIKET",
                        help="nomor tiket (PLH-...) atau id permohonan")
    source.add_argument("--sample", action="store_true",
                        help="contoh dengan data rekaan yang realistis (tidak dicatat)")
    render.add_argument("--out", type=Path, metavar="TUJUAN", required=True,
                        help="folder tujuan PDF")
    cert = letters.command(let, "dev-cert", "buat sertifikat swa-tanda tangan untuk mencoba "
                                            "TTE")
    cert.add_argument("--out", type=Path, metavar="TUJUAN", default=None,
                      help="folder tujuan (bawaan: <folder data>/signing)")
    cert.add_argument("--name", metavar="NAMA", default="Pulih Uji Coba",
                      help="nama pada sertifikat")

    parser.command(commands, "self-backup", "cadangkan Pulih sendiri: basis data, dokumen "
                                            "terbitan, kunci catatan kegiatan (diperiksa)")
    self_restore = parser.command(commands, "self-restore", "pulihkan Pulih dari cadangannya "
                                                            "(yang lama disimpan)")
    self_restore.add_argument("folder", type=Path, metavar="CADANGAN",
                              help="folder cadangan (pulih-YYYYMMDD-HHMMSS)")
    self_restore.add_argument("--yes", action="store_true",
                              help="tanpa konfirmasi ketik PULIHKAN (untuk skrip)")
    parser.command(commands, "doctor", "periksa kesiapan: pengaturan, basis data, inventaris, "
                                       "kunci, server, Bot API, sertifikat, disk")
    parser.command(commands, "run", "jalankan bot Telegram (long polling, koneksi keluar saja)")
    parser.command(commands, "web", "jalankan halaman verifikasi dokumen (kode QR), di "
                                    "belakang reverse proxy")
    wk = parser.command(commands, "worker", "jalankan restore dari antrean di host ini "
                                            "(butuh PostgreSQL bersama)")
    wk.add_argument("--zone", metavar="ZONA", type=_zone,
                    help="hanya restore sistem di zona (pusat data) ini (bawaan: "
                         "PULIH_WORKER_ZONE, atau yang tanpa zona)")
    wk.add_argument("--name", metavar="NAMA", type=_zone,
                    help="nama worker ini, tetap antar-restart (bawaan: nama host@zona)")
    wk.add_argument("--grace", metavar="DETIK", type=int, default=600,
                    help="saat dihentikan: berapa detik restore yang berjalan boleh "
                         "menyelesaikan diri (bawaan: 600)")
    parser.command(commands, "queue", "antrean restore: yang menunggu, yang berjalan, dan "
                                      "worker-nya")
    incident = parser.command(commands, "incident", "insiden pusat data: banyak sistem "
                                                    "dipulihkan bersama")
    incident_cmd = incident.commands("incident_command")
    inc_open = incident.command(incident_cmd, "open", "nyatakan insiden: satu permohonan per "
                                                      "sistem, atas nama OPD-nya")
    inc_open.add_argument("--title", required=True, metavar="JUDUL", help="judul insiden")
    inc_open.add_argument("--nip", type=nip, required=True,
                          help="NIP Admin atau Kepala Dinas yang menyatakan (dicatat)")
    inc_open.add_argument("systems", nargs="+", metavar="KODE", help="kode sistem terdampak")
    inc_show = incident.command(incident_cmd, "show", "papan insiden: tiap sistem dan "
                                                      "statusnya")
    inc_show.add_argument("code", metavar="INSIDEN", help="kode insiden, mis. INS-2026-001")
    inc_close = incident.command(incident_cmd, "close", "tutup insiden dan terbitkan "
                                                        "ringkasannya (PDF)")
    inc_close.add_argument("code", metavar="INSIDEN", help="kode insiden")
    inc_close.add_argument("--nip", type=nip, required=True,
                           help="NIP Admin atau Kepala Dinas yang menutup (dicatat)")
    people = parser.command(commands, "people", "pegawai dan akun Telegram mereka")
    people_cmd = people.commands("people_command")
    people.command(people_cmd, "list", "semua pegawai: peran, terhubung atau belum, terakhir "
                                       "terlihat")
    inv_people = people.command(people_cmd, "invite", "buat tautan sekali pakai untuk "
                                                      "menghubungkan akun (boleh banyak)")
    inv_people.add_argument("nips", nargs="*", type=nip, metavar="NIP",
                            help="NIP pegawai di inventaris")
    inv_people.add_argument("--semua-belum-terhubung", dest="all_unlinked",
                            action="store_true",
                            help="untuk setiap pegawai aktif yang belum terhubung")
    for name, text in (("unlink", "lepas akun Telegram seorang pegawai (HP hilang, ganti "
                                  "akun)"),
                       ("deactivate", "nonaktifkan pegawai (pindah, pensiun)"),
                       ("activate", "aktifkan lagi pegawai yang dinonaktifkan admin")):
        sub = people.command(people_cmd, name, text)
        sub.add_argument("nip", type=nip, metavar="NIP", help="NIP pegawai")
        if name == "deactivate":
            sub.add_argument("--reason", metavar="ALASAN", help="alasan (dicatat)")

    req = parser.command(commands, "requests", "permohonan restore: daftar, linimasa")
    req_cmd = req.commands("requests_command")
    listing = req.command(req_cmd, "list", "daftar permohonan")
    listing.add_argument("--state", metavar="KEADAAN", choices=[s.value for s in State],
                         help="hanya keadaan ini")
    show = req.command(req_cmd, "show", "linimasa satu permohonan")
    show.add_argument("id", metavar="TIKET", help="nomor tiket (PLH-2026-00001) atau id")
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None,
         err: TextIO | None = None, stdin: TextIO | None = None,
         clock: Callable[[], datetime] = utcnow) -> int:
    """Run one command on `clock`; 0 on success, 1 on a problem it reported, 2 on bad
    usage."""
    out = out or sys.stdout
    err = err or sys.stderr
    stdin = stdin or sys.stdin
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(env_file=args.env_file)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=err)
        return 1
    folder = _missing_database_folder(settings, args)
    if folder is not None:
        print(f"PULIH_DATABASE_URL: folder {folder} tidak ada, jadi basis data di sana belum "
              "pernah dibuat; periksa path-nya, atau buat baru dengan: pulih init", file=err)
        return 1
    logging.basicConfig(level=settings.log_level, stream=err,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    logsafe.install(settings.secrets())
    container = bootstrap(settings, clock)
    try:
        return _dispatch(args, container, out, err, stdin)
    except ConfigError as exc:
        for line in exc.problems:
            print(line, file=err)
        return 1
    except (Refusal, RestoreError) as exc:
        print(exc.message, file=err)
        return 1
    except PulihError as exc:
        print(str(exc), file=err)
        return 1
    finally:
        container.close()


def _missing_database_folder(settings: Settings, args: argparse.Namespace) -> Path | None:
    """The folder a SQLite database should be in, when it is missing and the command reads
    the database (`init` and `demo` make theirs; a check of the inventory, a sample letter
    or a test certificate need none)."""
    database = settings.sqlite_file()
    if database is None or database.parent.is_dir():
        return None
    if args.command in ("init", "demo", "self-restore") or \
            (args.command == "inventory" and args.inventory_command == "check") or \
            (args.command == "letters" and (args.letters_command == "dev-cert"
                                            or getattr(args, "sample", False))):
        return None
    return database.parent


def _dispatch(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO,
              stdin: TextIO) -> int:
    command = args.command
    if command == "demo":
        from bot.demo.play import run_demo
        return run_demo(args.dir, example("inventory.example.toml"), out, c.clock)
    if command == "init":
        return _init(c, args.env_file or Path(os.environ.get("PULIH_ENV_FILE", ".env")), out)
    if command == "doctor":
        return _doctor(c, out)
    if command == "self-restore":
        from bot.cli.self_backup import self_backup_commands
        return self_backup_commands(args, c, out, err, stdin)
    if command == "db":
        if args.db_command == "upgrade":
            upgrade(c.engine)
            print(f"Skema basis data pada revisi {current_revision(c.engine)}.", file=out)
        else:
            print(current_revision(c.engine) or "(kosong)", file=out)
        return 0
    if command == "inventory":
        path = args.file or c.settings.inventory_path
        inventory = load_inventory(path)
        if args.inventory_command == "check":
            print(f"{path}: OK — {len(inventory.agencies)} OPD, {len(inventory.people)} "
                  f"pegawai, {len(inventory.acting)} Plt./Plh., "
                  f"{len(inventory.backup_servers)} server backup, "
                  f"{len(inventory.systems)} sistem.", file=out)
            for warning in [*exposed_files(inventory), *unconfined_imports(inventory)]:
                print(warning, file=err)
            return 0
        _require_schema(c)
        with c.unit_of_work() as session:
            result = sync_inventory(session, inventory, c.clock())
        print(f"Inventaris dimuat: {result.agencies} instansi, {result.people} pegawai, "
              f"{result.systems} sistem{'' if result.changed else ' (tidak ada perubahan)'}.",
              file=out)
        return 0
    # Each command loads only what it uses: `pulih restore` stays small in memory and
    # quick to start without the chat and PDF libraries.
    if command == "letters":
        from bot.cli.letters import letters_commands
        return letters_commands(args, c, out, err)
    _require_schema(c)
    if command == "audit":
        return _audit(args, c, out, err)
    if command == "backups":
        return _backups(args, c, out)
    if command == "report":
        # Loaded here: the PDF and chart machinery is not for every command's start.
        from bot.services.reports.monthly import monthly_report, parse_month, write_files

        report = monthly_report(c, parse_month(args.month))
        pdf, table = write_files(report, args.out)
        out.write(render_text("cli/monthly_report.txt.j2", c.settings.timezone, report=report,
                              pdf=pdf, table=table))
        return 0
    if command in ("restore", "rollback", "recover", "rollbacks"):
        from bot.cli.restore import restore_commands
        return restore_commands(args, c, out, err, stdin)
    if command == "self-backup":
        from bot.cli.self_backup import self_backup_commands
        return self_backup_commands(args, c, out, err, stdin)
    if command == "incident":
        from bot.cli.incident import incident_commands
        return incident_commands(args, c, out, err)
    if command in ("worker", "queue"):
        from bot.cli.worker import worker_commands
        return worker_commands(args, c, out, err)
    if command == "run":
        from bot.cli.chat import chat_commands
        return chat_commands(args, c, out, err)
    if command == "web":
        from bot.cli.web import web_commands
        return web_commands(args, c, out, err)
    if command == "people":
        from bot.cli.people import people_commands
        return people_commands(args, c, out)
    return _requests(args, c, out)


def _doctor(c: Container, out: TextIO) -> int:
    """One line per check, as each ends; the exit code is the worst level (0 OK, 1 WARN,
    2 FAIL), as monitoring tools read it."""
    # A server that drops the connection makes paramiko log a traceback; the line below
    # already says what happened.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    worst = Level.OK
    for finding in examine(c.settings, c.engine, c.sessions, c.clock()):
        print(f"{finding.level.name:<4} {finding.subject}: {finding.detail}", file=out,
              flush=True)
        worst = max(worst, finding.level)
    return int(worst)


def _require_schema(c: Container) -> None:
    if current_revision(c.engine) != head_revision():
        raise PulihError("Skema basis data belum mutakhir; jalankan: pulih db upgrade")


def _init(c: Container, env_path: Path, out: TextIO) -> int:
    settings = c.settings
    report = prepare(settings.data_dir, settings.inventory_path,
                     example("inventory.example.toml"), env_path, example("env.example"))
    for line in report.created:
        print(f"dibuat : {line}", file=out)
    for line in report.kept:
        print(f"ada    : {line}", file=out)
    upgrade(c.engine)
    print(f"Basis data siap (revisi {current_revision(c.engine)}).", file=out)
    with c.sessions() as session:
        made = audit.ensure_chain_key(session)
    print(f"{'dibuat ' if made else 'ada    '}: {key_path(settings.data_dir)} (kunci catatan "
          "kegiatan; simpan salinannya terpisah)", file=out)
    synced = None
    if settings.inventory_path.exists() and not report.inventory_made:
        inventory = load_inventory(settings.inventory_path)
        with c.unit_of_work() as session:
            synced = sync_inventory(session, inventory, c.clock())
    out.write(render_text("cli/init_next.txt.j2", settings.timezone, synced=synced,
                          inventory=settings.inventory_path, env=env_path,
                          example=report.inventory_made,
                          token=bool(settings.bot_token)))
    return 0


def _audit(args: argparse.Namespace, c: Container, out: TextIO, err: TextIO) -> int:
    with c.sessions() as session:
        if args.audit_command == "verify":
            report = audit.verify_chain(session)
            if not report.ok:
                print(f"RUSAK: {report.problem}", file=err)
                return 1
            problems = [p for p in map(lambda a: audit.check_anchor(session, a), args.anchor)
                        if p]
            if problems:
                for problem in problems:
                    print(f"RUSAK: {problem}", file=err)
                return 1
            print(f"Catatan kegiatan utuh: {report.events} kejadian, rantai hash cocok.",
                  file=out)
            for anchor in args.anchor:
                print(f"Jangkar {anchor} cocok.", file=out)
            return 0
        tickets = dict(session.execute(select(Request.id, Request.ticket)).all())
        if args.out:
            with args.out.open("w", encoding="utf-8", newline="") as handle:
                rows = audit.export_csv(session, handle, c.settings.timezone, tickets)
            print(f"{rows} kejadian diekspor ke {args.out}.", file=err)
        else:
            audit.export_csv(session, out, c.settings.timezone, tickets)
    return 0


def _operator(session: Session, nip: str | None) -> tuple[int | None, str, str]:
    if nip is None:
        return None, f"CLI ({getpass.getuser()})", "cli"
    actor = actor_by_nip(session, nip)
    return actor.person_id, actor.name, "tim" if Role.TIM in actor.roles else "cli"


def _backups(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    zone = c.settings.timezone
    if args.backups_command == "watch":
        return _watch(args, c, out)
    with c.sessions() as session:
        access = access_for(c, session, args.system)
    if args.backups_command == "list":
        points = list_backups(access)
        out.write(render_text("cli/backups_list.txt.j2", zone, access=access, points=points,
                              now=c.clock()))
        return 0
    started = c.clock()
    request_id: int | None = None
    requested = None
    with c.sessions() as session:
        actor_id, actor_name, actor_role = _operator(session, args.nip)
        if args.request:
            if args.nip is None:
                raise PulihError("--request butuh --nip: siapa yang memeriksa harus tercatat.")
            request = find_request(session, args.request)
            request_id, requested = request.id, request.recovery_point
            ensure_allowed(session, request_id, actor_by_nip(session, args.nip),
                           Action.CHECK_BACKUP, c.clock(), zone)
    report = run_check(access, args.point, c.clock(), requested)
    with c.unit_of_work() as session:
        row = record_check(session, access, report, started_at=started, now=c.clock(),
                           actor_id=actor_id, actor_name=actor_name, actor_role=actor_role,
                           request_id=request_id)
        check_id = row.id
        if request_id is not None and report.verdict is not Verdict.FAILED:
            apply_action(session, request_id, actor_by_nip(session, args.nip),
                         Action.CHECK_BACKUP, c.clock(), zone,
                         data={"check_id": check_id, "point": report.point})
    out.write(render_text(
        "cli/backup_check.txt.j2", zone, access=access, report=report, check_id=check_id,
        marks={Verdict.PASSED: "OK", Verdict.WARNING: "!!", Verdict.FAILED: "GAGAL"},
        labels={Verdict.PASSED: "LULUS", Verdict.WARNING: "LULUS DENGAN PERINGATAN",
                Verdict.FAILED: "GAGAL: jangan di-restore"}))
    return 1 if report.verdict is Verdict.FAILED else 0


def _watch(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    zone = c.settings.timezone
    if args.systems:
        with c.sessions() as session:
            for code in args.systems:
                access_for(c, session, code)  # an unknown code is named before any SSH
    outcome = watch_backups(c, trigger="cli", full_all=args.penuh, cheap_only=args.ringan,
                            codes=args.systems)
    assert outcome is not None
    out.write(render_text("cli/backup_watch.txt.j2", zone, outcome=outcome))
    return 1 if outcome.troubled else 0


def _requests(args: argparse.Namespace, c: Container, out: TextIO) -> int:
    zone = c.settings.timezone
    with c.sessions() as session:
        if args.requests_command == "list":
            query = select(Request).options(selectinload(Request.system)).order_by(Request.id)
            if args.state:
                query = query.where(Request.state == args.state)
            rows = [(r, open_deadline(session, r.id)) for r in session.execute(query).scalars()]
            out.write(render_text("cli/request_list.txt.j2", zone, rows=rows))
            return 0
        request = find_request(session, args.id)
        now = c.clock()
        line = timeline(session, request, now, zone)
        deadline = open_deadline(session, request.id)
        out.write(render_text(
            "cli/request_show.txt.j2", zone, r=request, events=line.events, steps=line.steps,
            deadline=deadline, overdue=bool(deadline and deadline.due_at < now),
            state_label=STATE_LABELS[State(request.state)],
            scope_label=SCOPE_LABELS[Scope(request.scope)],
            role_labels={r.value: label for r, label in ROLE_LABELS.items()},
            action_labels={a.value: label for a, label in ACTION_LABELS.items()},
        ))
        return 0


def entry(argv: Sequence[str] | None = None,
          clock: Callable[[], datetime] = utcnow) -> int:
    """The `pulih` program: what it creates (the database, documents, keys, exports) is
    readable by its own user only, then the command runs."""
    os.umask(0o077)
    return main(argv, clock=clock)
