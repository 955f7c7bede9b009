"""Transfer throughput: Pulih's stream (SHA-256 on the fly) against the OpenSSH pipeline.

    python3 benchmarks/restore_throughput.py [--size-mib 1024] [--rounds 3]

Starts two sshd servers on 127.0.0.1 (backup and target, as the tests do), writes a
random backup file of the given size, then, each round, pours it backup -> target into
`cat > FILE`
1. through Pulih's stream (`stream_in_child`: a process of its own, measured from a
   child process so the peak memory is the restore's own), the bytes carried by `ssh`
   processes (the default where OpenSSH is installed) and by paramiko, and
2. through `ssh backup cat FILE | ssh target 'cat > FILE'`, with OpenSSH's default
   cipher and with Pulih's cipher order,
3. pulled by the target itself (`pull_into`: the target's own `ssh` with a forced-command
   key, `deploy/pulih-baca-backup`, hashed on the target through `tee`), against the
   single hop an engineer would type on the target, `ssh backup cat FILE > FILE` (both
   ciphers again),
and prints the best and median MB/s of each, Pulih's ratios against the faster baseline,
and Pulih's peak resident memory; then 256 MiB under a `--cap-mib` cap (the rate while
bytes move, against the cap). Then
4. a whole files restore (`RestoreJob`: stream into the shadow, verification of every
   file against the archive, swap, check) of a `--restore-mib` archive holding one large
   file and `--files` small ones, in a process that has loaded what `pulih` loads, and
   prints its time and peak resident memory (its own and its transfer child's).
Needs root (sshd) and openssh-server.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.demo.lab.sshd import SshServer, ssh_server  # noqa: E402
from restore.pipe import CIPHERS  # noqa: E402
from restore.pull import pull_into  # noqa: E402
from restore.safety import TO  # noqa: E402
from restore.ssh import connect  # noqa: E402

CHILD = r"""
import json, resource, sys, time
from pathlib import Path
from restore.safety import TO
from restore.ssh import Endpoint, connect
from restore.transfer_process import stream_in_child
spec = json.loads(sys.argv[1])
backup = connect(Endpoint(**{**spec["backup"], "key_path": Path(spec["backup"]["key_path"]),
                             "known_hosts": Path(spec["backup"]["known_hosts"])}))
target = connect(Endpoint(**{**spec["target"], "key_path": Path(spec["target"]["key_path"]),
                             "known_hosts": Path(spec["target"]["known_hosts"])}))
seen = []
start = time.perf_counter()
stream_in_child(backup, spec["source"], target, ["cat", TO, spec["dest"]], size=spec["size"],
                expected_sha256=spec["sha256"], tag="pulih-run-0-bench",
                openssh=spec["openssh"], limit=spec.get("limit", 0),
                on_progress=lambda done: seen.append((time.perf_counter(), done)))
