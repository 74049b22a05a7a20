"""The pluggable answerer: one `Generator` protocol and its implementations, one module each.

- `ExtractiveGenerator` (default, `extractive.py`) quotes the best passage sentences; no model.
- `ChatGenerator` (`chat.py`) asks any LangChain chat model with the versioned answer prompt.
- `LlamaCppGenerator` (`llamacpp.py`) runs a local GGUF model in-process (optional install).

The language-model ones are imported from their modules where chosen, so answering with the
default imports no chat-model code.
"""

from rag.answer.generators.base import NOT_FOUND, Generator, is_abstention, prompt_passages
from rag.answer.generators.extractive import ExtractiveGenerator

__all__ = ["NOT_FOUND", "ExtractiveGenerator", "Generator", "is_abstention", "prompt_passages"]
