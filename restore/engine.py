"""SOP step 5 as recorded phases: pre-flight, transfer, apply to a shadow, verify, swap,
check after the swap. Before the swap nothing live is touched; after it, the previous
live state is kept for rollback. Runs in a worker thread; reports through callbacks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import paramiko

from restore.catalog import RestorePoint
from restore.errors import Busy, Cancelled, CommandFailed, NotEnoughSpace, RestoreError
from restore.parked import take as take_parked
from restore.processes import LOCK_SUFFIX, run_tag, stop_run
from restore.pull import Pull, pull_into, relative_to
from restore.recipes import Recipe, RunNames, Staged, TargetSpec
from restore.recipes.registry import recipe_for
from restore.safety import DISCARD, absolute_path, confined
from restore.safety import url as safe_url
from restore.ssh import Endpoint, Remote, connect
from restore.transfer_process import ReadyChild, copy_in_child, stream_in_child

_UNTOUCHED = re.compile(r"[;.]?\s*[Dd]ata live tidak disentuh\.?$")
LOCK_BUSY = 75  # flock's exit status when another run holds the system's lock
LOCK_HELD = "PULIH-TERKUNCI"
LOCK_WAIT = 30.0  # seconds for the lock holder to say it holds the lock
STAGING_ROOT = "/var/lib/pulih-staging"  # on the target; root-owned, not world-writable /tmp


class Phase(StrEnum):
    PREFLIGHT = "preflight"
    TRANSFER = "transfer"
    APPLY = "apply"
    VERIFY = "verify"
    SWAP = "swap"
    POSTCHECK = "postcheck"
    CLEANUP = "cleanup"
    ROLLBACK = "rollback"


VERIFIED = "result"  # a phase record's status: the shadow's verification, as JSON
STREAMED = "dialirkan langsung dari server backup ke impor, tanpa salinan staging"
PULLED = "ditarik langsung oleh server tujuan dari server backup ke impor, tanpa salinan staging"
PHASE_LABELS = {
    Phase.PREFLIGHT: "Pemeriksaan awal", Phase.TRANSFER: "Pemindahan berkas backup",
    Phase.APPLY: "Pemulihan ke salinan sementara", Phase.VERIFY: "Verifikasi salinan sementara",
    Phase.SWAP: "Penggantian data aktif", Phase.POSTCHECK: "Pemeriksaan setelah penggantian",
    Phase.CLEANUP: "Pembersihan", Phase.ROLLBACK: "Rollback",
}


@dataclass(frozen=True)
class Progress:
    phase: Phase
    done: int = 0
    total: int = 0
    rate: float = 0.0  # bytes per second
    eta: float | None = None  # seconds

    @property
    def label(self) -> str:
        """The phase as the team reads it; bytes counted while applying mean the backup
        flows straight into the import, both shown by one bar."""
        if self.phase is Phase.APPLY and self.total:
            return "Pemindahan dan pemulihan ke salinan sementara (dialirkan langsung)"
        return PHASE_LABELS[self.phase]


class Journal(Protocol):
    """Where the engine records each phase as it starts and ends (the database, in Pulih)."""

    def phase(self, phase: Phase, status: str, detail: str = "") -> None: ...


@dataclass
class Outcome:
    status: str  # succeeded | failed | cancelled
    message: str = ""
    verification: dict[str, Any] = field(default_factory=dict)
    post_check: dict[str, Any] = field(default_factory=dict)
    swapped: bool = False
    error_code: str = ""
    rollback_digest: str = ""  # of the copy kept for rollback, taken once the run settled


@dataclass
class RestoreJob:
    run_id: int
    target: Endpoint
    backup: Endpoint
    spec: TargetSpec
    # The point to restore, or how to find it on the backup server once logged in there.
    point: RestorePoint | Callable[[Remote], RestorePoint]
    digests: dict[str, str]
    manifest: dict[str, Any]
    journal: Journal
    cancel: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[Progress], None] = lambda p: None
    staging_root: str = STAGING_ROOT
    # Names every command of the run on its servers; unique, so that stopping this run's
    # work never touches another run (of this or another Pulih) with the same number.
    tag: str = ""
    uid: str = ""  # the run's UUID (hex): see RunNames
    limit: int = 0  # bytes per second the backup file may move at (0: as fast as it goes)
    # The target fetches the file itself (restore.pull); `pull_base` is the system's folder
    # on the backup server, which the forced command there serves.
    pull: Pull | None = None
    pull_base: str = ""
    _lock: paramiko.Channel | None = field(default=None, init=False, repr=False)
    # Called once the restored data is live and checked, before the copy kept for rollback
    # is fingerprinted and the run's leftovers removed: whoever waits hears it at once.
    settled: Callable[[Outcome], None] | None = None
    # A restore drill: everything up to the shadow's verification, then the shadow is
    # dropped; nothing is ever swapped, the live data is only looked at.
    drill: bool = False
    _refused: bool = field(default=False, init=False, repr=False)  # another run holds it
    _carrier: ReadyChild | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.tag = self.tag or run_tag(self.run_id)

    @property
    def names(self) -> RunNames:
        return RunNames(self.run_id, self.uid)

    @property
    def _found(self) -> RestorePoint:
        assert isinstance(self.point, RestorePoint), "located at the start of run()"
        return self.point

    def _locate(self, backup: Remote) -> RestorePoint:
        """The point, found on the backup server over the run's own connection."""
        assert not isinstance(self.point, RestorePoint)
        self.point = self.point(backup)
        return self.point

    @property
    def staging_dir(self) -> str:
        return confined(absolute_path(self.staging_root), self.names.key)

    def _step(self, phase: Phase, work: Callable[[], Any]) -> Any:
        if self.cancel.is_set():
            raise Cancelled("Restore dibatalkan sebelum data live disentuh.")
        self.journal.phase(phase, "started")
        self.on_progress(Progress(phase))
        try:
            result = work()
        except RestoreError as exc:
            self.journal.phase(phase, "failed", exc.message)
            raise
        self.journal.phase(phase, "done")
        return result

    def run(self) -> Outcome:
        """Do the whole restore; the outcome says what happened, in Indonesian."""
        target: Remote | None = None
        backup: Remote | None = None
        recipe: Recipe | None = None
        swapped = swap_started = False
        before: list[str] | None = None
        rolled_back = False
        outcome = Outcome("failed")
        try:
            recipe = recipe_for(self.spec)
            r = recipe
            known = self.point if isinstance(self.point, RestorePoint) else None
            # Recorded before the first command runs: recovery stops what carries it.
            self.journal.phase(Phase.PREFLIGHT, "tag", self.tag)
            if self.pull is None and (r.streams(r.pick([f.name for f in known.files]))
                                      if known else r.kind != "postgresql"):
                # The process that will carry the bytes starts now, and logs in, while
                # pre-flight runs: its start is time the team would otherwise wait.
                self._carrier = ReadyChild(self.backup, self.target, self.tag)
            # Both logins at once: each is a round trip or two the team would wait for.
            with ThreadPoolExecutor(1, thread_name_prefix="pulih-login") as logins:
                reaching = logins.submit(take_parked, self.backup)
                try:
                    target = take_parked(self.target)
                except BaseException:
                    with contextlib.suppress(Exception):
                        reaching.result().close()
                    raise
                target.cancel, target.tag = self.cancel, self.tag
                backup = reaching.result()
            t, b = target, backup
            point = known or self._locate(b)
            name = recipe.pick([f.name for f in point.files])
            staged = Staged(name, confined(self.staging_dir, name),
                            next(f.size for f in point.files if f.name == name))
            streaming = r.streams(name)
            self._step(Phase.PREFLIGHT, lambda: self._preflight(t, r, staged, streaming))
            before = r.live_state(t)
            self.journal.phase(Phase.PREFLIGHT, "live", json.dumps(before, ensure_ascii=False))
            if streaming:
                self.journal.phase(Phase.APPLY, "note", PULLED if self.pull else STREAMED)
                self._step(Phase.APPLY, lambda: self._stream(b, t, r, staged))
            else:
                entries: dict[str, str] = {}
                self._step(Phase.TRANSFER, lambda: self._transfer(b, t, staged, entries))
                if r.kind == "files":
                    staged = dataclasses.replace(staged, tree=entries)
                self._step(Phase.APPLY, lambda: r.apply(t, staged, self.names))
            outcome.verification = self._step(
                Phase.VERIFY, lambda: r.verify(t, self.names, self.manifest))
            # Kept, so that a run cut off after its swap can be checked and finished by
            # whoever takes it up (finish_swapped).
            self.journal.phase(Phase.VERIFY, VERIFIED,
                               json.dumps(outcome.verification, ensure_ascii=False))
            if self.cancel.is_set():
                raise Cancelled("Restore dibatalkan sebelum data live disentuh.")
            if self.drill:
                outcome.status = "succeeded"
                outcome.message = ("Uji pemulihan selesai: backup dipulihkan ke salinan "
                                   "sementara dan terverifikasi, lalu salinan itu dihapus.")
                return outcome  # the clean-up below drops the shadow
            swap_started = True
            self._step(Phase.SWAP, lambda: r.swap(t, self.names))
            swapped = True
            try:
                outcome.post_check = self._step(
                    Phase.POSTCHECK, lambda: self._post_check(t, r, outcome.verification))
            except RestoreError as exc:
                self._step(Phase.ROLLBACK, lambda: r.rollback(t, self.names))
                swapped, rolled_back = False, True
                raise RestoreError(f"Pemeriksaan setelah penggantian gagal ({exc.message}); "
                                   "data live dikembalikan ke kondisi sebelum restore.") from exc
            outcome.status, outcome.swapped = "succeeded", True
            outcome.message = ("Restore selesai dan terverifikasi; kondisi sebelumnya disimpan "
                               "untuk rollback.")
            if self.settled is not None:
                self.settled(outcome)
        except Cancelled as exc:
            outcome.status, outcome.message, outcome.error_code = "cancelled", exc.message, \
                exc.code
        except RestoreError as exc:
            outcome.message, outcome.error_code = exc.message, exc.code
            if before is None:  # nothing on the target was changed yet, nor looked at twice
                outcome.message += " Pulih belum mengubah apa pun di server tujuan."
            elif not swapped and not exc.message.endswith("disentuh."):
                outcome.message += " Data live tidak disentuh."
        finally:
            if self._carrier is not None:
                self._carrier.close()
                self._carrier = None
            if target is not None:
                # What follows puts things in order; it must finish, and not be taken for
                # the run's own work by the cleanup that stops it.
                target.cancel = target.tag = None
                if recipe is not None:
                    if swap_started and not swapped and outcome.status != "succeeded":
                        swapped = outcome.swapped = self._settle(target, recipe)
                        if swapped:
                            outcome.message = (
                                outcome.message.removesuffix(" Data live tidak disentuh.")
                                + " Penggantian ternyata sudah terjadi: data hasil restore kini "
                                "live dan kondisi sebelumnya tersimpan untuk rollback.")
                    outcome.rollback_digest = self._cleanup(
                        target, recipe, swapped,
                        fingerprint=outcome.status == "succeeded" and not self.drill)
                    if before is not None and not swapped:
                        # The claim about live data is replaced by one that was checked.
                        said = _UNTOUCHED.sub("", outcome.message).rstrip()
                        outcome.message = live_checked(target, recipe, before, said,
                                                       rolled_back)
                self._release()
                target.close()
            if backup is not None:
                backup.close()
        return outcome

    def finish_swapped(self, verified: dict[str, Any]) -> Outcome:
        """The rest of a run that was cut off after its swap (its worker died), taken up
        elsewhere once the target was put in order: the restored data, live now, checked
        as the run would have (`verified`: what its shadow held); if the check fails, the
        previous state is put back. Then the clean-up and the rollback copy's fingerprint."""
        outcome = Outcome("failed", verification=verified, swapped=True)
        recipe = recipe_for(self.spec)
        target = connect(self.target)
        try:
            try:
                outcome.post_check = self._step(
                    Phase.POSTCHECK, lambda: self._post_check(target, recipe, verified))
            except RestoreError as exc:
                self._step(Phase.ROLLBACK, lambda: recipe.rollback(target, self.names))
                outcome.swapped = False
                outcome.message, outcome.error_code = (
                    f"Pemeriksaan setelah penggantian gagal ({exc.message}); data live "
                    "dikembalikan ke kondisi sebelum restore."), exc.code
            else:
                outcome.status = "succeeded"
                outcome.message = ("Restore selesai dan terverifikasi; kondisi sebelumnya "
                                   "disimpan untuk rollback.")
            outcome.rollback_digest = self._cleanup(
                target, recipe, outcome.swapped, fingerprint=outcome.status == "succeeded")
        finally:
            target.close()
        return outcome

    def _settle(self, target: Remote, recipe: Recipe) -> bool:
        """A swap that failed part-way: leave one whole state, and say which."""
        try:
            return recipe.settle_swap(target, self.names)
        except RestoreError as exc:
            self.journal.phase(Phase.SWAP, "failed", exc.message)
            return False

    def _preflight(self, target: Remote, recipe: Recipe, staged: Staged,
                   streaming: bool) -> None:
        target.run("mkdir", "-p", "-m", "0700", "--", self.staging_dir)
        self._claim(target)
        recipe.preflight(target)
        # A stream needs room for the shadow only; a staged file for its copy as well.
        needs = [] if streaming else [(self.staging_dir, staged.size)]
        for path, size in recipe.space_needed(staged.size, [staged.name]):
            if path == "@datadir":
                path = getattr(recipe, "datadir")(target)  # noqa: B009 - db recipes only
            needs.append((path, size))
        for path, size in needs:
            available = self._free(target, path)
            if available is None:
                self.journal.phase(Phase.PREFLIGHT, "note",
                                   f"Ruang disk di {path} tidak dapat diperiksa.")
                continue
            if available < size:
                raise NotEnoughSpace(
                    f"Ruang disk di {target.endpoint.label}:{path} tidak cukup: tersedia "
                    f"{available // (1 << 20)} MiB, dibutuhkan sekitar {size // (1 << 20)} MiB.")

    def _claim(self, target: Remote) -> None:
        """One restore of a live system at a time on its server, whichever Pulih runs it
        (another installation, a break-glass CLI): a lock file beside the staging folders,
        held by `flock` on a channel of this run's connection for as long as the run
        lasts. Should this process die, its connection closes and the lock goes with it;
        no stale lock is left to clear by hand."""
        digest = hashlib.sha256("|".join((self.spec.recipe, self.spec.database or "",
                                          self.spec.app_dir or "")).encode()).hexdigest()
        lock = confined(absolute_path(self.staging_root), f"live-{digest[:16]}.lock")
        # Named apart from the run's work: stopping that work (cleanup, recovery) leaves
        # the lock alone; it is let go by closing its channel, or with the connection.
        channel = target.open("flock", "-n", "-E", str(LOCK_BUSY), lock, "sh", "-c",
                              f"echo {LOCK_HELD}; exec cat >/dev/null", timeout=LOCK_WAIT,
                              tag=self.tag + LOCK_SUFFIX)
        said, ended = b"", False
        try:
            while b"\n" not in said:
                chunk = channel.recv(64)
                if not chunk:
                    ended = True
                    break
                said += chunk
        except TimeoutError:
            pass
        if said.startswith(LOCK_HELD.encode()):
            channel.settimeout(None)
            self._lock = channel
            return
        status = channel.recv_exit_status() if ended or channel.exit_status_ready() else -1
        channel.close()
        if status == LOCK_BUSY:
            self._refused = True
            raise Busy(f"Sistem ini sedang di-restore di {target.endpoint.label} oleh proses "
                       "Pulih lain (instalasi lain atau perintah darurat). Tunggu sampai "
                       "selesai, lalu coba lagi.")
        if status == 127:
            self.journal.phase(Phase.PREFLIGHT, "note", "flock tidak tersedia di server tujuan: "
                               "restore dari instalasi Pulih lain tidak dapat dicegah di sana.")
            return
        raise CommandFailed(f"Kunci restore di {target.endpoint.label} tidak dapat diambil "
                            f"(status {status}).")

    def _release(self) -> None:
        if self._lock is not None:
            with contextlib.suppress(Exception):
                self._lock.shutdown_write()
                self._lock.close()
            self._lock = None

    def _post_check(self, target: Remote, recipe: Recipe,
                    verified: dict[str, Any]) -> dict[str, Any]:
        result = recipe.post_check(target, verified)
        if self.spec.health_url:
            result["health"] = self._health(target, self.spec.health_url)
        return result

    @staticmethod
    def _health(target: Remote, url: str) -> str:
        """Ask the application itself, from the target, whether it answers."""
        url = safe_url(url)
        if target.run("command", "-v", "curl", DISCARD, check=False).status != 0:
            return "curl tidak tersedia di server tujuan; URL kesehatan tidak diperiksa"
        answer = target.run("curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                            "--max-time", "20", "--", url, check=False, timeout=60)
        code = answer.text.strip()
        if answer.status != 0 or not code.startswith(("2", "3")):
            raise RestoreError(f"Aplikasi tidak sehat setelah restore: {url} menjawab "
                               f"{code or answer.error_text() or 'tidak ada jawaban'}.")
        return f"{url} menjawab HTTP {code}"

    @staticmethod
    def _free(target: Remote, path: str) -> int | None:
        result = target.run("df", "-P", "-B1", "--", path, check=False)
        try:
            return int(result.text.splitlines()[-1].split()[3])
        except (IndexError, ValueError):
            return None

    def _bytes(self, phase: Phase, total: int) -> Callable[[int], None]:
        """Progress of `total` bytes moving in `phase`, passed on twice a second at most."""
        started = time.monotonic()
        last = [0.0]

        def progress(done: int) -> None:
            now = time.monotonic()
            if now - last[0] < 0.5 and done < total:
                return
            last[0] = now
            rate = done / max(now - started, 1e-6)
            eta = (total - done) / rate if rate > 0 else None
            self.on_progress(Progress(phase, done, total, rate, eta))

        return progress

    def _transfer(self, backup: Remote, target: Remote, staged: Staged,
                  entries: dict[str, str]) -> None:
        copy_in_child(backup, self._found.path_of(staged.name), target, staged.path,
                      size=staged.size, expected_sha256=self.digests[staged.name],
                      on_progress=self._bytes(Phase.TRANSFER, staged.size),
                      cancel=self.cancel, recipe=self.spec.recipe, tree=entries,
                      tag=self.tag, limit=self.limit)

    def _stream(self, backup: Remote, target: Remote, recipe: Recipe, staged: Staged) -> None:
        """The file poured into the shadow's import: through this host (restore.stream),
        or fetched by the target itself (restore.pull)."""
        command = recipe.prepare(target, staged, self.names)
        source = self._found.path_of(staged.name)
        entries: dict[str, str] = {}
        try:
            if self.pull is not None:
                pull_into(target, self.pull, relative_to(self.pull_base, source), command,
                          staging_dir=self.staging_dir, tag=self.tag,
                          expected_sha256=self.digests[staged.name],
                          failed=recipe.import_failed)
            else:
                _, carrier = stream_in_child(
                    backup, source, target, command, size=staged.size,
                    expected_sha256=self.digests[staged.name], tag=self.tag,
                    on_progress=self._bytes(Phase.APPLY, staged.size), cancel=self.cancel,
                    recipe=self.spec.recipe, tree=entries, limit=self.limit,
                    failed=recipe.import_failed, ready=self._carrier)
                self.journal.phase(Phase.APPLY, "note", f"dibawa oleh {carrier}")
        except CommandFailed as exc:
            raise recipe.explain(exc) from exc
        if recipe.kind == "files" and self.pull is None:
            staged = dataclasses.replace(staged, tree=entries)
        recipe.finish(target, staged, self.names)

    def _fingerprint(self, target: Remote, recipe: Recipe) -> str:
        """The copy kept for rollback, fingerprinted while it is still exactly the old live
        state (nothing but a rollback touches it); a rollback checks it first
        (restores.rollback_run). Empty when it cannot be taken."""
        try:
            return recipe.rollback_digest(target, self.names)
        except RestoreError as exc:
            self.journal.phase(Phase.CLEANUP, "note",
                               f"Sidik salinan rollback tidak dapat diambil: {exc.message}")
            return ""

    def _cleanup(self, target: Remote, recipe: Recipe, swapped: bool,
                 fingerprint: bool = False) -> str:
        """With `fingerprint`, first fingerprint the copy kept for rollback (returned).
        Stop what this run may still have running on the target (a cancelled import, a
        hash), then remove the staging copy and whatever the shadow left; never live data."""
        self.journal.phase(Phase.CLEANUP, "started")
        digest = self._fingerprint(target, recipe) if fingerprint else ""
        try:
            stop_run(target, self.tag)
            target.run("rm", "-rf", "--", self.staging_dir, check=False)
            if not self._refused:  # refused at the lock: the run made no shadow to drop
                recipe.discard_shadow(target, self.names)
            self.journal.phase(Phase.CLEANUP, "done", "rollback disimpan" if swapped else "")
        except RestoreError as exc:
            self.journal.phase(Phase.CLEANUP, "failed", exc.message)
        return digest


def live_checked(target: Remote, recipe: Recipe, before: list[str], message: str,
                 rolled_back: bool = False) -> str:
    """`message`, followed by what a fresh look at the live data shows against `before`
    (what pre-flight saw): untouched (or, after an automatic rollback, back as it was),
    changed (by whom it was not), or not checkable."""
    try:
        after = recipe.live_state(target)
    except RestoreError as exc:
        return (f"{message} Pulih tidak menukar data live, tetapi keadaannya belum dapat "
                f"diperiksa ulang ({exc.message}).")
    if after == before:
        what = before[0] if before else "data live"
        if rolled_back:  # the message already says it was put back; this confirms it
            return (f"{message} Diperiksa ulang: {what} dan {len(before) - 1} isinya sama "
                    "dengan sebelum restore.")
        return (f"{message} Data live tidak disentuh (diperiksa ulang: {what} dan "
                f"{len(before) - 1} isinya masih sama).")
    gone = [x for x in before if x not in after][:5]
    new = [x for x in after if x not in before][:5]
    return (f"{message} PERHATIAN: data live berubah selama restore, bukan oleh penggantian "
            f"Pulih (hilang: {', '.join(gone) or '-'}; baru: {', '.join(new) or '-'}). "
            "Periksa server tujuan segera.")
