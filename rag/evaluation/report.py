"""Presenting results: a plain-text table for the terminal, a JSON file, a PNG bar chart."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["format_table", "plot_results", "write_json"]

Rows = Mapping[str, Mapping[str, float]]  # row name → {column: value}


def format_table(title: str, rows: Rows, columns: Sequence[str] | None = None) -> str:
    """A fixed-width table with one row per system; values with three decimals."""
    columns = list(columns or dict.fromkeys(c for row in rows.values() for c in row))
    name_width = max([len("system"), *(len(name) for name in rows)])
    widths = [max(len(c), 6) for c in columns]
    head = "system".ljust(name_width) + "".join(
        f"  {c:>{w}}" for c, w in zip(columns, widths, strict=True)
    )
    lines = [title, head, "-" * len(head)]
    for name, row in rows.items():
        cells = "".join(
            f"  {row[c]:>{w}.3f}" if c in row else f"  {'-':>{w}}"
            for c, w in zip(columns, widths, strict=True)
        )
        lines.append(name.ljust(name_width) + cells)
    return "\n".join(lines)


def write_json(path: Path, payload: Mapping[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")


def plot_results(path: Path, tables: Mapping[str, Rows]) -> None:
    """One panel per table: grouped bars, one group per metric, one bar per system."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tables = {title: rows for title, rows in tables.items() if rows}
    figure, axes = plt.subplots(len(tables), 1, figsize=(12, 4.5 * len(tables)), squeeze=False)
    for axis, (title, rows) in zip(axes[:, 0], tables.items(), strict=True):
        metrics = list(dict.fromkeys(c for row in rows.values() for c in row))
        width = 0.8 / len(rows)
        for index, (system, row) in enumerate(rows.items()):
            positions = [m + index * width for m in range(len(metrics))]
            axis.bar(positions, [row.get(m, 0.0) for m in metrics], width, label=system)
        axis.set_xticks(
            [m + 0.4 - width / 2 for m in range(len(metrics))],
            metrics,
            fontsize=8,
            rotation=20,
            ha="right",
        )
        axis.set_ylim(0, 1)
        axis.set_title(title)
        axis.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
        axis.grid(axis="y", alpha=0.3)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
