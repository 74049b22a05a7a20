"""Time the optional local llama.cpp generator on sample questions; prints a table.

    DOCENT_LLAMACPP_MODEL_PATH=.models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf \
        .venv/bin/python bench/llama.py [--questions 5]

Needs `make llama`. Indexes samples/ into a throw-away data dir, asks each question once, and
reports the seconds per answer and whether the expected fact and source came back.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.runtime import build_runtime  # noqa: E402
from rag.settings import Settings  # noqa: E402
from tests.helpers import ANSWERABLE  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--questions", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), generator="llamacpp", samples_dir=ROOT / "samples")
        runtime = build_runtime(settings)
        runtime.ensure_samples()
        print(f"{'s':>5}  {'ok':3}  question")
        right = 0
        for question, source, fact in ANSWERABLE[: args.questions]:
            started = time.perf_counter()
            answer = runtime.assistant.answer(question)
            seconds = time.perf_counter() - started
            cited = {c.name for c in answer.citations}
            ok = fact in answer.text and source in cited
            right += ok
            print(f"{seconds:5.1f}  {'yes' if ok else 'no':3}  {question}")
        print(f"{right}/{args.questions} with the fact and a citation of the right document")


if __name__ == "__main__":
    main()
