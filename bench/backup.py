"""Backup and restore at scale: `app.py backup` and `app.py restore` of an install of 10k and
100k chunks (the store of bench/scale.py: SciFact's chunks replicated, vectors perturbed);
prints a table of time, size and the counts restored.

    .venv/bin/python bench/backup.py [--sizes 10000,100000]

Each size gets a fresh data dir under --work, built in process; backup and restore run as the
commands an operator types (separate processes), the restore into an empty data dir.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import base_chunks, bulk_load  # noqa: E402

from index.embeddings import load_embeddings  # noqa: E402
from rag.runtime import build_runtime  # noqa: E402
from rag.settings import Settings  # noqa: E402


def _cli(data: Path, *args: str) -> tuple[float, str]:
    env = {**os.environ, "DOCENT_DATA_DIR": str(data)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"app.py {' '.join(args)} failed: {done.stderr.strip()}")
    return seconds, done.stdout.strip()


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20


def measure(size: int, work: Path, embeddings, base) -> dict[str, float]:  # type: ignore[no-untyped-def]
    source = work / f"backup-{size}" / "source"
    target = work / f"backup-{size}" / "target"
    folder = work / f"backup-{size}" / "backup"
    shutil.rmtree(source.parent, ignore_errors=True)
    settings = Settings(data_dir=source, samples_dir=None, _env_file=None)  # type: ignore[call-arg]
    runtime = build_runtime(settings, embeddings=embeddings)
    chunks, vectors = base
    bulk_load(runtime, chunks, vectors, size)
    runtime.lexical.close()
    del runtime
    row: dict[str, float] = {"chunks": float(size), "data dir MB": _size_mb(source)}
    row["backup s"], _ = _cli(source, "backup", str(folder))
    listing = json.loads((folder / "backup.json").read_text())
    row["backup MB"] = _size_mb(folder)
    row["restore s"], _ = _cli(target, "restore", str(folder))
    check = Settings(data_dir=target, samples_dir=None, _env_file=None)  # type: ignore[call-arg]
    restored = build_runtime(check, embeddings=embeddings)
    row["chunks restored"] = float(restored.store.count())
    row["lexical restored"] = float(len(restored.lexical))
    row["documents restored"] = float(restored.manifest.count())
    assert listing["counts"]["chunks"] == size == row["chunks restored"] == row["lexical restored"]
    restored.lexical.close()
    shutil.rmtree(source.parent, ignore_errors=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()))
    args = parser.parse_args()
    embeddings = load_embeddings("all-MiniLM-L6-v2")
    sizes = [int(s) for s in args.sizes.split(",")]
    chunks, vectors, _ = base_chunks(args.eval_dir, embeddings, min(max(sizes), 20000))
    rows = [measure(size, args.work, embeddings, (chunks, vectors)) for size in sizes]
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print(
            "| "
            + " | ".join(f"{row[c]:,.0f}" if row[c] >= 100 else f"{row[c]:.1f}" for c in columns)
            + " |"
        )


if __name__ == "__main__":
    main()
