"""What the working group writes itself: the report's sections the data cannot write (direction, communication,
institutions, banking, budget, pilot models, assessment, tasks ahead, proposals) and the task table of Phụ lục I.

A writer puts the period's text in `catalog/provinces/<code>/narrative/<period>.yaml` (`2023-09.yaml`,
`2023-Q3.yaml`, ...; another folder with P06_NARRATIVE_DIR): one key per block of the report's skeleton
(`skeleton` in catalog/report_templates.yaml names them), its text as paragraphs separated by a blank line, and
`phu_luc_1`, the task table. A block the period's file lacks takes the previous period's text, marked for review;
a block neither has is a visible placeholder for the writer. Nothing here is invented: the text is the writer's.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from p06 import config, reference, report_periods

TASK_FIELDS = ("nhiem_vu", "van_ban", "co_quan", "thoi_han", "ket_qua", "ghi_chu")


class NarrativeError(ValueError):
    """A narrative file that cannot be read as the writer meant it (named with file and key)."""


@dataclass
class Block:
    """One writer's block: its paragraphs and where they come from ('period', 'previous' or None: nothing yet)."""

    key: str
    paragraphs: list[str] = field(default_factory=list)
    origin: str | None = None
    origin_label: str | None = None        # the period the text was written for


def directory(code: str | None = None) -> Path:
    override = os.environ.get("P06_NARRATIVE_DIR")
    if override:
        return Path(override)
    return config.CATALOG_DIR / "provinces" / (code or reference.province_code()) / "narrative"


def path(label: str, code: str | None = None) -> Path:
    return directory(code) / f"{label}.yaml"


def read(label: str, code: str | None = None) -> dict:
    """The period's narrative file as written ({} when there is none)."""
    file = path(label, code)
    if not file.is_file():
        return {}
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise NarrativeError(f"{file}: not YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise NarrativeError(f"{file}: a narrative file is a mapping of block names to text")
    return data


def digest(label: str, code: str | None = None) -> str:
    """What the writer's files of a period say (its own and the previous period's, which it falls back on): a
    month whose narrative changed is written again by the next run."""
    import hashlib
    rp = report_periods.parse(label)
    parts = [path(x, code).read_bytes() if path(x, code).is_file() else b"-" for x in (rp.label, rp.previous().label)]
    return hashlib.sha256(b"\0".join(parts)).hexdigest()[:16]


def paragraphs(text) -> list[str]:
    """A block's text as paragraphs: split at blank lines, each paragraph's lines joined."""
    if text is None:
        return []
    if isinstance(text, list):
        return [" ".join(str(t).split()) for t in text if str(t).strip()]
    return [" ".join(part.split()) for part in str(text).split("\n\n") if part.strip()]


class Narrative:
    """The writer's blocks of a period, with the previous period's as the fallback."""

    def __init__(self, label: str, keys: list[str], code: str | None = None):
        self.rp = report_periods.parse(label)
        self.previous_label = self.rp.previous().label
        self.current, self.previous = read(self.rp.label, code), read(self.previous_label, code)
        unknown = sorted(set(self.current) - set(keys) - {"phu_luc_1"})
        if unknown:
            raise NarrativeError(f"{path(self.rp.label, code)}: unknown block(s) {', '.join(unknown)}; "
                                 f"the report's blocks are {', '.join(keys)} and phu_luc_1")
        self.blocks = {k: self._block(k) for k in keys}

    def _block(self, key: str) -> Block:
        here = paragraphs(self.current.get(key))
        if here:
            return Block(key, here, "period", self.rp.label)
        before = paragraphs(self.previous.get(key))
        if before:
            return Block(key, before, "previous", self.previous_label)
        return Block(key)

    def tasks(self) -> tuple[list[dict], str | None]:
        """(the task groups of Phụ lục I: [{title, rows: [{no, nhiem_vu, ...}]}], origin or None)."""
        for data, origin in ((self.current, "period"), (self.previous, "previous")):
            groups = data.get("phu_luc_1")
            if groups:
                return [_task_group(g) for g in groups], origin
        return [], None


def _task_group(group: dict) -> dict:
    rows = []
    for i, row in enumerate(group.get("rows") or [], start=1):
        unknown = set(row) - set(TASK_FIELDS)
        if unknown:
            raise NarrativeError(f"phu_luc_1: unknown field(s) {', '.join(sorted(unknown))}; fields: {', '.join(TASK_FIELDS)}")
        rows.append({"no": str(i), **{f: " ".join(str(row.get(f) or "").split()) for f in TASK_FIELDS}})
    return {"title": str(group.get("title") or ""), "rows": rows}
