"""Whether the passages answer a question, and where: the reader's verdict on the top passages
combined with retrieval evidence. Both answer paths decide with it: the extractive generator
quotes the sentence of the best span, and the chat-model path is refused before the model is
called when the evidence is weak.

A passage's evidence is the reader's margin (best span score minus no-answer score, in
logits) plus `relevance_weight` × its cosine similarity to the question, minus
`coverage_weight` × the share of the question's content words that neither it nor its
document's title contains (a question about a depot the note never names is not answered
from the note). The question is answered from the passage with the most evidence when that
reaches `min_evidence`. `app.py eval --calibrate` chooses the three for a corpus.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from index.sentences import content_tokens, passage_units, sentence_spans
from index.types import Hit
from rag.reader.model import Reader, Reading

__all__ = [
    "Assessment",
    "EvidenceWeights",
    "Finding",
    "ReaderEvidence",
    "answer_spans",
    "quoted",
    "restates",
    "sentences_of",
]

_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
_MARKUP = re.compile(r"^(?:[#>*\-+|]+\s*|\d+[.)]\s+)+|\*\*|__|`")  # list, heading, emphasis


@dataclass(frozen=True)
class EvidenceWeights:
    min_evidence: float
    relevance_weight: float
    coverage_weight: float


@dataclass(frozen=True)
class Finding:
    """The reader's best span in one retrieved passage (`number`: 1-based, as cited)."""

    number: int
    reading: Reading
    relevance: float  # the passage's cosine similarity to the question
    coverage: float  # share of the question's content words in the passage and its title

    def evidence(self, relevance_weight: float, coverage_weight: float) -> float:
        return (
            self.reading.margin
            + relevance_weight * self.relevance
            - coverage_weight * (1.0 - self.coverage)
        )


@dataclass(frozen=True)
class Assessment:
    findings: list[Finding]  # one per read passage that has a span, in rank order

    def best(self, relevance_weight: float, coverage_weight: float) -> Finding | None:
        return max(
            self.findings,
            key=lambda f: f.evidence(relevance_weight, coverage_weight),
            default=None,
        )

    def evidence(self, relevance_weight: float, coverage_weight: float) -> float:
        best = self.best(relevance_weight, coverage_weight)
        return -float("inf") if best is None else best.evidence(relevance_weight, coverage_weight)


# Words that announce a list of reasons or steps, or report a question ('many ask whether …'):
# they add nothing a question asks for.
_ANNOUNCING = content_tokens(
    "several many number various numerous some following few multiple reasons factors ways "
    "causes steps things points aspects explanations motives issues changes rules first "
    "ask asks asked asking whether wonder wonders wondered question questions"
)


_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")


def restates(sentence: str, question_terms: set[str]) -> bool:
    """A sentence that adds at most one content word (a number counts as one) to the
    question's own, beside words that only announce a list ('There are several reasons why …')."""
    terms = content_tokens(sentence) | set(_NUMBER.findall(sentence))
    return len(terms - question_terms - _ANNOUNCING) <= 1


def _is_heading(reading: str) -> bool:
    """A Markdown heading, or a short line that does not end like a sentence."""
    text = reading.strip()
    if text.startswith("#"):
        return True
    return text[-1:] not in ".!?:;,)" and len(text.split()) < 8 and "|" not in text


# A sentence about the document itself ("This policy explains what the company pays for"):
# it names what the document covers, never the answer.
_ABOUT_THE_DOCUMENT = re.compile(
    r"^(this|the)\s+(policy|document|guide|handbook|page|section|chapter|standard|procedure|"
    r"article|report|manual)\s+(explains|describes|sets out|covers|outlines|summari[sz]es|lists|"
    r"tells you|is about)\b",
    re.IGNORECASE,
)


def _is_title(reading: str, title: str) -> bool:
    """The document's title, unless it is a whole sentence (a one-line note is titled by its
    only sentence)."""
    return reading == title.strip() and reading[-1:] not in ".!"


