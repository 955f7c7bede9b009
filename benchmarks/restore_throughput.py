"""Transfer throughput: Pulih (paramiko, SHA-256 on the fly) against the OpenSSH pipeline.

    python3 benchmarks/restore_throughput.py [--size-mib 1024]

Starts two sshd servers on 127.0.0.1 (backup and target, as the tests do), writes a
random backup file of the given size, then copies it backup -> target
1. through Pulih's transfer (`copy_in_child`: the copy runs in a process of its own),
   measured from a child process so the peak memory is the restore's own, and
2. through `ssh backup cat FILE | ssh target 'cat > FILE'`,
and prints MB/s for both, their ratio and Pulih's peak resident memory. Then
3. a whole files restore (`RestoreJob`: transfer, unpack into the shadow, verification of
   every file against the archive, swap, check) of a `--restore-mib` archive holding one
   large file and `--files` small ones, in a process that has loaded what `pulih` loads,
   and prints its time and peak resident memory (its own and its transfer child's).
Needs root (sshd) and openssh-server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.demo.lab.sshd import SshServer, ssh_server  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from restore.ssh import Endpoint, connect
from restore.transfer_process import copy_in_child
spec = json.loads(sys.argv[1])
backup = connect(Endpoint(**{**spec["backup"], "key_path": Path(spec["backup"]["key_path"]),
                             "known_hosts": Path(spec["backup"]["known_hosts"])}))
target = connect(Endpoint(**{**spec["target"], "key_path": Path(spec["target"]["key_path"]),
                             "known_hosts": Path(spec["target"]["known_hosts"])}))
start = time.perf_counter()
copy_in_child(backup, spec["source"], target, spec["dest"], size=spec["size"],
              expected_sha256=spec["sha256"])
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed,
                  "peak_kib": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}))
"""


