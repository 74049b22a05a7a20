"""The pluggable answerer: one `Generator` protocol and its implementations, one module each.

- `ExtractiveGenerator` (default, `extractive.py`) quotes the best passage sentences; no model.
- `ChatGenerator` (`chat.py`) asks any LangChain chat model with the versioned answer prompt.
- `LlamaCppGenerator` (`llamacpp.py`) runs a local GGUF model in-process (optional install).
"""

from rag.generators.base import NOT_FOUND, Generator, is_abstention, prompt_passages
from rag.generators.chat import ChatGenerator
from rag.generators.extractive import ExtractiveGenerator
from rag.generators.llamacpp import LlamaCppGenerator, load_llamacpp

__all__ = [
    "NOT_FOUND",
    "ChatGenerator",
    "ExtractiveGenerator",
    "Generator",
    "LlamaCppGenerator",
    "is_abstention",
    "load_llamacpp",
    "prompt_passages",
]
