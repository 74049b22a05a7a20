"""The extractive reader at run time: an ONNX span model (start/end logits per token, "no
answer" as the [CLS] token's span) over (question, passage) pairs, run by ONNX Runtime with
the `tokenizers` library; no PyTorch. `rag/reader/training.py` makes it.

For each passage the reader gives its best span (character offsets), that span's score and
the passage's no-answer score; their difference (`margin`) says how sure it is that the
passage answers the question at all. A long passage is read in overlapping windows: the best
span of any window, against the lowest no-answer score of them.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.sentences import TABLE_ROW, TABLE_RULE

__all__ = ["MAX_ANSWER_TOKENS", "Reader", "ReaderConfig", "Reading", "best_span", "blanked"]

MAX_ANSWER_TOKENS = 30  # a span longer than this is not a short answer
_BATCH = 16
_CACHED_PAIRS = 256


@dataclass(frozen=True)
class ReaderConfig:
    max_tokens: int = 256
    stride: int = 96
    max_question_tokens: int = 48


@dataclass(frozen=True)
class Reading:
    """The reader's verdict on one passage: its best span [start, end) in characters, the
    span's score and the no-answer score (logits: start + end)."""

    start: int
    end: int
    score: float
    null_score: float

    @property
    def margin(self) -> float:
        """Span score minus no-answer score: above 0, the passage answers by the reader."""
        return self.score - self.null_score


@dataclass(frozen=True)
class _Window:
    offsets: list[tuple[int, int]]  # characters of the passage per token ((0, 0) for others)
    context: np.ndarray  # which tokens are the passage's
    start: np.ndarray
    end: np.ndarray


def _inside(offsets: Sequence[tuple[int, int]], spans: Sequence[tuple[int, int]]) -> np.ndarray:
    return np.array([any(a <= s and e <= b for a, b in spans) for s, e in offsets])


def _in_passage(encoding: Any, where: Sequence[int]) -> tuple[list[tuple[int, int]], np.ndarray]:
    """Token offsets in passage characters, and which tokens are the passage's own (not the
    question's, nor words `reading_of` added)."""
    offsets: list[tuple[int, int]] = []
    context: list[bool] = []
    for sequence, (start, end) in zip(encoding.sequence_ids, encoding.offsets, strict=True):
        if sequence != 1 or end <= start or where[start] < 0 or where[end - 1] < 0:
            offsets.append((0, 0))
            context.append(False)
        else:
            offsets.append((where[start], where[end - 1] + 1))
            context.append(True)
    return offsets, np.array(context, dtype=bool)


_MARKUP = re.compile(r"\*\*|__|`|^#+", re.MULTILINE)  # Markdown emphasis, code, headings


def blanked(passage: str) -> str:
    """The passage with Markdown marks turned into spaces, so every character keeps its
    offset (the reader was trained on plain prose)."""
    return _MARKUP.sub(lambda mark: " " * len(mark.group()), passage)


_CELL = re.compile(r"[^|]+")


def reading_of(passage: str) -> tuple[str, list[int]]:
    """The text the reader reads, and for each of its characters the passage offset it comes
    from (-1 for added words). Markdown marks read as spaces; a table's data row reads as
    prose with its header's labels ('| Berlin | €165 |' under '| City | Maximum per night |'
    reads 'Maximum per night for Berlin: €165.'): read bare, a row says nothing of what its
    numbers are."""
    parts: list[str] = []
    where: list[int] = []

    def put(piece: str, at: int | None = None) -> None:
        """Read `piece`: the passage's own characters from offset `at`, or added (None)."""
        parts.append(piece)
        where.extend([-1] * len(piece) if at is None else range(at, at + len(piece)))

    labels: list[str] = []
    at = 0
    for line in blanked(passage).splitlines(keepends=True):
        body = line.rstrip("\r\n")
        row = bool(TABLE_ROW.match(body))
        if row and labels and not TABLE_RULE.match(body):
            # each cell as (its offset in the passage, its text without the spaces around it)
            cells = [
                (at + m.start() + len(m.group()) - len(m.group().lstrip()), m.group().strip())
                for m in _CELL.finditer(body)
                if m.group().strip()
            ]
            if len(cells) == 1:
                put(cells[0][1], cells[0][0])
            for number, (begin, value) in enumerate(cells[1:], start=1):
                label = labels[number] if number < len(labels) else ""
                put(("; " if number > 1 else "") + (f"{label} for " if label else ""))
                put(cells[0][1], cells[0][0])
                put(": ")
                put(value, begin)
            put("." + line[len(body) :])
        else:
            if not row:
                labels = []
            elif not TABLE_RULE.match(body):  # a header row: its cells label the rows below
                labels = [cell.strip() for cell in body.strip().strip("|").split("|")]
            put(line, at)
        at += len(line)
    return "".join(parts), where


def best_span(
    start_logits: np.ndarray, end_logits: np.ndarray, context: np.ndarray
) -> tuple[int, int, float] | None:
    """The token span (i, j) with i <= j < i + MAX_ANSWER_TOKENS inside `context` (a boolean
    mask of the passage's tokens) maximising start[i] + end[j]; None when there is none."""
    allowed = np.flatnonzero(context)
    if allowed.size == 0:
        return None
    s = start_logits[allowed]
    e = end_logits[allowed]
    # scores[a, b] for the a-th and b-th allowed tokens; allowed tokens are contiguous.
    scores = s[:, None] + e[None, :]
    offsets = np.arange(allowed.size)
    gap = offsets[None, :] - offsets[:, None]
    scores = np.where((gap >= 0) & (gap < MAX_ANSWER_TOKENS), scores, -np.inf)
    a, b = np.unravel_index(int(np.argmax(scores)), scores.shape)
    return int(allowed[a]), int(allowed[b]), float(scores[a, b])


