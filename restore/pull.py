"""Step 5 where the office allows it: the target fetches the backup file from the backup
server itself, over its own SSH, straight into the shadow's import, so the bytes never
cross the bot host. The target's key is one the backup server lets run only
`deploy/pulih-baca-backup <the system's folder>` (a forced command), and the backup
server's host key is pinned in a known_hosts file on the target.

What arrives is hashed on the target (`openssl dgst`, or `sha256sum` where OpenSSL's
command is missing, reads the same stream through `tee`: coreutils' sha256sum runs at a
fraction of OpenSSL's speed where the processor has SHA instructions, and held the pull
to its pace) and compared here with the digest the step-4 check recorded before anything
is swapped; a difference drops the shadow. Unlike a stream through the bot host, the
bytes are not read by Pulih's inspector on the way: the check read them where they lie,
and the import still runs in the shadow (best as `db_import_user`), so a file swapped
after the check is caught by its digest before it goes live.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from restore.errors import (
    ChecksumMismatch,
    CommandFailed,
    ConnectionLost,
    NotEnoughSpace,
    disk_full,
)
from restore.pipe import CIPHERS
from restore.processes import IMPORT_SUFFIX
from restore.safety import Op, confined, file_name, relative_path, shell
from restore.ssh import Remote

PULL_TIMEOUT = 6 * 3600.0
MARK = "PULIH-TARIK"
# Run on the target by `sh -c`, with its words as arguments (nothing is put into the text):
# $1 the FIFO the hash reads, $2 where the hash goes, $3 the import's command line (quoted
# by restore.safety.shell), then the `ssh` command that prints the backup file.
SCRIPT = r"""set -u
fifo=$1; sums=$2; line=$3; shift 3
rm -f -- "$fifo" "$sums" "$sums.ssh"
mkfifo -m 600 -- "$fifo" || exit 70
if command -v openssl >/dev/null 2>&1; then
    openssl dgst -sha256 -r < "$fifo" > "$sums" &
else
    sha256sum < "$fifo" > "$sums" &
fi
{ "$@"; echo "$?" > "$sums.ssh"; } | tee -- "$fifo" | sh -c "$line"
imported=$?
wait
fetched=$(cat -- "$sums.ssh" 2>/dev/null || echo 255)
echo "PULIH-TARIK $fetched $(cut -d' ' -f1 < "$sums" 2>/dev/null)"
rm -f -- "$fifo" "$sums" "$sums.ssh"
exit "$imported"
"""


@dataclass(frozen=True)
class Pull:
    """How a target fetches its backups itself: the backup server as the target reaches
    it, and the target's own key and known_hosts (paths on the target)."""

    host: str
    port: int
    user: str
    key: str
    known_hosts: str

    def ssh(self, relative: str) -> list[str]:
        """The `ssh` command the target runs: the forced command on the backup server
        reads `relative` as the file asked for."""
        return ["ssh", "-F", "/dev/null", "-T", "-x", "-a", "-o", "BatchMode=yes",
                "-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={self.known_hosts}",
                "-o", "GlobalKnownHostsFile=/dev/null", "-o", "CheckHostIP=no",
                "-o", "UpdateHostKeys=no", "-o", "IdentitiesOnly=yes",
                "-o", "IdentityAgent=none", "-i", self.key, "-o", "ConnectTimeout=15",
                "-o", "ServerAliveInterval=15", "-o", "LogLevel=ERROR", "-c", CIPHERS,
                "-p", str(self.port), "-l", self.user, "--", self.host, relative]


def relative_to(base: str, path: str) -> str:
    """`path` (a backup file) as the forced command on the backup server names it: below
    the system's folder `base`."""
    prefix = base.rstrip("/") + "/"
    if not path.startswith(prefix):
        raise CommandFailed(f"Berkas {path} tidak berada di folder sistem {base}.")
    return relative_path(path[len(prefix):], "berkas backup")


def pull_into(target: Remote, pull: Pull, relative: str, command: Sequence[str | Op], *,
              staging_dir: str, tag: str, expected_sha256: str, failed: str) -> str:
    """The target fetches `relative` and pours it into `command` (the shadow's import);
    return the SHA-256 the target computed, which matches `expected_sha256`."""
    fifo = confined(staging_dir, file_name("tarik.fifo"))
    said = bytearray()

    def keep(data: bytes) -> None:  # the import may print; only the end is wanted
        said.extend(data)
        del said[:-8192]

    result = target.run("sh", "-c", SCRIPT, "pulih-tarik", fifo, fifo + ".sha256",
                        shell(*command), *pull.ssh(relative), check=False,
                        timeout=PULL_TIMEOUT, on_output=keep, tag=tag + IMPORT_SUFFIX)
    words = bytes(said).decode("utf-8", "replace").rsplit(MARK, 1)
    fields = words[1].split() if len(words) == 2 else []
    fetched = int(fields[0]) if fields and fields[0].lstrip("-").isdigit() else -1
    seen = fields[1] if len(fields) > 1 else ""
    error = result.error_text()
    if fetched != 0:
        raise ConnectionLost(
            f"Server tujuan {target.endpoint.label} tidak dapat menarik berkas backup dari "
            f"{pull.host}:{pull.port} (kode {fetched}): {error or '-'}")
    if seen != expected_sha256:
        raise ChecksumMismatch(
            f"SHA-256 berkas yang ditarik server tujuan ({seen or '-'}) tidak sama dengan "
            f"hasil pemeriksaan backup ({expected_sha256}): berkas berubah setelah diperiksa. "
            "Salinan sementara dibuang; data live tidak disentuh.")
    if result.status != 0:
        if disk_full(error):
            raise NotEnoughSpace(f"Disk penuh di {target.endpoint.label} saat mengisi "
                                 f"salinan sementara: {error}. Data live tidak disentuh.")
        raise CommandFailed(f"{failed}: {error or '-'}")
    return seen
