"""Readers for the evaluation sets: BEIR (retrieval), a SQuAD 2.0 sample (answers), both read
where they lie (../shared/eval, nothing is copied into the project), and Docent's own in-domain
set (`sets/in_domain.jsonl`): questions people ask about the bundled samples and the news article
in ../shared/corpus, half of which the documents do not answer although they share its words.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.errors import InputError

__all__ = [
    "IN_DOMAIN",
    "QAQuestion",
    "QASet",
    "Record",
    "RetrievalSet",
    "load_beir",
    "load_everyday",
    "load_in_domain",
    "load_squad",
]

IN_DOMAIN = Path(__file__).with_name("sets") / "in_domain.jsonl"
# Small everyday documents (a handbook, a warehouse note, an IT policy, …) with questions one
# sentence answers nearly word for word, and questions about what they do not state.
EVERYDAY = Path(__file__).with_name("sets") / "everyday"


@dataclass(frozen=True)
class Record:
    """One document of an evaluation corpus."""

    id: str
    title: str
    text: str


@dataclass
class RetrievalSet:
    name: str
    corpus: list[Record]
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]  # query id → {document id: relevance}


@dataclass(frozen=True)
class QAQuestion:
    id: str
    question: str
    gold_passage: str
    answers: tuple[str, ...]
    is_impossible: bool
    sentence: str = ""  # the passage sentence that answers it, where the set says


@dataclass
class QASet:
    name: str
    passages: list[Record]
    questions: list[QAQuestion]


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise InputError(f"{path} is missing")
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise InputError(f"{path}:{number} is not JSON ({exc.msg})") from exc


def _field(row: dict[str, Any], key: str, path: Path) -> Any:
    if key not in row:
        raise InputError(f"{path}: a record lacks the field '{key}'")
    return row[key]


def _unique(records: list[Record], path: Path) -> None:
    seen: set[str] = set()
    for record in records:
        if record.id in seen:
            raise InputError(f"{path}: the id {record.id!r} appears twice")
        seen.add(record.id)


def load_beir(folder: Path, split: str = "test") -> RetrievalSet:
    """corpus.jsonl, queries.jsonl and qrels/<split>.tsv; only judged queries are kept.
    Falls back to the only qrels file when `split` is absent."""
    corpus_path, queries_path = folder / "corpus.jsonl", folder / "queries.jsonl"
    corpus = [
        Record(str(_field(r, "_id", corpus_path)), str(r.get("title", "")), str(r.get("text", "")))
        for r in _jsonl(corpus_path)
    ]
    _unique(corpus, corpus_path)
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        available = sorted((folder / "qrels").glob("*.tsv"))
        if len(available) != 1:
            names = ", ".join(p.stem for p in available) or "none"
            raise InputError(f"{folder}: no qrels/{split}.tsv (available: {names})")
        qrels_path = available[0]
    qrels: dict[str, dict[str, int]] = {}
    with qrels_path.open(encoding="utf-8") as rows:
        for row in csv.reader(rows, delimiter="\t"):
            if len(row) < 3 or not row[2].strip().lstrip("-").isdigit():
                continue  # the header line
            qrels.setdefault(row[0], {})[row[1]] = int(row[2])
    queries = {
        str(_field(r, "_id", queries_path)): str(_field(r, "text", queries_path))
        for r in _jsonl(queries_path)
    }
    judged = {qid: text for qid, text in queries.items() if qid in qrels}
    if not judged:
        raise InputError(f"{folder}: no query has judgments in {qrels_path.name}")
    return RetrievalSet(f"{folder.name}/{qrels_path.stem}", corpus, judged, qrels)


def load_squad(folder: Path) -> QASet:
    """passages.jsonl (`_id`, `text`, optional `title`) and questions.jsonl."""
    passages_path, questions_path = folder / "passages.jsonl", folder / "questions.jsonl"
    passages = [
        Record(
            str(_field(r, "_id", passages_path)),
            str(r.get("title", "")),
            str(_field(r, "text", passages_path)),
        )
        for r in _jsonl(passages_path)
    ]
    _unique(passages, passages_path)
    questions = [
        QAQuestion(
            id=str(_field(r, "id", questions_path)),
            question=str(_field(r, "question", questions_path)),
            gold_passage=str(_field(r, "gold_passage", questions_path)),
            answers=tuple(str(a) for a in r.get("answers", [])),
            is_impossible=bool(r.get("is_impossible", False)),
        )
        for r in _jsonl(questions_path)
    ]
    known = {p.id for p in passages}
    unknown = sorted({q.gold_passage for q in questions} - known)
    if unknown:
        raise InputError(f"{questions_path}: gold passages not in the corpus: {unknown[:5]}")
    return QASet(folder.name, passages, questions)


def load_everyday(folder: Path = EVERYDAY) -> QASet:
    """The everyday set: every document in `folder` and its questions.jsonl."""
    documents = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix != ".jsonl")
    data = load_in_domain(folder / "questions.jsonl", [], documents)
    data.name = "everyday"
    return data


def load_in_domain(
    questions_path: Path, folders: Sequence[Path], files: Sequence[Path] | None = None
) -> QASet:
    """The in-domain questions (`id`, `question`, `answers` or `impossible`) over every
    document in `folders` (the bundled samples and ../shared/corpus); no gold passages."""
    from index.errors import LoadError
    from index.loaders import load_document

    passages = []
    paths = files or [p for f in folders for p in sorted(f.iterdir()) if p.is_file()]
    for path in paths:
        try:
            document = load_document(path)
        except LoadError as exc:
            raise InputError(f"cannot read {path.name}: {exc.reason}") from exc
        passages.append(Record(path.name, document.title, document.text))
    if not passages:
        raise InputError("the in-domain set found no documents")
    questions = [
        QAQuestion(
            id=str(_field(r, "id", questions_path)),
            question=str(_field(r, "question", questions_path)),
            gold_passage="",
            answers=tuple(str(a) for a in r.get("answers", [])),
            is_impossible=bool(r.get("impossible", False)),
            sentence=str(r.get("sentence", "")),
        )
        for r in _jsonl(questions_path)
    ]
    return QASet("in-domain", passages, questions)