class Reader:
    """Loads `model.onnx`, `tokenizer.json` and `config.json` from a folder."""

    def __init__(self, model: Path, tokenizer: Path, config: ReaderConfig) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        self._session = onnxruntime.InferenceSession(
            str(model), options, providers=["CPUExecutionProvider"]
        )
        self.config = config
        self._tokenizer = Tokenizer.from_file(str(tokenizer))
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, str], list[_Window]] = OrderedDict()

    @classmethod
    def load(cls, folder: Path) -> Reader:
        config = ReaderConfig(**json.loads((folder / "config.json").read_text()))
        return cls(folder / "model.onnx", folder / "tokenizer.json", config)

    @staticmethod
    def encode_pair(tokenizer: Any, config: ReaderConfig, question: str, passage: str) -> list[Any]:
        """The windows of [CLS] question [SEP] passage [SEP], the question cut to
        `max_question_tokens` and the passage split with `stride` tokens of overlap."""
        tokenizer.no_truncation()
        tokenizer.no_padding()
        asked = tokenizer.encode(question, add_special_tokens=False)
        if len(asked.ids) > config.max_question_tokens:
            question = question[: asked.offsets[config.max_question_tokens - 1][1]]
        room = config.max_tokens - min(len(asked.ids), config.max_question_tokens) - 3
        tokenizer.enable_truncation(
            config.max_tokens, stride=min(config.stride, max(room - 1, 0)), strategy="only_second"
        )
        encoding = tokenizer.encode(question, passage)
        return [encoding, *encoding.overflowing]

    def _logits(self, windows: Sequence[Any]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Start and end logits of each window, run in batches of similar length."""
        order = sorted(range(len(windows)), key=lambda i: len(windows[i].ids))
        results: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0), np.empty(0))] * len(windows)
        for at in range(0, len(order), _BATCH):
            batch = order[at : at + _BATCH]
            width = max(len(windows[i].ids) for i in batch)
            ids = np.zeros((len(batch), width), dtype=np.int64)
            types = np.zeros_like(ids)
            mask = np.zeros_like(ids)
            for row, i in enumerate(batch):
                n = len(windows[i].ids)
                ids[row, :n] = windows[i].ids
                types[row, :n] = windows[i].type_ids
                mask[row, :n] = 1
            start, end = self._session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            )
            for row, i in enumerate(batch):
                n = len(windows[i].ids)
                results[i] = (start[row, :n], end[row, :n])
        return results

    def _windows(self, question: str, passages: Sequence[str]) -> list[list[_Window]]:
        """Each passage's windows with their logits; all passages not cached run in one
        batched model call. Recent (question, passage) pairs are cached: the short answer
        reads the passages the answer was chosen from."""
        result: list[list[_Window]] = [[] for _ in passages]
        missing: list[tuple[int, Any, list[int]]] = []
        with self._lock:  # the cache, and the tokenizer's truncation set per question
            for number, passage in enumerate(passages):
                cached = self._cache.get((question, passage))
                if cached is not None:
                    self._cache.move_to_end((question, passage))
                    result[number] = cached
                elif passage.strip():
                    text, where = reading_of(passage)
                    missing.extend(
                        (number, w, where)
                        for w in self.encode_pair(self._tokenizer, self.config, question, text)
                    )
        logits = self._logits([w for _, w, _ in missing])
        for (number, encoding, where), (start, end) in zip(missing, logits, strict=True):
            offsets, context = _in_passage(encoding, where)
            result[number].append(_Window(offsets, context, start, end))
        with self._lock:
            for number in {number for number, _, _ in missing}:
                self._cache[(question, passages[number])] = result[number]
            while len(self._cache) > _CACHED_PAIRS:
                self._cache.popitem(last=False)
        return result

    def read(
        self,
        question: str,
        passages: Sequence[str],
        within: Sequence[Sequence[tuple[int, int]]] | None = None,
    ) -> list[Reading | None]:
        """One reading per passage (None for an empty one, or where no token lies `within`
        the given character spans of it)."""
        readings: list[Reading | None] = []
        for number, windows in enumerate(self._windows(question, passages)):
            best: Reading | None = None
            null = math.inf
            for window in windows:
                null = min(null, float(window.start[0] + window.end[0]))
                allowed = window.context
                if within is not None:
                    allowed = allowed & _inside(window.offsets, within[number])
                found = best_span(window.start, window.end, allowed)
                if found is not None and (best is None or found[2] > best.score):
                    i, j, score = found
                    best = Reading(window.offsets[i][0], window.offsets[j][1], score, 0.0)
            readings.append(None if best is None else dataclasses.replace(best, null_score=null))
        return readings

    def best_in_passage(self, question: str, passage: str) -> tuple[str, float]:
        """The best span's text and margin (-inf for an empty passage)."""
        reading = self.read(question, [passage])[0]
        if reading is None:
            return "", -float("inf")
        return passage[reading.start : reading.end], reading.margin
