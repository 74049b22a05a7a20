"""Features of the extractive answerer: one vector per candidate sentence (does it answer the
question?) and one per candidate span inside a sentence (is this the short answer?). The weights
that combine them are learned (`rag/evaluation/training.py`) and shipped in `answerer.v1.json`.

A sentence that cannot be an answer is no candidate at all: a heading or a title, a question,
a piece cut at the passage's edge, and a sentence that only restates the question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from index.sentences import Unit, content_sequence, content_tokens
from rag.generators.questions import AnswerType, Question, answers_type, carries, is_lead_in

__all__ = [
    "SENTENCE_FEATURES",
    "SPAN_FEATURES",
    "Passage",
    "SentenceCandidate",
    "Span",
    "plain",
    "restates",
    "retrieved_terms",
    "sentence_candidates",
    "span_candidates",
]

_MARKUP = re.compile(r"^(?:[#>*\-+|]+\s*|\d+[.)]\s+)+|\*\*|__|`")
# Words that announce a list of reasons or steps, or report a question ('many ask whether …'):
# they add nothing a question asks for.
_ANNOUNCING = content_tokens(
    "several many number various numerous some following few multiple reasons factors ways "
    "causes steps things points aspects explanations motives issues changes rules first "
    "ask asks asked asking whether wonder wonders wondered question questions"
)

_ANNOUNCED = 4  # sentences a lead-in announces at most

# No feature says where a passage ranks or where a sentence sits in it: on SQuAD the answer is
# mostly in the first passage, and weights learned from that failed on other documents
# (dropping passage rank raised the best sentence's hit rate on the in-domain set 0.78 → 0.84).
SENTENCE_FEATURES = (
    "cosine",
    "overlap",
    "echo",
    "novel",
    "type_match",
    "typed",
    "lead_in",
    "after_lead_in",
    "key_in_sentence",
    "key_in_passage",
    "key_in_retrieved",
    "length",
    "previous_overlap",
    "next_overlap",
    "weighted_overlap",
    "bigram_overlap",
    "passage_relevance",
)


def restates(sentence_terms: set[str], question_terms: frozenset[str] | set[str]) -> bool:
    """A sentence that adds at most one content word to the question's own, beside words
    that only announce a list ('There are several reasons why …')."""
    return len(sentence_terms - question_terms - _ANNOUNCING) <= 1


def plain(sentence: str) -> str:
    """A passage sentence without Markdown list, heading and emphasis marks, spaces squashed."""
    return _MARKUP.sub("", " ".join(sentence.split())).strip()


def _share(wanted: frozenset[str], found: set[str]) -> float:
    return len(wanted & found) / len(wanted) if wanted else 1.0


class Passage(NamedTuple):
    """A retrieved passage as the answerer reads it."""

    title: str
    text: str
    units: list[Unit]
    vectors: np.ndarray  # one a unit
    relevance: float  # the passage's cosine similarity to the question (`Hit.score`)
    terms: set[str]  # `content_tokens(text)`


@dataclass
class SentenceCandidate:
    number: int  # 1-based passage number, the citation marker
    index: int  # unit index inside the passage
    unit: Unit
    sentence: str  # as quoted
    features: np.ndarray = field(repr=False)
    # How much of the question a lead-in right before restates ('There are several reasons
    # why …'): the sentences it announces are the answer. 0 when none does.
    announced_by: float = 0.0
    score: float = 0.0


def _is_heading(unit: Unit, sentence: str) -> bool:
    """A Markdown heading, or a short line that does not end like a sentence."""
    if unit.reading.lstrip().startswith("#"):
        return True
    return sentence[-1:] not in ".!?:;," and len(sentence.split()) < 8 and "|" not in sentence


def _is_answer_shaped(unit: Unit, sentence: str, index: int, last: int, title: str) -> bool:
    if len(sentence.split()) < 4 or sentence.endswith("?"):
        return False
    if sentence.lower() == title.strip().lower() and not sentence.endswith("."):
        return False  # the document's title (a first line that is no sentence)
    ends_sentence = sentence[-1:] in ".!?:)\"'”’" or "|" in unit.reading
    if not ends_sentence and (index == last or len(sentence.split()) < 12):
        return False  # a heading-like line, or cut off at the passage's end
    return not (index == 0 and sentence[:1].islower())  # cut off at the passage's start


def sentence_candidates(
    question: Question,
    question_vector: np.ndarray,
    passages: Sequence[Passage],
) -> list[SentenceCandidate]:
    """Candidates with their features, from the retrieved passages in rank order."""
    key_in_retrieved = _share(question.key_terms, retrieved_terms(passages))
    weight = _rarity(question, passages)
    asked = sum(weight.values()) or 1.0
    pairs = set(pairwise(question.sequence))
    candidates = []
    for number, (title, _, units, vectors, relevance, passage_terms) in enumerate(passages, 1):
        key_in_passage = _share(question.key_terms, passage_terms)
        readings = [plain(u.reading) for u in units]
        sequences = [content_sequence(r) for r in readings]
        terms = [set(s) for s in sequences]
        cosines = vectors @ question_vector if len(units) else np.empty(0)
        lead_in = (0.0, -_ANNOUNCED)  # (share of the question restated, unit index)
        section: set[str] = set()  # words of the heading the sentence sits under
        for index, (unit, sentence) in enumerate(zip(units, readings, strict=True)):
            own = terms[index]
            if _is_heading(unit, sentence):
                section = own
                continue
            read = own | section  # a sentence reads with its heading ("Berlin" … "Address: …")
            if restates(own, question.terms):
                if is_lead_in(sentence) and question.terms:
                    lead_in = (_share(question.terms, own), index)
                continue
            if not _is_answer_shaped(unit, sentence, index, len(units) - 1, title):
                continue
            novel = own - question.terms
            previous = readings[index - 1] if index else ""
            values = (
                float(cosines[index]),
                _share(question.terms, read) if question.terms else 0.0,
                len(own & question.terms) / len(own) if own else 0.0,
                min(math.log1p(len(novel)) / 3.0, 1.5),
                float(question.kind is not AnswerType.OTHER and _has_type(sentence, question)),
                float(question.kind is not AnswerType.OTHER),
                float(is_lead_in(sentence)),
                float(bool(previous) and is_lead_in(previous)),
                _share(question.key_terms, read),
                key_in_passage,
                key_in_retrieved,
                min(math.log1p(len(sentence.split())) / 4.0, 1.5),
                _share(question.terms, terms[index - 1]) if index and question.terms else 0.0,
                _share(question.terms, terms[index + 1])
                if index + 1 < len(units) and question.terms
                else 0.0,
                sum(weight[t] for t in read & question.terms) / asked,
                len(pairs & set(pairwise(sequences[index]))) / len(pairs) if pairs else 0.0,
                relevance,
            )
            candidates.append(
                SentenceCandidate(
                    number,
                    index,
                    unit,
                    sentence,
                    np.asarray(values, np.float32),
                    lead_in[0] if index - lead_in[1] <= _ANNOUNCED else 0.0,
                )
            )
    return candidates


def retrieved_terms(passages: Sequence[Passage]) -> set[str]:
    """The content words of all the passages."""
    return set().union(*(passage.terms for passage in passages))


def _rarity(question: Question, passages: Sequence[Passage]) -> dict[str, float]:
    """Each question word's inverse frequency among the units of the passages: matching a
    rare word says more than matching a common one."""
    units = [content_tokens(u.reading) for passage in passages for u in passage.units]
    return {
        term: math.log((len(units) + 1) / (sum(term in u for u in units) + 0.5))
        for term in question.terms
    }


def _has_type(sentence: str, question: Question) -> bool:
    """The sentence holds a value of the type asked for, beyond the question's own words
    (a count of the very thing "how many" asks about)."""
    if question.counted:
        return answers_type(sentence, question)
    return carries(" ".join(novel_words(sentence, question)), question.kind)


def novel_words(text: str, question: Question) -> list[str]:
    """The words of `text` whose stems the question does not use, in order."""
    return [w for w in _TOKEN.findall(text) if not (content_tokens(w) & question.terms)]


# ---- spans -------------------------------------------------------------------------------

_TOKEN = re.compile(r"[$€£]?\w+(?:[-'’.,:/]\w+)*%?")
_STOP = frozenset(
    (
        "a an the of in on at by for to from with and or but as is are was were be been being "
        "that which who whom whose this these those it its their his her they he she we you i "
        "our your not no than then there here also has have had do does did will would can "
        "could may might should into onto over under about after before during since until "
        "while when where why how what if so such very more most much many some any each "
        "other"
    ).split()
)
_PREPOSITIONS = frozenset(
    ("in on at by from to of for with during since after before until near into between").split()
)
_MAX_SPAN_TOKENS = 8

SPAN_FEATURES = (
    "length_1",
    "length_2",
    "length_3",
    "length_4_5",
    "length_6_plus",
    "type_match",
    "number",
    "date",
    "name",
    "name_whole",
    "in_question",
    "anchor_distance",
    "no_anchor",
    "anchor_before",
    "anchor_after",
    "after_preposition",
    "after_article",
    "clause_start",
    "clause_end",
    "in_parentheses",
    "first_in_sentence",
    "anchors_left",
    "anchors_right",
    # The span's shape for each kind of question: a date for "when", a name for "who" …
    *(
        f"{kind.value}_{shape}"
        for kind in AnswerType
        for shape in ("number", "date", "name_whole", "length_1", "length_2", "length_3")
    ),
)


@dataclass
class Span:
    start: int  # offsets in the passage
    end: int
    text: str
    features: np.ndarray = field(repr=False)
    score: float = 0.0


def _capitalised(word: str) -> bool:
    return word[:1].isupper() or (word[:1] in "$€£" and len(word) > 1)


def span_candidates(question: Question, passage: str, start: int, end: int) -> list[Span]:
    """Candidate short answers inside passage[start:end] (one sentence), with features."""
    tokens = [
        (m.start() + start, m.end() + start, m.group()) for m in _TOKEN.finditer(passage[start:end])
    ]
    if not tokens:
        return []
    stems = [content_tokens(t) for _, _, t in tokens]
    in_question = [bool(s & question.terms) for s in stems]
    anchors = [i for i, hit in enumerate(in_question) if hit]
    lowered = [t.lower() for _, _, t in tokens]
    spans = []
    for i in range(len(tokens)):
        if lowered[i] in _STOP:
            continue
        for j in range(i, min(i + _MAX_SPAN_TOKENS, len(tokens))):
            gap = passage[tokens[j - 1][1] : tokens[j][0]] if j > i else ""
            if j > i and gap.strip() not in ("", ",", "-", "–", "&"):
                break  # a span does not cross a clause's punctuation
            if lowered[j] in _STOP or (
                j > i
                and gap.strip() == ","
                and not _capitalised(tokens[j][2])
                and not tokens[j][2][:1].isdigit()
            ):
                continue
            inside = range(i, j + 1)
            if all(in_question[k] or lowered[k] in _STOP for k in inside):
                continue  # nothing the question does not already say
            spans.append(_span(question, passage, tokens, lowered, in_question, anchors, i, j))
    return spans


def _span(
    question: Question,
    passage: str,
    tokens: list[tuple[int, int, str]],
    lowered: list[str],
    in_question: list[bool],
    anchors: list[int],
    i: int,
    j: int,
) -> Span:
    text = passage[tokens[i][0] : tokens[j][1]]
    count = j - i + 1
    content = [k for k in range(i, j + 1) if lowered[k] not in _STOP]
    before = passage[max(0, tokens[i][0] - 2) : tokens[i][0]].strip()
    after = passage[tokens[j][1] : tokens[j][1] + 2].strip()
    names = [k for k in content if _capitalised(tokens[k][2]) and k > 0]
    distances = [min(abs(a - i), abs(a - j)) for a in anchors if a < i or a > j]
    previous = lowered[i - 1] if i else ""
    shapes = {
        "number": carries(text, AnswerType.NUMBER),
        "date": carries(text, AnswerType.DATE),
        "name_whole": bool(names)
        and len(names) == len(content)
        and not (i > 0 and _capitalised(tokens[i - 1][2]) and not before)
        and not (j + 1 < len(tokens) and _capitalised(tokens[j + 1][2]) and not after),
        "length_1": count == 1,
        "length_2": count == 2,
        "length_3": count == 3,
    }
    values = (
        float(count == 1),
        float(count == 2),
        float(count == 3),
        float(4 <= count <= 5),
        float(count >= 6),
        float(question.kind is not AnswerType.OTHER and carries(text, question.kind)),
        float(shapes["number"]),
        float(shapes["date"]),
        len(names) / len(content) if content else 0.0,
        float(shapes["name_whole"]),
        sum(in_question[k] for k in content) / len(content) if content else 0.0,
        math.log1p(min(distances)) / 3.0 if distances else 0.0,
        float(not distances),
        float(any(0 < i - a <= 3 for a in anchors)),
        float(any(0 < a - j <= 3 for a in anchors)),
        float(previous in _PREPOSITIONS),
        float(previous in ("the", "a", "an")),
        float(i == 0 or before[-1:] in (",", ";", ":", "(", "—", "–")),
        float(j == len(tokens) - 1 or after[:1] in (",", ";", ".", ")", ":", "—", "–")),
        float(before[-1:] == "(" and after[:1] == ")"),
        float(i == 0),
        sum(a < i for a in anchors) / len(anchors) if anchors else 0.0,
        sum(a > j for a in anchors) / len(anchors) if anchors else 0.0,
        *(
            float(kind is question.kind and shapes[shape])
            for kind in AnswerType
            for shape in ("number", "date", "name_whole", "length_1", "length_2", "length_3")
        ),
    )
    return Span(tokens[i][0], tokens[j][1], text, np.asarray(values, np.float32))
