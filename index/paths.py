"""Which files on disk are read, and how: one rule for folder ingest, the watcher, the
ingestion worker and re-index.

A file is read only if its real path lies inside the root, the folder that was named (resolved
when named):

- Folders are walked without following links (`os.walk`), so a link loop ends. A link, to a
  file or to a folder, whose target resolves outside the root is skipped and listed as such
  (by its name under the root, never a server path). A link whose target stays inside leads to
  its real file; each real file is listed once, under its real path (its source key) and named
  by that path relative to the root. Hidden names (a part starting with '.') are never listed,
  whether the link's or its target's.
- When read (`read_source`), every component of the file's path is opened without following
  links (`O_NOFOLLOW`, from `/` down), and what is opened must be a regular file inside the
  root: a file or folder swapped for a link between listing and reading is refused. Its bytes
  are read once, bounded; those are what is hashed and parsed.
- A document's source key is the real path it was read from and its name that path's tail. It
  is gone (`is_gone`) once the key is no longer the real path of a regular file (deleted, or
  it or a folder above it replaced by a link), or the name is not its tail (it was read through
  a link before links were checked).

Files named directly (`app.py ingest FILE`) are the operator's choice: they have no root and are
read wherever they lead, named by their real file name. Uploads are read from a private copy.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import NamedTuple

from index.document import MAX_FILE_BYTES
from index.errors import LoadError
from index.loaders import SUPPORTED_SUFFIXES

__all__ = [
    "LINK_OUTSIDE",
    "Listing",
    "SourceFile",
    "document_root",
    "is_gone",
    "list_folder",
    "read_source",
    "read_through_link",
    "source_key",
]

LINK_OUTSIDE = "a link leading outside the folder (not followed)"

_FOLDER_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
# O_NONBLOCK: opening a FIFO must not wait for a writer (fstat then refuses it).
_FILE_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC


class SourceFile(NamedTuple):
    """A file to read, the key it is stored under, the name it is shown by, and the root it
    was listed under (None: named directly, or a private copy), which reading re-checks."""

    path: Path
    source: str
    name: str
    root: Path | None = None


@dataclass
class Listing:
    """The files a folder listing found, and the links it skipped as (name, reason)."""

    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def source_key(path: Path) -> str:
    """How a file from disk is keyed in the index: its absolute real path."""
    return str(path.resolve())


def _inside(path: str, root: str) -> bool:
    """Whether the normalised absolute `path` is `root` or lies under it (no link resolved)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def _hidden(name: str) -> bool:
    return any(part.startswith(".") for part in PurePosixPath(name).parts)


def list_folder(root: Path, paths: Iterable[Path]) -> Listing:
    """The supported files among `paths` (files and folders under `root`), by the rule above;
    paths not under `root` are ignored."""
    top = str(root.resolve())
    listing = Listing()
    seen: set[str] = set()
    skipped: dict[str, str] = {}

    def name_of(path: str) -> str:
        return PurePosixPath(path).relative_to(top).as_posix()

    def skip(listed: str) -> None:
        skipped[name_of(listed)] = LINK_OUTSIDE

    def found(listed: str, real: str, files: list[SourceFile]) -> None:
        if not _inside(real, top):
            if os.path.isdir(real) or Path(listed).suffix.lower() in SUPPORTED_SUFFIXES:
                skip(listed)  # an unsupported file's link is ignored like the file would be
            return
        name = name_of(real)
        supported = Path(real).suffix.lower() in SUPPORTED_SUFFIXES
        if real not in seen and supported and not _hidden(name) and os.path.isfile(real):
            seen.add(real)
            files.append(SourceFile(Path(real), real, name, Path(top)))

    def walk(folder: str) -> None:
        files: list[SourceFile] = []
        for parent, folders, names in os.walk(folder):  # never follows a link: loops end
            folders[:] = sorted(f for f in folders if not f.startswith("."))
            for linked in (os.path.join(parent, f) for f in folders):
                if os.path.islink(linked) and not _inside(os.path.realpath(linked), top):
                    skip(linked)  # a link inside the root reaches nothing the walk misses
            for name in names:
                if not name.startswith("."):
                    path = os.path.join(parent, name)  # `parent` is a real folder
                    found(path, os.path.realpath(path) if os.path.islink(path) else path, files)
        listing.files += sorted(files, key=lambda f: PurePosixPath(f.name).parts)

    for path in paths:
        listed = os.path.abspath(path)
        if os.path.realpath(listed) == top:
            listed = top  # the root as named, through a link or not
        if not _inside(listed, top) or _hidden(name_of(listed)):
            continue
        real = os.path.realpath(listed)
        if os.path.isdir(real) and _inside(real, top):
            walk(real)
        elif os.path.isdir(real):
            skip(listed)
        else:
            found(listed, real, listing.files)
    listing.skipped = sorted(skipped.items())
    return listing