elapsed = time.perf_counter() - start
(t0, d0), (t1, d1) = seen[0], seen[-1]
print(json.dumps({"seconds": elapsed, "moving_rate": (d1 - d0) / max(t1 - t0, 1e-9),
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
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cap-mib", type=int, default=32,
                        help="also stream 256 MiB under this cap, MiB/s (0: skip)")
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
            times: dict[str, list[float]] = {"openssh": [], "paramiko": [], "pipeline": [],
                                             "pipeline-gcm": [], "pull": [], "hop": [],
                                             "hop-gcm": []}
            pull = backup.allow_pull(folder / "tarik_ed25519", folder,
                                     ROOT / "deploy" / "pulih-baca-backup")
            stage = folder / "stage"
            stage.mkdir()
            peak = 0

            def through_pulih(way: str, dest: Path, limit: int = 0) -> dict[str, float]:
                nonlocal peak
                run = subprocess.run(
                    [sys.executable, "-c", CHILD,
                     json.dumps({**spec, "dest": str(dest), "openssh": way == "openssh",
                                 "limit": limit})],
                    capture_output=True, text=True, cwd=ROOT)
                if run.returncode != 0:
                    raise RuntimeError(run.stderr)
                result: dict[str, float] = json.loads(run.stdout)
                peak = max(peak, int(result["peak_kib"]))
                assert dest.stat().st_size == spec["size"]
                dest.unlink()
                return result

            for round_ in range(args.rounds):
                for way in ("openssh", "paramiko"):
                    times[way].append(
                        through_pulih(way, folder / f"{way}-{round_}.bin")["seconds"])
                for way, extra in (("pipeline", []), ("pipeline-gcm", ["-c", CIPHERS])):
                    dest = folder / f"{way}-{round_}.bin"
                    start = time.perf_counter()
                    pipeline = (f"{shlex.join([*backup.ssh_command(), *extra])} "
                                f"{shlex.quote('cat ' + str(source))}"
                                f" | {shlex.join([*target.ssh_command(), *extra])} "
                                f"{shlex.quote('cat > ' + str(dest))}")
                    subprocess.run(["bash", "-o", "pipefail", "-c", pipeline], check=True)
                    times[way].append(time.perf_counter() - start)
                    assert dest.stat().st_size == size
                    dest.unlink()
                dest = folder / f"pull-{round_}.bin"
                remote = connect(target.endpoint())
                try:
                    start = time.perf_counter()
                    pull_into(remote, pull, source.name, ["cat", TO, str(dest)],
                              staging_dir=str(stage), tag="pulih-run-0-pull",
                              expected_sha256=spec["sha256"], failed="tarik gagal")
                    times["pull"].append(time.perf_counter() - start)
                finally:
                    remote.close()
                assert dest.stat().st_size == size
                dest.unlink()
                for way, extra in (("hop", []), ("hop-gcm", ["-c", CIPHERS])):
                    dest = folder / f"{way}-{round_}.bin"
                    hop = (f"{shlex.join([*backup.ssh_command(), *extra])} "
                           f"{shlex.quote('cat ' + str(source))} > {shlex.quote(str(dest))}")
                    start = time.perf_counter()
                    subprocess.run([*target.ssh_command(), hop], check=True)
                    times[way].append(time.perf_counter() - start)
                    assert dest.stat().st_size == size
                    dest.unlink()
            capped = None
            if args.cap_mib:
                cap_bytes = min(size, 256 << 20)
                spec_cap = {**spec, "size": cap_bytes}
                part = folder / "part.bin"
                # Copied by `head`, not read here: a large heap in this process would be
                # counted in the peak memory of every process it starts afterwards.
                subprocess.run(["sh", "-c", 'head -c "$1" "$2" > "$3"', "-", str(cap_bytes),
                                str(source), str(part)], check=True)
                with part.open("rb") as piece:
                    spec_cap["sha256"] = hashlib.file_digest(piece, "sha256").hexdigest()
                spec_cap["source"] = str(part)
                saved, spec = spec, spec_cap
                capped = through_pulih("openssh", folder / "capped.bin",
                                       args.cap_mib << 20)["moving_rate"]
                spec = saved
                part.unlink()
            source.unlink()
            whole = whole_restore(backup, target, folder / "restore", args.restore_mib,
                                  args.files)
    mb = size / 1e6

    def line(label: str, seconds: list[float]) -> str:
        best, middle = min(seconds), statistics.median(seconds)
        return (f"{label:<34}: best {mb / best:7.1f} MB/s ({best:.2f} s), "
                f"median {mb / middle:7.1f} MB/s ({middle:.2f} s)")

    print(f"backup size: {args.size_mib} MiB, {args.rounds} rounds each, streamed into "
          "`cat > file` on the target, SHA-256 on the way")
    print(line("Pulih, bytes in ssh processes", times["openssh"]))
    print(line("Pulih, bytes in paramiko", times["paramiko"]))
    print(line("OpenSSH pipeline (ssh | ssh)", times["pipeline"]))
    print(line("  the same, Pulih's cipher order", times["pipeline-gcm"]))
    # Against the faster of the two pipelines, best against best and median against median.
    best = min(min(times["pipeline"]), min(times["pipeline-gcm"]))
    middle = min(statistics.median(times["pipeline"]), statistics.median(times["pipeline-gcm"]))
    for way in ("openssh", "paramiko"):
        print(f"ratio Pulih ({way})/OpenSSH: best {best / min(times[way]):5.2f}, median "
              f"{middle / statistics.median(times[way]):5.2f}  (target >= 1.0)")
    print(line("Pulih, pulled by the target", times["pull"]))
    print(line("ssh backup cat > file, on target", times["hop"]))
    print(line("  the same, Pulih's cipher order", times["hop-gcm"]))
    best = min(min(times["hop"]), min(times["hop-gcm"]))
    middle = min(statistics.median(times["hop"]), statistics.median(times["hop-gcm"]))
    print(f"ratio Pulih (pull)/single hop: best {best / min(times['pull']):5.2f}, median "
          f"{middle / statistics.median(times['pull']):5.2f}  (target >= 0.9)")
    print(f"Pulih peak memory      : {peak / 1024:8.1f} MB  (target < 150 MB)")
    if capped is not None:
        rate = capped / (1 << 20)
        print(f"cap {args.cap_mib} MiB/s over {min(size, 256 << 20) >> 20} MiB: "
              f"{rate:.1f} MiB/s = {rate / args.cap_mib:.2f}x the cap  (target within 10 %)")
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