RESTORE = r"""
import json, resource, sys, time
from datetime import datetime, timezone
from pathlib import Path
import bot.cli  # what the `pulih` program holds in memory besides the restore
from restore.catalog import BackupFile, RestorePoint
from restore.engine import RestoreJob
from restore.recipes import TargetSpec
from restore.ssh import Endpoint
spec = json.loads(sys.argv[1])
ends = {k: Endpoint(**{**spec[k], "key_path": Path(spec[k]["key_path"]),
                      "known_hosts": Path(spec[k]["known_hosts"])}) for k in ("backup", "target")}
point = RestorePoint("20261123-0100", datetime.now(timezone.utc), spec["folder"],
                     (BackupFile("app.tar", spec["size"], datetime.now(timezone.utc)),), ())
class Journal:
    def phase(self, phase, status, detail=""):
        pass
job = RestoreJob(1, ends["target"], ends["backup"], TargetSpec("files", app_dir=spec["app"]),
                 point, {"app.tar": spec["sha256"]}, {}, Journal(), staging_root=spec["staging"])
start = time.perf_counter()
outcome = job.run()
print(json.dumps({"seconds": time.perf_counter() - start, "status": outcome.status,
                  "message": outcome.message, "files": outcome.verification.get("files"),
                  "self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "child_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def whole_restore(backup: SshServer, target: SshServer, folder: Path, size_mib: int,
                  files: int) -> dict[str, Any]:
    """A files restore of an archive of `size_mib` MiB with `files` small files besides a
    large one, in a process of its own; what it reported."""
    tree = folder / "tree"
    (tree / "data").mkdir(parents=True)
    small = 2048
    with (tree / "data" / "besar.bin").open("wb") as handle:
        for _ in range(size_mib - (files * small) // (1 << 20)):
            handle.write(os.urandom(1 << 20))
    for n in range(files):
        path = tree / f"modul{n % 100}" / f"berkas-{n}.php"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(n.to_bytes(4, "big") * (small // 4))
    point = folder / "backups" / "20261123-0100"
    point.mkdir(parents=True)
    subprocess.run(["tar", "-cf", str(point / "app.tar"), "-C", str(tree), "."], check=True)
    subprocess.run(["rm", "-rf", str(tree)], check=True)
    with (point / "app.tar").open("rb") as handle:
        digest = hashlib.file_digest(handle, "sha256").hexdigest()
    app = folder / "www" / "app"
    app.mkdir(parents=True)
    (app / "index.php").write_text("lama")
    spec = {"backup": endpoint_dict(backup), "target": endpoint_dict(target),
            "folder": str(point), "size": (point / "app.tar").stat().st_size,
            "sha256": digest, "app": str(app), "staging": str(folder / "staging")}
    run = subprocess.run([sys.executable, "-c", RESTORE, json.dumps(spec)],
                         capture_output=True, text=True, cwd=ROOT)
    if run.returncode != 0:
        raise RuntimeError(run.stderr)
    result: dict[str, Any] = json.loads(run.stdout)
    result["size"] = spec["size"]
    return result


def endpoint_dict(server: SshServer) -> dict[str, object]:
    e = server.endpoint()
    return {"name": e.name, "host": e.host, "port": e.port, "user": e.user,
            "key_path": str(e.key_path), "known_hosts": str(e.known_hosts), "sudo": False}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--restore-mib", type=int, default=2048)
    parser.add_argument("--files", type=int, default=50_000)
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    with tempfile.TemporaryDirectory(prefix="pulih-bench-") as tmp:
        folder = Path(tmp)
        source = folder / "backup.bin"
        digest = hashlib.sha256()
        with source.open("wb") as handle:
            for _ in range(args.size_mib):
                block = os.urandom(1 << 20)
                digest.update(block)
                handle.write(block)
        with ssh_server(folder / "sshd-b", "backup") as backup, \
                ssh_server(folder / "sshd-t", "target") as target:
            spec = {"backup": endpoint_dict(backup), "target": endpoint_dict(target),
                    "source": str(source), "size": size, "sha256": digest.hexdigest()}
            pulih, openssh, peak = [], [], 0
            for round_ in range(args.rounds):
                dest = folder / f"pulih-{round_}.bin"
                run = subprocess.run([sys.executable, "-c", CHILD,
                                      json.dumps({**spec, "dest": str(dest)})],
                                     capture_output=True, text=True, cwd=ROOT)
                if run.returncode != 0:
                    print(run.stderr, file=sys.stderr)
                    return 1
                result = json.loads(run.stdout)
                pulih.append(result["seconds"])
                peak = max(peak, result["peak_kib"])
                dest.unlink()
                dest = folder / f"openssh-{round_}.bin"
                start = time.perf_counter()
                pipeline = (f"{shlex.join(backup.ssh_command())} "
                            f"{shlex.quote('cat ' + str(source))}"
                            f" | {shlex.join(target.ssh_command())} "
                            f"{shlex.quote('cat > ' + str(dest))}")
                subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], check=True)
                openssh.append(time.perf_counter() - start)
                assert dest.stat().st_size == size
                dest.unlink()
            source.unlink()
            whole = whole_restore(backup, target, folder / "restore", args.restore_mib,
                                  args.files)
    mb = size / 1e6
    pulih_rate = mb / min(pulih)
    openssh_rate = mb / min(openssh)
    print(f"backup size            : {args.size_mib} MiB ({args.rounds} rounds, best of each)")
    print(f"Pulih (paramiko+SHA256): {pulih_rate:8.1f} MB/s  ({min(pulih):.2f} s)")
    print(f"OpenSSH pipeline       : {openssh_rate:8.1f} MB/s  ({min(openssh):.2f} s)")
    print(f"ratio Pulih/OpenSSH    : {pulih_rate / openssh_rate:8.2f}  (target >= 1.0)")
    print(f"Pulih peak memory      : {peak / 1024:8.1f} MB  (target < 150 MB)")
    print(f"whole files restore    : {whole['status']}, {whole['files']} files, "
          f"{whole['size'] / 2**20:.0f} MiB archive, {whole['seconds']:.1f} s")
    print(f"  peak memory, restore : {whole['self_kib'] / 1024:8.1f} MB  (target < 150 MB)")
    print(f"  peak memory, transfer: {whole['child_kib'] / 1024:8.1f} MB  (its child process)")
    if whole["status"] != "succeeded":
        print(f"  {whole['message']}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
