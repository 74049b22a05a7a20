"""Ingestion throughput against the encoder's own, side by side, for each model build.

    python bench/ingest.py [--squad ../shared/eval/squad2] [--models NAME,NAME]

Writes the SQuAD 2.0 sample passages as one text file each into a temp folder, then per model:
(1) the encoder alone: the chunks of those files (Docent's chunker) encoded in one call, and
(2) `Ingestor.ingest` of the folder into an empty index (read, parse, chunk, encode with unit
vectors, write Chroma, the database and BM25); three rounds of both, interleaved, the best of
each. Prints chunks per
second of both and their ratio, and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index.chunking import Chunker  # noqa: E402
from index.embeddings import BUNDLED_MODEL, INT8_MODEL  # noqa: E402
from index.ingest import _expand  # noqa: E402
from index.loaders import load_document  # noqa: E402
from index.types import indexed_text  # noqa: E402
from rag.runtime import build_runtime, load_encoder  # noqa: E402
from rag.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--squad", type=Path, default=ROOT.parent / "shared" / "eval" / "squad2")
    parser.add_argument("--models", default=f"{BUNDLED_MODEL},{INT8_MODEL}")
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "squad-docs"
        folder.mkdir()
        for line in (args.squad / "passages.jsonl").open():
            passage = json.loads(line)
            (folder / f"{passage['_id']}.txt").write_text(passage["text"])
        for model in args.models.split(","):
            settings = Settings(data_dir=Path(tmp) / model, embedding_model=model)
            encoder = load_encoder(settings)
            chunker = Chunker(settings.chunk_size, settings.chunk_overlap)
            files = list(_expand([folder]))
            chunks = [
                chunk
                for file in files
                for chunk in chunker.split(load_document(file.path), file.source, file.name)
            ]
            texts = [indexed_text(c) for c in chunks]
            encoder.embed_documents(texts[:64])  # warm-up
            raw = ingested = 0.0
            for run in range(3):  # interleaved, the best of three each: machine drift cancels
                started = time.perf_counter()
                encoder.embed_documents(texts)
                raw = max(raw, len(texts) / (time.perf_counter() - started))
                run_settings = settings.model_copy(
                    update={"data_dir": settings.data_dir / str(run)}
                )
                runtime = build_runtime(run_settings, embeddings=encoder)
                report = runtime.ingestor.ingest([folder])
                ingested = max(ingested, report.chunks_written / report.seconds)
                runtime.lexical.close()
            rows.append(
                (
                    model,
                    f"{len(files)} files, {len(chunks)} chunks",
                    f"{raw:.1f}",
                    f"{ingested:.1f}",
                    f"{ingested / raw:.2f}",
                )
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    header = ("model", "corpus", "encoder chunks/s", "ingest chunks/s", "ingest / encoder")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print(" | ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(f"peak resident memory of the process: {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
