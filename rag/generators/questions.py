"""What a question asks for: the expected answer type (from its wh-phrase), its key terms (the
names and numbers a right answer must be about), and detectors that tell whether a piece of
text carries a value of a given type. The extractive answerer's features are built on these."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from index.sentences import content_sequence, content_tokens

__all__ = ["AnswerType", "Question", "analyse", "answers_type", "carries", "is_lead_in"]


class AnswerType(Enum):
    NUMBER = "number"
    DATE = "date"
    PERSON = "person"
    PLACE = "place"
    REASON = "reason"
    OTHER = "other"


# The cue that comes first in the question wins ("Who was CEO when …" asks for a person).
_TYPE_CUES: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (
        AnswerType.DATE,
        re.compile(
            r"\b(when|(what|which) (year|years|century|decade|date|day|month|time|period|era)"
            r"|how long ago|since when)\b"
        ),
    ),
    (
        AnswerType.NUMBER,
        re.compile(
            r"\b(how (many|much|long|old|far|large|big|tall|high|often|fast|heavy|deep|wide)"
            r"|what (number|percentage|percent|amount|share|proportion|size|rate|price|cost)"
            r"|(what|which) (is|was|are|were) the (\w+ )?(number|amount|percentage|population|size|"
            r"cost|price|maximum|minimum|limit|rate|fee|budget|allowance|cap|value|distance))\b"
        ),
    ),
    (AnswerType.REASON, re.compile(r"\b(why|what (reason|caused|causes|led to)|how come)\b")),
    (
        AnswerType.PERSON,
        re.compile(
            r"\b(who|whom|whose|(what|which) (person|people|man|woman|leader|king|queen|"
            r"researcher|scientist|author|writer|company|companies|organi[sz]ation|group|"
            r"president|ruler|emperor|team|party|firm|university|court|body|entity|artist|"
            r"philosopher|general|officer|minister|composer|architect|engineer))\b"
        ),
    ),
    (
        AnswerType.PLACE,
        re.compile(
            r"\b(where|(what|which|in what|in which) "
            r"(country|countries|city|cities|state|place|region|island|continent|town|location"
            r"|area|province|river|mountain|office|building|site))\b"
        ),
    ),
)

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy "
    "eighty ninety hundred hundreds thousand thousands million millions billion billions "
    "trillion dozen dozens half twice once percent"
).split()
_NUMBER = re.compile(rf"\d|\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
_MONTHS = (
    "january february march april may june july august september october november "
    "december jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday "
    "thursday friday saturday sunday"
).split()
# A date, a time of day, or a span of time ("when must I file?" … "within 30 days").
_DATE = re.compile(
    rf"\b(1\d{{3}}|20\d{{2}})s?\b|\b({'|'.join(_MONTHS)})\b|\b(century|centuries|decade|"
    r"yesterday|today|tomorrow|ago|bc|ad|bce|ce|spring|summer|autumn|fall|winter|noon|midnight)\b"
    r"|\b\d{1,2}[:.]\d{2}\b|\b\d{1,2} ?(am|pm|a\.m\.|p\.m\.)"
    r"|\b\d+ (hours?|days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)
_REASON = re.compile(
    r"\b(because|due to|owing to|as a result|result of|since|so that|in order to|reason|"
    r"reasons|caused|causes|led to|thanks to|therefore|consequently|hence|first and foremost|"
    r"another reason|aim|aimed|purpose|motivated)\b",
    re.IGNORECASE,
)
_NAME = re.compile(r"\b[A-Z][\w’'-]*[a-z][\w’'-]*|\b[A-Z]{2,}\b|\b[A-Z]\.(?:[A-Z]\.)+")
_CONTACT = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+|#[a-z][\w-]+")  # an email address, a channel
_PLACE_BEFORE = re.compile(r"\b(in|at|from|near|to|into|across|outside|inside|of)\s+(the\s+)?$")
_LEAD_IN = re.compile(
    r"\b(several|many|a number of|various|numerous|two|three|four|five|some|the following|"
    r"a few|multiple)\s+(\w+\s+)?(reasons|factors|ways|causes|steps|things|points|aspects|"
    r"explanations|motives|issues|changes|rules)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[\w’'-]+")

_QUESTION_OPENERS = frozenset(
    (
        "what who whom whose when where why how which is are was were do does did can could "
        "should would will has have had in on at for by from to of"
    ).split()
)


def carries(text: str, kind: AnswerType) -> bool:
    """Whether `text` holds a value of type `kind` (a number, a date, a name, a reason)."""
    if kind is AnswerType.NUMBER:
        return bool(_NUMBER.search(text))
    if kind is AnswerType.DATE:
        return bool(_DATE.search(text))
    if kind is AnswerType.PERSON and _CONTACT.search(text):
        return True  # "who do I tell?" is answered by an address to write to
    if kind in (AnswerType.PERSON, AnswerType.PLACE):
        names = [m for m in _NAME.finditer(text) if m.start() > 0 or len(text.split()) <= 8]
        # A place follows "in", "at", "from" …; a person seldom does.
        placed = [bool(_PLACE_BEFORE.search(text, 0, m.start())) for m in names]
        wanted = kind is AnswerType.PLACE
        return any(p == wanted for p in placed)
    if kind is AnswerType.REASON:
        return bool(_REASON.search(text))
    return False


def is_lead_in(sentence: str) -> bool:
    """A sentence announcing what follows ('There are several reasons why …', '… as follows:')."""
    return sentence.rstrip().endswith(":") or bool(_LEAD_IN.search(sentence))


@dataclass(frozen=True)
class Question:
    text: str
    kind: AnswerType
    terms: frozenset[str]  # stemmed content words
    sequence: tuple[str, ...]  # the same, in order
    key_terms: frozenset[str]  # stemmed names and numbers: what an answer must be about
    counted: str | None = None  # "how many employees …": the stem of what is counted


def analyse(question: str) -> Question:
    lowered = " ".join(question.lower().split())
    found = [(m.start(), k) for k, cue in _TYPE_CUES if (m := cue.search(lowered))]
    kind = min(found, key=lambda f: f[0])[1] if found else AnswerType.OTHER  # the first cue
    keys: set[str] = set()
    for index, word in enumerate(_WORD.findall(question)):
        named = word[:1].isupper() and not (index == 0 or word.lower() in _QUESTION_OPENERS)
        if named or any(ch.isdigit() for ch in word):
            keys |= content_tokens(word)
    sequence = tuple(content_sequence(question))
    return Question(
        question, kind, frozenset(sequence), sequence, frozenset(keys), _counted(lowered)
    )


_HOW_MANY = re.compile(r"\bhow many ((?:[\w-]+ ){0,2}[\w-]+)")


def _counted(lowered: str) -> str | None:
    """What "how many …" counts: the first plural of the next three words, else the first
    ("how many vacation days" counts days)."""
    found = _HOW_MANY.search(lowered)
    if not found:
        return None
    following = found.group(1).split()
    noun = next((w for w in following if w.endswith("s") and not w.endswith("ss")), following[0])
    stems = content_sequence(noun)
    return stems[0] if stems else None


def answers_type(text: str, question: Question) -> bool:
    """Whether `text` holds what the question asks for: for "how many X", a number that counts
    X ("26 days of leave" for days, not "20 working days" for employees); else `carries`."""
    if question.kind is AnswerType.NUMBER and question.counted:
        tokens = _WORD.findall(text.lower())
        return any(
            _NUMBER.fullmatch(token) or token[:1].isdigit()
            for at, token in enumerate(tokens)
            if question.counted in content_sequence(" ".join(tokens[at + 1 : at + 4]))
        )
    return carries(text, question.kind)