def _refusal(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a link where a file was listed (links are not followed when a file is read)"
    if error.errno == errno.ENOTDIR:
        return "a folder of its path is now a link or a file"
    if error.errno == errno.ENOENT:
        return "no such file"
    return f"cannot be read ({error.strerror or error})"


def _open_inside(path: Path, root: Path) -> int:
    """A descriptor of the regular file at `path`, opened component by component from `/`
    without following any link, if `path` lies lexically inside `root`."""
    text, top = str(path), str(root)
    if not (path.is_absolute() and os.path.normpath(text) == text and _inside(text, top)):
        raise LoadError(path, "outside the folder it was listed from")
    parts = PurePosixPath(text).parts[1:]
    if not parts:
        raise LoadError(path, "not a regular file")
    *folders, name = parts
    parent = os.open("/", _FOLDER_FLAGS)
    try:
        for folder in folders:
            inner = os.open(folder, _FOLDER_FLAGS, dir_fd=parent)
            os.close(parent)
            parent = inner
        return os.open(name, _FILE_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
    except OSError as exc:
        raise LoadError(path, _refusal(exc)) from exc
    finally:
        os.close(parent)


def read_source(file: SourceFile) -> bytes:
    """The bytes of `file`, read once, at most MAX_FILE_BYTES; with a root, read only as the
    rule says (`_open_inside`), else wherever its path leads. Raises `LoadError` saying why
    not."""
    try:
        descriptor = (
            _open_inside(file.path, file.root)
            if file.root is not None
            else os.open(file.path, _FILE_FLAGS)
        )
    except OSError as exc:
        raise LoadError(file.path, _refusal(exc)) from exc
    with os.fdopen(descriptor, "rb") as stream:
        status = os.fstat(stream.fileno())
        if not stat.S_ISREG(status.st_mode):
            raise LoadError(file.path, "not a regular file")
        if status.st_size > MAX_FILE_BYTES:
            raise LoadError(file.path, f"larger than {MAX_FILE_BYTES // 2**20} MB")
        try:
            content = stream.read(MAX_FILE_BYTES + 1)  # it may grow while read
        except OSError as exc:
            raise LoadError(file.path, _refusal(exc)) from exc
    if len(content) > MAX_FILE_BYTES:
        raise LoadError(file.path, f"larger than {MAX_FILE_BYTES // 2**20} MB")
    return content


def document_root(source: str, name: str) -> Path | None:
    """The folder a document on disk was listed under: its source key less its name (for a
    file named directly, its folder); None when the name is not the key's tail."""
    if not source.startswith("/") or not source.endswith(f"/{name}") or not name:
        return None
    return Path(source.removesuffix(f"/{name}") or "/")


def read_through_link(source: str, name: str) -> bool:
    """Whether a document on disk is named otherwise than its source key's tail: it was read
    through a link before links were checked (or named directly through a link)."""
    return source.startswith("/") and document_root(source, name) is None


def is_gone(source: str, name: str) -> bool:
    """Whether a document read from a file (a source key that is a path) can no longer be
    read from it by the rule: the key is no longer the real path of a regular file, or it was
    read through a link. Uploads and other keys are never gone."""
    if not source.startswith("/"):
        return False
    if read_through_link(source, name) or os.path.realpath(source) != source:
        return True
    try:
        return not stat.S_ISREG(os.lstat(source).st_mode)
    except OSError:
        return True
