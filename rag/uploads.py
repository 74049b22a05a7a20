"""Uploaded files: safe names, allowed types, size limits, and where they are kept
(`<data_dir>/uploads/<collection>/<name>`). Shared by the chat UI and the HTTP API."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import BinaryIO

from index.errors import InputError
from index.loaders import SUPPORTED_SUFFIXES

__all__ = ["check_collection", "safe_filename", "save_upload"]

_COLLECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_BLOCK = 1 << 20


def safe_filename(name: str) -> str:
    """A file name without folders or unusual characters, keeping its suffix."""
    base = Path(name).name
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", base).lstrip("._") or "upload"
    return cleaned[:120]


def check_collection(name: str) -> str:
    if not _COLLECTION.match(name):
        raise InputError(f"invalid collection name {name!r}: use 1-64 letters, digits, '-' or '_'")
    return name


def save_upload(stream: BinaryIO, name: str, folder: Path, max_bytes: int) -> Path:
    """Copy an uploaded file to `folder` under a safe name; refuses unsupported types and
    files over `max_bytes` (nothing is left behind)."""
    filename = safe_filename(name)
    if Path(filename).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InputError(f"{filename}: unsupported file type")
    folder.mkdir(parents=True, exist_ok=True)
    destination = folder / filename
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{filename}.", suffix=".part")
    partial = Path(name)
    written = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while block := stream.read(_BLOCK):
                written += len(block)
                if written > max_bytes:
                    raise InputError(f"{filename}: larger than {max_bytes // _BLOCK} MB")
                out.write(block)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination
