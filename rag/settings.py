"""All configuration in one typed object, read from `DOCENT_*` environment variables (or .env)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.embeddings import BUNDLED_MODEL

__all__ = ["Settings"]

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Built once at the edge (app.py) and passed down; nothing reads the environment again."""

    model_config = SettingsConfigDict(env_prefix="DOCENT_", env_file=".env", extra="ignore")

    # Storage
    data_dir: Path = Field(Path(".docent"), description="Where the Chroma and BM25 indexes live.")
    collection: str = Field("docent", description="Chroma collection name.")
    samples_dir: Path | None = Field(
        None,
        description="Demo documents indexed on first start when the index is empty and no "
        "credentials exist (`make run` sets it to the bundled samples/).",
    )

    # Ingestion
    embedding_model: str = Field(
        BUNDLED_MODEL, description="'all-MiniLM-L6-v2' (bundled) or a local model folder."
    )
    embed_batch_size: int = Field(32, ge=1)
    chunk_size: int = Field(800, ge=100, description="Maximum characters per chunk.")
    chunk_overlap: int = Field(120, ge=0, description="Characters shared by neighbouring chunks.")

    # Retrieval
    top_k: int = Field(5, ge=1, le=50, description="Passages handed to the generator.")
    candidates: int = Field(30, ge=1, description="Hits taken from each retriever before fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")

    # Answering
    generator: Literal["extractive", "openai", "llamacpp"] = "extractive"
    min_evidence: float = Field(
        0.40, description="Extractive: best sentence score below this means 'not in the documents'."
    )
    max_answer_sentences: int = Field(2, ge=1, le=6)
    answer_prompt: str | None = Field(
        None,
        description="Answer prompt NAME.VERSION in prompts/; default answer.v1 (answer.v2 for "
        "the small local model of `llamacpp`).",
    )
    condense_prompt: str = Field("condense.v1", description="Follow-up rewriting prompt.")
    prompt_version: str | None = Field(
        None, description="Deprecated: the answer prompt's version; use DOCENT_ANSWER_PROMPT."
    )
    prompts_dir: Path = PROJECT_ROOT / "prompts"
    openai_base_url: str | None = Field(None, description="OpenAI-compatible endpoint URL.")
    openai_model: str = "gpt-4o-mini"
    openai_api_key: SecretStr = SecretStr("not-needed")
    openai_temperature: float = 0.0
    history_turns: int = Field(6, ge=0, description="Past messages used to rewrite follow-ups.")
    llamacpp_model_path: Path | None = Field(None, description="GGUF file (llamacpp).")
    llamacpp_context: int = Field(4096, ge=512, description="llama.cpp context window (tokens).")
    llamacpp_threads: int | None = Field(None, ge=1, description="CPU threads; default all cores.")
    llamacpp_max_tokens: int = Field(256, ge=16, description="Longest generated answer (tokens).")
    min_support: float = Field(
        0.45, ge=0, le=1, description="Answer sentences scoring below this are flagged."
    )

    # Evaluation
    eval_dir: Path = Field(
        PROJECT_ROOT.parent / "shared" / "eval", description="Public evaluation sets (`eval`)."
    )

    # Logging: at INFO, one line per question (latency, retrieved and cited ids, prompt).
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"

    # Serving
    host: str = "127.0.0.1"
    port: int = Field(7860, ge=1, le=65535)
    max_upload_mb: int = Field(50, ge=1)

    # Access (HTTP API and UI). With no API key and no JWT secret, the API is open (local use).
    api_keys_file: Path | None = Field(
        None, description="JSON of API key name → sha256; default <data_dir>/api_keys.json."
    )
    jwt_secret: SecretStr | None = Field(None, description="Shared secret of portal tokens.")
    jwt_audience: str = Field("docent", description="Required `aud` claim of portal tokens.")
    allowed_origins: list[str] = Field(
        default_factory=list, description="Origins that may call the API and embed Docent."
    )
    rate_limit_per_minute: int = Field(60, ge=0, description="Requests per caller; 0: no limit.")
    ui_password: SecretStr | None = Field(
        None, description="When set, the chat UI asks for user 'docent' and this password."
    )

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
        if self.prompt_version:
            return f"answer.{self.prompt_version}"
        return "answer.v2" if self.generator == "llamacpp" else "answer.v1"

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def bm25_dir(self) -> Path:
        return self.data_dir / "bm25" / self.collection

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def api_keys_path(self) -> Path:
        return self.api_keys_file or self.data_dir / "api_keys.json"

    @property
    def feedback_path(self) -> Path:
        return self.data_dir / "feedback.jsonl"