def _plain(text: str) -> str:
    return " ".join(_MARKUP.sub("", " ".join(text.split())).lower().split())


def answer_spans(
    passage: str, title: str, question_terms: set[str], said: frozenset[str] = frozenset()
) -> list[tuple[int, int]]:
    """Where in a passage an answer may lie: in no heading or title, no question, no
    sentence that only restates the question (what the reader would echo back), and none of
    the sentences `said` (plain, lower case) already."""
    spans: list[tuple[int, int]] = []
    for unit in passage_units(passage):
        reading = unit.reading.strip()
        if _is_heading(reading) or reading.endswith("?") or _is_title(reading, title):
            continue
        if _ABOUT_THE_DOCUMENT.match(reading):
            continue
        if question_terms and restates(reading, question_terms):
            continue
        if said and _plain(reading) in said:
            continue
        spans.extend(unit.spans)
    return spans


def quoted(passage: str, start: int, end: int) -> list[str]:
    """The sentences (answerable units: a table row reads with its caption) of `passage` that
    the span [start, end) touches, as an answer quotes them: without Markdown marks, spaces
    squashed."""
    units = [u.reading for u in passage_units(passage) if u.start < end and start < u.end]
    texts = [_MARKUP.sub("", " ".join(u.split())).strip() for u in units or [passage[start:end]]]
    return [t for t in texts if t]


_REMEMBERED = 64  # assessments kept: the gate and the fallback behind a model read once


class ReaderEvidence:
    """Reads the top `passages` hits in one batch and weighs the result."""

    def __init__(self, reader: Reader, passages: int, weights: EvidenceWeights) -> None:
        self.reader = reader
        self.passages = passages
        self.weights = weights
        self._recent: OrderedDict[tuple[object, ...], Assessment] = OrderedDict()
        self._lock = threading.Lock()

    def assess(
        self, question: str, hits: Sequence[Hit], said: frozenset[str] = frozenset()
    ) -> Assessment:
        """The reader's best span in each of the top passages, outside the sentences `said`
        (plain, lower case: what the conversation's last answer quoted)."""
        read = list(hits[: self.passages])
        key = (question, said, *((h.chunk.id, h.chunk.text, h.score) for h in read))
        with self._lock:
            if (known := self._recent.get(key)) is not None:
                self._recent.move_to_end(key)
                return known
        assessment = self._assess(question, read, said)
        with self._lock:
            self._recent[key] = assessment
            while len(self._recent) > _REMEMBERED:
                self._recent.popitem(last=False)
        return assessment

    def _assess(self, question: str, read: list[Hit], said: frozenset[str]) -> Assessment:
        wanted = content_tokens(question)
        readings = self.reader.read(
            question,
            [hit.chunk.text for hit in read],
            within=[answer_spans(hit.chunk.text, hit.chunk.title, wanted, said) for hit in read],
        )
        findings = []
        for number, (hit, reading) in enumerate(zip(read, readings, strict=True), start=1):
            if reading is None:
                continue
            found = content_tokens(f"{hit.chunk.title}\n{hit.chunk.text}")
            coverage = len(wanted & found) / len(wanted) if wanted else 1.0
            findings.append(Finding(number, reading, hit.score, coverage))
        return Assessment(findings)

    def best(self, assessment: Assessment) -> Finding | None:
        """The finding to answer from; None when the evidence is below `min_evidence`."""
        w = self.weights
        best = assessment.best(w.relevance_weight, w.coverage_weight)
        if best is None or best.evidence(w.relevance_weight, w.coverage_weight) < w.min_evidence:
            return None
        return best

    def answers(self, question: str, hits: Sequence[Hit]) -> bool:
        return self.best(self.assess(question, hits)) is not None


def sentences_of(answer: str) -> frozenset[str]:
    """The sentences an answer quoted, plain and lower case, without citation markers."""
    text = _CITATION.sub("", answer)
    return frozenset(_plain(text[a:b]) for a, b in sentence_spans(text))
