"""The composition root: wires Docent's components from one `Settings`, each built once (the
stores, the read path, the chat service, the write path), and the only place that chooses
implementations (`GENERATORS`)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

from index.chunking import Chunker
from index.database import Database
from index.embeddings import Encoder, load_embeddings
from index.ingest import Ingestor, IngestReport
from index.lexical import LexicalIndex
from index.live_index import IndexCollections, IndexEntry
from index.manifest import Manifest
from index.ocr import OcrLimits
from index.store import LAYOUT, ChunkStore, IndexSignature
from index.units import UnitVectors
from rag.answer.condense import ChatCondenser, Condenser, RuleCondenser
from rag.answer.generators import ExtractiveGenerator, Generator
from rag.answer.generators.gated import EvidenceGate
from rag.answer.named_documents import NamedDocuments
from rag.answer.pipeline import Assistant
from rag.answer.prompts import load_prompt
from rag.answer.retrieval import HybridRetriever
from rag.answer.short_answer import ShortAnswerFinder
from rag.answer.support import SupportScorer
from rag.chat import ChatService
from rag.errors import ConfigError
from rag.jobs.queue import JobQueue
from rag.reader.evidence import EvidenceWeights, ReaderEvidence
from rag.reader.model import Reader
from rag.settings import Settings
from rag.stores.conversations import Conversations
from rag.stores.credentials import ApiKeys, has_credentials
from rag.stores.feedback import FeedbackStore
from rag.stores.schema import open_database
from rag.stores.shared_secrets import claim_once
from rag.stores.unanswered import UnansweredLog

__all__ = [
    "GENERATORS",
    "Runtime",
    "Stores",
    "build_assistant",
    "build_runtime",
    "index_parts",
    "load_encoder",
    "load_reader",
    "with_generator",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stores:
    """The shared state every surface uses, in the database, each store built once."""

    conversations: Conversations
    feedback: FeedbackStore
    unanswered: UnansweredLog
    api_keys: ApiKeys
    jobs: JobQueue

    @classmethod
    def open(cls, settings: Settings, database: Database) -> Stores:
        return cls(
            Conversations(database),
            FeedbackStore(database),
            UnansweredLog(database),
            ApiKeys(database),
            JobQueue(database, settings.job_stale_seconds),
        )


@dataclass
class Runtime:
    settings: Settings
    database: Database
    stores: Stores
    embeddings: Encoder
    store: ChunkStore
    lexical: LexicalIndex
    ingestor: Ingestor
    assistant: Assistant  # the read path
    evidence: ReaderEvidence  # the refusal decision of every answer path
    live: IndexEntry  # the collection this node reads and writes, and its encoder
    chat_model: BaseChatModel | None = field(default=None, repr=False)
    _following: threading.Event | None = field(default=None, repr=False)
    _switching: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def chat(self) -> ChatService:
        """Asking inside a conversation, what every surface calls: this runtime's read path
        and stores (derived, so a runtime with another generator or database has its own)."""
        return ChatService(self.assistant, self.stores.conversations, self.stores.unanswered)

    @property
    def manifest(self) -> Manifest:
        return self.ingestor.manifest

    def follow_changes(self, interval: float = 1.0) -> None:
        """Keep this node's lexical index in step with changes any process or node makes
        (a daemon thread; `stop_following` ends it)."""
        if self._following is not None:
            return
        stop = self._following = threading.Event()

        def follow() -> None:
            while not stop.wait(interval):
                try:
                    self.follow_live_index()
                    self.ingestor.sync_lexical()
                except Exception:  # the follower must outlive a database or store hiccup
                    log.exception("could not follow the change log; trying again")

        threading.Thread(target=follow, name="docent-follow", daemon=True).start()

    def follow_live_index(self) -> bool:
        """Swap this node's store, encoder, read path and ingestor for the live collection's
        if a model switch made another one live; True if it did. Answers under way finish on
        the old objects (the old collection is kept); the lexical index reads again, from the
        live one, what changed since the switch."""
        live = IndexCollections(self.database).live()
        if live is None or live.name == self.live.name:
            return False
        with self._switching:
            if live.name == self.live.name:
                return False
            log.info("the live index is now %s (%s)", live.name, live.embedding_model)
            settings = self.settings
            embeddings = load_embeddings(
                live.embedding_model, settings.model_cache, settings.embed_batch_size
            )
            store, units = index_parts(settings, self.database, live, embeddings)
            assistant = _read_path(
                settings,
                store,
                self.lexical,
                embeddings,
                units,
                self.evidence,
                self.manifest,
                self.chat_model,
            )
            ingestor = _write_path(
                settings, store, self.lexical, embeddings, units, live, self.ingestor.keep_lexical
            )
            self.embeddings, self.store, self.assistant = embeddings, store, assistant
            self.ingestor, self.live = ingestor, live
        ingestor.sync_lexical(since=live.change_seq)
        return True

    def stop_following(self) -> None:
        if self._following is not None:
            self._following.set()
            self._following = None

    def ensure_samples(self) -> IngestReport | None:
        """First start of a demo install: index `samples_dir` (unset by default; `make run`
        sets it) into an empty store, by the one process that claims it first. A deployment
        (API keys or a portal secret) never gets the demo documents."""
        samples = self.settings.samples_dir
        if samples is None or self.store.count() or not samples.is_dir():
            return None
        if has_credentials(self.settings, self.database):
            log.warning("credentials are configured: the demo samples are not indexed")
            return None
        if not claim_once(self.database, "demo-samples"):
            return None  # another process of this install indexes them
        log.info("empty index: ingesting the demo samples (%s)", samples.name)
        return self.ingestor.ingest([samples])


def _chat_model(settings: Settings) -> BaseChatModel:
    if not settings.openai_base_url:
        raise ConfigError("DOCENT_GENERATOR=openai needs DOCENT_OPENAI_BASE_URL")
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        api_key=settings.openai_api_key,
        temperature=settings.openai_temperature,
        max_tokens=settings.openai_max_tokens,
        streaming=True,
    )


def load_encoder(settings: Settings) -> Encoder:
    return load_embeddings(
        settings.embedding_model, settings.model_cache, settings.embed_batch_size
    )


def load_reader(settings: Settings) -> Reader:
    folder = settings.reader_model
    files = ("model.onnx", "tokenizer.json", "config.json")
    missing = [name for name in files if not (folder / name).is_file()]
    if missing:
        raise ConfigError(
            f"the reader folder {folder.name or folder} lacks {', '.join(missing)} "
            "(DOCENT_READER_MODEL; `app.py train-reader` makes one)"
        )
    return Reader.load(folder)


AnswerPath = tuple[Generator, Condenser]


def _extractive(
    settings: Settings, evidence: ReaderEvidence, chat_model: BaseChatModel | None
) -> AnswerPath:
    return ExtractiveGenerator(evidence, settings.max_answer_sentences), RuleCondenser()


def _openai(
    settings: Settings, evidence: ReaderEvidence, chat_model: BaseChatModel | None
) -> AnswerPath:
    from rag.answer.generators.chat import ChatGenerator

    model = chat_model or _chat_model(settings)
    prompt = load_prompt(settings.prompts_dir, settings.answer_prompt_id)
    condense = load_prompt(settings.prompts_dir, settings.condense_prompt)
    return EvidenceGate(ChatGenerator(model, prompt), evidence), ChatCondenser(model, condense)


def _llamacpp(
    settings: Settings, evidence: ReaderEvidence, chat_model: BaseChatModel | None
) -> AnswerPath:
    from rag.answer.generators.llamacpp import load_llamacpp

    return EvidenceGate(load_llamacpp(settings), evidence), RuleCondenser()


# DOCENT_GENERATOR → what writes the answer and rewrites follow-ups. A language model always
# sits behind the reader's evidence decision (`EvidenceGate`).
GENERATORS: dict[str, Callable[[Settings, ReaderEvidence, BaseChatModel | None], AnswerPath]] = {
    "extractive": _extractive,
    "openai": _openai,
    "llamacpp": _llamacpp,
}


def build_assistant(
    settings: Settings,
    retriever: HybridRetriever,
    units: UnitVectors,
    evidence: ReaderEvidence,
    chat_model: BaseChatModel | None = None,
) -> Assistant:
    """The read path for `settings.generator`; behind a language model, the extractive
    generator answers where the model refuses or writes nothing the passages support."""
    generator, condenser = GENERATORS[settings.generator](settings, evidence, chat_model)
    fallback = None
    if settings.generator != "extractive":
        fallback = ExtractiveGenerator(evidence, settings.max_answer_sentences)
    return Assistant(
        retriever,
        generator,
        condenser,
        SupportScorer(units, settings.min_support),
        ShortAnswerFinder(evidence.reader),
        settings.history_turns,
        fallback=fallback,
        drop_unsupported=settings.unsupported_sentences == "drop",
    )


def with_generator(runtime: Runtime, generator: str) -> Runtime:
    """The same install answering with another generator (eval compares them side by side
    over one index)."""
    settings = runtime.settings.model_copy(update={"generator": generator})
    current = runtime.assistant
    assistant = build_assistant(
        settings, current.retriever, current.support.units, runtime.evidence
    )
    return replace(runtime, settings=settings, assistant=assistant)


def _chunker(settings: Settings) -> Chunker:
    return Chunker(settings.chunk_size, settings.chunk_overlap)


def live_entry(settings: Settings, database: Database) -> IndexEntry:
    """The collection that answers: the one a model switch made live, else the install's own
    (`DOCENT_COLLECTION`, embedded by `DOCENT_EMBEDDING_MODEL`)."""
    live = IndexCollections(database).live()
    if live is not None and live.embedding_model != settings.embedding_model:
        log.info("a model switch made %s live: DOCENT_EMBEDDING_MODEL is not used", live.name)
    return live or IndexEntry(settings.collection, settings.embedding_model, 0, change_seq=0)


def index_parts(
    settings: Settings, database: Database, entry: IndexEntry, embeddings: Encoder
) -> tuple[ChunkStore, UnitVectors]:
    """The Chroma collection of `entry` (its signature checked) and its unit vectors."""
    signature: IndexSignature = {
        "embedding_model": entry.embedding_model,
        "dimension": embeddings.dimension,
        "chunker": _chunker(settings).signature,
        "layout": LAYOUT,
    }
    store = ChunkStore(settings.chroma_dir, entry.name, signature, settings.chroma_url)
    key = "" if entry.name == settings.collection else entry.name
    return store, UnitVectors(database, embeddings, key)


def _read_path(
    settings: Settings,
    store: ChunkStore,
    lexical: LexicalIndex,
    embeddings: Encoder,
    units: UnitVectors,
    evidence: ReaderEvidence,
    manifest: Manifest,
    chat_model: BaseChatModel | None,
) -> Assistant:
    retriever = HybridRetriever(
        store,
        lexical,
        embeddings,
        settings.top_k,
        settings.candidates,
        settings.rrf_k,
        NamedDocuments(manifest),
    )
    return build_assistant(settings, retriever, units, evidence, chat_model)


def _write_path(
    settings: Settings,
    store: ChunkStore,
    lexical: LexicalIndex,
    embeddings: Encoder,
    units: UnitVectors,
    entry: IndexEntry,
    keep_lexical: bool,
) -> Ingestor:
    manifest = Manifest(units.database, writes_to=entry.name)
    return Ingestor(
        store,
        lexical,
        embeddings,
        _chunker(settings),
        manifest,
        units,
        keep_lexical,
        _ocr_limits(settings),
    )


def _evidence(settings: Settings, reader: Reader) -> ReaderEvidence:
    weights = EvidenceWeights(
        settings.min_evidence, settings.relevance_weight, settings.coverage_weight
    )
    return ReaderEvidence(reader, settings.reader_passages, weights)


def _ocr_limits(settings: Settings) -> OcrLimits:
    return OcrLimits(
        settings.ocr_document_pages,
        settings.ocr_document_seconds,
        settings.ocr_job_pages,
        settings.ocr_job_seconds,
    )


def build_runtime(
    settings: Settings,
    embeddings: Encoder | None = None,
    chat_model: BaseChatModel | None = None,
    answers: bool = True,
    reader: Reader | None = None,
) -> Runtime:
    """Everything Docent needs. `embeddings` and `reader` may be passed in to share loaded
    models between runtimes; `chat_model` stands in for the OpenAI-compatible model
    (`generator="openai"`). Without `answers` (an ingestion worker) the node keeps no lexical
    index."""
    if chat_model is not None and settings.generator != "openai":
        raise ConfigError("a chat model was given but the generator setting is not 'openai'")
    database = open_database(settings)
    stores = Stores.open(settings, database)
    live = live_entry(settings, database)
    if embeddings is None or live.embedding_model != settings.embedding_model:
        embeddings = load_embeddings(
            live.embedding_model, settings.model_cache, settings.embed_batch_size
        )
    store, units = index_parts(settings, database, live, embeddings)
    lexical = LexicalIndex(settings.lexical_dir)
    ingestor = _write_path(settings, store, lexical, embeddings, units, live, answers)
    evidence = _evidence(settings, reader or load_reader(settings))
    assistant = _read_path(
        settings, store, lexical, embeddings, units, evidence, ingestor.manifest, chat_model
    )
    ingestor.sync_lexical()
    return Runtime(
        settings=settings,
        database=database,
        stores=stores,
        embeddings=embeddings,
        store=store,
        lexical=lexical,
        ingestor=ingestor,
        assistant=assistant,
        evidence=evidence,
        live=live,
        chat_model=chat_model,
    )
