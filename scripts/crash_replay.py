"""Kill an ingest with SIGKILL several times, re-run it, and compare with a clean ingest.

    .venv/bin/python scripts/crash_replay.py [--kills 4] [--work DIR]

The corpus is the SQuAD 2.0 sample's 411 paragraphs (one .txt file each, read from
../shared/eval, written to a temp folder) plus the 9 bundled samples: 420 files. A clean ingest
goes into one data dir; into another, `app.py ingest` is started and killed `--kills` times at
random moments after the model has loaded (each before it could finish), then run once more to
the end. The manifest (name,
status, hash, chunk count), the chunk ids in Chroma and in the lexical index must then equal the
clean ingest's; the script prints what it compared and exits 1 on any difference.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.lexical import LexicalIndex  # noqa: E402
from rag.runtime import build_runtime  # noqa: E402
from rag.settings import Settings  # noqa: E402

State = tuple[dict[str, tuple[str, str | None, int]], set[str], set[str]]


def make_corpus(folder: Path, eval_dir: Path) -> Path:
    folder.mkdir(parents=True)
    for line in (eval_dir / "squad2" / "passages.jsonl").open():
        passage = json.loads(line)
        (folder / f"{passage['_id']}.txt").write_text(passage["text"] + "\n")
    for sample in (ROOT / "samples").iterdir():
        shutil.copy(sample, folder)
    return folder


def ingest(data: Path, folder: Path, kill_after: float | None = None) -> int | None:
    """`app.py ingest FOLDER` into `data`; killed after `kill_after` seconds if given.
    Returns the exit status, or None when it was killed."""
    env = {**os.environ, "DOCENT_DATA_DIR": str(data)}
    command = [sys.executable, str(ROOT / "app.py"), "ingest", str(folder)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    if kill_after is None:
        return process.wait()
    try:
        return process.wait(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


def state(data: Path) -> State:
    """(manifest by name: status, indexed hash, chunks; chunk ids in Chroma; in tantivy)."""
    runtime = build_runtime(Settings(data_dir=data, _env_file=None))
    manifest = {
        d.name: (d.status, runtime.manifest.indexed_hash(d.source), d.chunks)
        for d in runtime.manifest.all_documents()
    }
    chroma = {c.id for c in runtime.store.iter_chunks()}
    runtime.lexical.close()
    return manifest, chroma, LexicalIndex(runtime.settings.lexical_dir).chunk_ids()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--eval-dir", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="docent-crash-"))
    folder = make_corpus(work / "corpus", args.eval_dir)
    rng = random.Random(args.seed)

    started = time.monotonic()
    assert ingest(work / "clean", folder) == 0, "the clean ingest failed"
    clean_seconds = time.monotonic() - started
    # Each killed run gets at most its share of the work, so every kill lands mid-ingest.
    start_up = 7.5  # imports and the model, before the first file
    share = max(1.0, (clean_seconds - start_up) / (args.kills + 1))
    moments = [rng.uniform(start_up + 0.5, start_up + share) for _ in range(args.kills)]
    killed = 0
    for moment in moments:
        killed += ingest(work / "killed", folder, kill_after=moment) is None
    assert ingest(work / "killed", folder) == 0, "the re-run failed"

    clean, mended = state(work / "clean"), state(work / "killed")
    print(
        f"clean ingest {clean_seconds:.1f} s; {killed} of {args.kills} runs killed at "
        + ", ".join(f"{m:.1f}" for m in moments)
        + " s, then a re-run"
    )
    differences = 0
    for label, want, got in zip(("manifest", "Chroma", "lexical"), clean, mended, strict=True):
        same = want == got
        differences += not same
        print(
            f"{label:9s} {len(want):6d} clean, {len(got):6d} after kills: "
            + ("identical" if same else "DIFFERENT")
        )
    same_text = clean[1] == clean[2]
    differences += not same_text
    print("lexical index and Chroma hold the same chunk ids:", "yes" if same_text else "NO")
    sys.exit(1 if differences else 0)


if __name__ == "__main__":
    main()
