"""All configuration in one typed object, read from `DOCENT_*` environment variables (or .env)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embeddings import BUNDLED_MODEL, DEFAULT_CACHE, INT8_MODEL

__all__ = ["Settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Built once at the edge (app.py) and passed down; nothing reads the environment again."""

    model_config = SettingsConfigDict(env_prefix="DOCENT_", env_file=".env", extra="ignore")

    # Storage
    data_dir: Path = Field(Path(".docent"), description="Where the Chroma and BM25 indexes live.")
    chroma_url: str | None = Field(
        None,
        description="A Chroma server (http://host:port, `chroma run`) that several processes "
        "or machines share; default: an embedded store in the data dir.",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the shared database (postgresql+psycopg://…), one per "
        "collection; default: <data_dir>/<collection>.db (SQLite).",
    )
    collection: str = Field("docent", description="Chroma collection name.")
    samples_dir: Path | None = Field(
        None,
        description="Demo documents indexed on first start when the index is empty and no "
        "credentials exist (`make run` sets it to the bundled samples/).",
    )

    # Ingestion
    embedding_model: str = Field(
        BUNDLED_MODEL,
        description=f"'{BUNDLED_MODEL}' (bundled, fp32), '{INT8_MODEL}' (int8 ONNX; another "
        "index) or a local folder with model.onnx and tokenizer.json.",
    )
    embed_batch_size: int = Field(
        8, ge=1, description="Texts per model run (8 was fastest on a 2-core CPU: bench/ingest.py)."
    )
    model_cache: Path = Field(
        DEFAULT_CACHE,
        description="Where the bundled model's ONNX export is kept (written once).",
    )
    chunk_size: int = Field(800, ge=100, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(120, ge=0, description="Characters shared by neighbouring chunks.")
    # OCR budgets (index.ocr.OcrLimits; a job is one ingest: an upload, a folder, a sync). A
    # scanned PDF or image that runs out is kept as far as it was read, and says so.
    ocr_document_pages: int = Field(300, ge=0, description="Pages OCR reads of one document.")
    ocr_document_seconds: float = Field(600.0, ge=0, description="OCR seconds of one document.")
    ocr_job_pages: int = Field(1000, ge=0, description="Pages OCR reads in one ingest job.")
    ocr_job_seconds: float = Field(1800.0, ge=0, description="OCR seconds of one ingest job.")

    # Retrieval
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the generator.")
    candidates: int = Field(30, ge=1, description="Hits taken from each retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")

    # Answering
    generator: Literal["extractive", "openai", "llamacpp"] = "extractive"
    # The reader and its abstention settings. The three values are `app.py eval --calibrate
    # --in-domain --everyday`'s choice (at most 5 % of answerable questions refused) for the
    # bundled samples, the news article and the everyday set; calibrate on the documents you
    # serve.
    reader_model: Path = Field(
        PROJECT_ROOT / "models" / "reader-v1",
        description="The extractive reader: a folder with model.onnx, tokenizer.json and "
        "config.json (`app.py train-reader` makes one; the shipped one is models/reader-v1).",
    )
    reader_passages: int = Field(
        5, ge=1, le=20, description="Top retrieved passages the reader reads for each question."
    )
    min_evidence: float = Field(
        -10.1288,
        description="Below this evidence (the reader's margin over 'no answer' plus the "
        "weighted retrieval evidence) the answer is 'not in the documents', on every answer "
        "path (`app.py eval --calibrate` chooses it for a corpus).",
    )
    relevance_weight: float = Field(
        10.0,
        ge=0,
        le=50,
        description="Evidence adds this times the passage's cosine similarity to the question.",
    )
    coverage_weight: float = Field(
        20.0,
        ge=0,
        le=50,
        description="Evidence loses this times the share of the question's content words that "
        "the passage and its document's title lack.",
    )
    max_answer_sentences: int = Field(3, ge=1, le=6)
    answer_prompt: str | None = Field(
        None,
        description="Answer prompt NAME.VERSION in prompts/; default answer.v5 (answer.v6 for "
        "the small local model of `llamacpp`); older versions stay loadable.",
    )
    condense_prompt: str = Field("condense.v1", description="Follow-up rewriting prompt.")
    prompt_version: str | None = Field(
        None,
        description="Deprecated: the chat model's answer prompt version; use DOCENT_ANSWER_PROMPT.",
    )
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    openai_base_url: str | None = Field(None, description="OpenAI-compatible endpoint URL.")
    openai_model: str = "gpt-4o-mini"
    openai_api_key: SecretStr = SecretStr("not-needed")
    openai_temperature: float = 0.0
    openai_max_tokens: int = Field(512, ge=16, description="Longest answer from the chat model.")
    history_turns: int = Field(6, ge=0, description="Past messages used to rewrite follow-ups.")
    llamacpp_model_path: Path | None = Field(None, description="GGUF file (llamacpp).")
    llamacpp_context: int = Field(4096, ge=512, description="llama.cpp context window (tokens).")
    llamacpp_threads: int | None = Field(None, ge=1, description="CPU threads; default all cores.")
    llamacpp_max_tokens: int = Field(256, ge=16, description="Longest generated answer (tokens).")
    min_support: float = Field(
        0.45, ge=0, le=1, description="Answer sentences scoring below this are flagged."
    )
    unsupported_sentences: Literal["mark", "drop"] = Field(
        "mark",
        description="A generated sentence no retrieved passage supports: shown marked as "
        "unsupported (mark) or left out of the answer (drop).",
    )

    # Evaluation
    eval_dir: Path = Field(
        PROJECT_ROOT.parent / "shared" / "eval", description="Public evaluation sets (`eval`)."
    )

    # Logging: at INFO, one line per question (latency, retrieved and cited ids, prompt).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    log_format: Literal["text", "json"] = Field(
        "text", description="`json`: one JSON object per line, with an access log line per request."
    )

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    run_jobs: bool = Field(
        True, description="`serve` runs queued ingestion jobs itself (off when workers do)."
    )
    job_stale_seconds: float = Field(
        30.0, ge=1, description="A running job whose worker is silent this long is redone."
    )
    shutdown_grace_seconds: float = Field(
        10.0,
        ge=0,
        description="On SIGTERM: how long in-flight answers and a running job may take to "
        "finish; a job still running then is handed back to the queue.",
    )
    max_upload_mb: int = Field(50, ge=1, description="Largest file accepted for indexing.")
    max_upload_files: int = Field(20, ge=1, description="Files in one upload request.")
    max_request_kb: int = Field(256, ge=16, description="Largest request body but uploads.")
    # Page views (GET /api/v1/citations/{id}/page.png): what one may cost (rag/web/page_images.py).
    page_max_words: int = Field(
        10_000, ge=100, description="Words of a page read to place highlights; the rest unmarked."
    )
    page_max_pixels: int = Field(
        25_000_000,
        ge=1_000_000,
        description="Largest scan decoded for a page view (a JPEG counts at the 1/2-1/8 scale "
        "its decoder reads it at); a larger one is refused from its header, before decoding.",
    )
    page_renders_per_caller: int = Field(
        3, ge=1, description="Page views one caller may have drawn at once; one more gets 429."
    )
    page_cache_mb: int = Field(
        64, ge=0, description="Memory for pages drawn lately (picture and words), for re-views."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names besides the bound address and localhost that an open install "
        "answers to (a guard against DNS rebinding).",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses of reverse proxies whose X-Forwarded-For is believed.",
    )

    # Access: one model for every surface. With no API key and no portal secret, Docent is open
    # (a local, single-user install) and serves only on a loopback address unless allow_open.
    api_keys_file: Path | None = Field(
        None,
        description="Where older versions kept API keys (default <data_dir>/api_keys.json); "
        "imported into the database on first start.",
    )
    jwt_secret: SecretStr | None = Field(
        None, description="Shared secret of HS256 portal tokens (small installs)."
    )
    jwt_jwks_url: str | None = Field(
        None,
        pattern=r"^https?://",
        description="The portal's public keys (JWKS): RS256/ES256 portal tokens, `kid` required.",
    )
    jwt_jwks_cache_seconds: float = Field(
        300, gt=0, description="How long the portal's JWKS is reused before it is fetched again."
    )
    jwt_jwks_cooldown_seconds: float = Field(
        30, ge=0, description="Least time between fetches caused by an unknown `kid` (rotation)."
    )
    jwt_audience: str = Field("docent", description="Required `aud` claim of portal tokens.")
    jwt_issuer: str | None = Field(None, description="Required `iss` claim, when set.")
    jwt_max_age: int = Field(
        3600, ge=60, description="Longest accepted lifetime (exp - iat) of a portal token, s."
    )
    session_secret: SecretStr | None = Field(
        None, description="Signs chat UI sessions; default: a random key kept in the database."
    )
    session_hours: int = Field(8, ge=1, description="How long a chat UI sign-in lasts.")
    allow_open: bool = Field(
        False, description="Serve without credentials on a non-loopback address (not advised)."
    )
    allowed_origins: list[str] = Field(
        default_factory=list, description="Origins that may call the API and embed Docent."
    )
    rate_limit_per_minute: int = Field(60, ge=0, description="Requests per caller; 0: no limit.")
    chat_concurrency: int = Field(
        16,
        ge=1,
        description="Chat answers the web UI works on at once (one slow answer "
        "must not hold up every other user).",
    )
    failed_auth_per_minute: int = Field(
        10, ge=1, description="Failed sign-ins per client address before it must wait."
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not re.fullmatch(r"https?://[A-Za-z0-9.\-]+(:\d{1,5})?", origin):
                raise ValueError(f"{origin!r} is not an origin like https://portal.example.com")
        return origins

    @field_validator("answer_prompt", "condense_prompt")
    @classmethod
    def _prompt_id(cls, value: str | None, info: ValidationInfo) -> str | None:
        role = str(info.field_name).removesuffix("_prompt")
        if value is not None and not re.fullmatch(rf"{role}\.[A-Za-z0-9_-]+", value):
            raise ValueError(f"{value!r} is not a {role} prompt like '{role}.v1'")
        return value

    @model_validator(mode="after")
    def _overlap_below_size(self) -> Settings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self

    @property
    def answer_prompt_id(self) -> str:
        """The answer prompt to load: the setting, else the generator's default."""
        if self.answer_prompt:
            return self.answer_prompt
        if self.generator == "llamacpp":
            return "answer.v6"  # fenced passages; v7 (opt-in) also offers the likely answer
        return f"answer.{self.prompt_version}" if self.prompt_version else "answer.v5"

    @property
    def database_address(self) -> str:
        """The shared state of one index (Chroma collection): DOCENT_DATABASE_URL, else a
        SQLite file in the data dir named after the collection."""
        return (
            self.database_url or f"sqlite:///{(self.data_dir / f'{self.collection}.db').resolve()}"
        )

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lexical_dir(self) -> Path:
        return self.data_dir / "lexical" / self.collection

    @property
    def api_keys_path(self) -> Path:
        return self.api_keys_file or self.data_dir / "api_keys.json"
