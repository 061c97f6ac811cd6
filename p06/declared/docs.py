"""docs/declarations.md: every declared field, from the models' own field docstrings (the models are the documentation)."""
from __future__ import annotations

import types
import typing
from pathlib import Path

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from p06.declared.common import Common
from p06.declared.sources import Measure, Source, UnitKindPeriod


def _type(annotation) -> str:
    """A field's type as a YAML writer reads it: 'month | cumulative', 'list of text', 'YYYY-MM'."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        pattern = next((getattr(m, "pattern", None) for m in args[1:] if getattr(m, "pattern", None)), None)
        return {r"^\d{4}-(0[1-9]|1[0-2])$": "YYYY-MM"}.get(pattern, _type(args[0]))
    if origin is typing.Literal:
        return " \\| ".join(str(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        return " \\| ".join(_type(a) for a in kept) + (" or null" if len(kept) < len(args) else "")
    if origin in (list, tuple):
        return f"list of {_type(args[0])}" if args else "list"
    if origin is dict:
        return f"mapping {_type(args[0])} → {_type(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return f"[{annotation.__name__}](#{annotation.__name__.lower()})"
    return {str: "text", int: "integer", float: "number", bool: "true/false"}.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field) -> str:
    hint = (field.json_schema_extra or {}).get("default")
    if hint:
        return hint
    if field.is_required():
        return "required"
    if field.default is PydanticUndefined or field.default_factory is not None:
        return "derived"
    if isinstance(field.default, bool):
        return f"`{str(field.default).lower()}`"
    return "—" if field.default in (None, (), [], {}) else f"`{field.default}`"


def _same(a, b) -> bool:
    return (a.annotation, a.default, a.description) == (b.annotation, b.default, b.description)


def model_section(model: type[BaseModel], where: str, base: type[BaseModel] | None = None) -> list[str]:
    """A model's fields as a table; with `base`, only the fields it adds or changes."""
    lines = [f"## {model.__name__}", "", f"{' '.join((model.__doc__ or '').split())} ({where})", "",
             "| field | type | default | meaning |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        inherited = base and name in base.model_fields and _same(base.model_fields[name], field)
        if field.exclude or inherited:
            continue
        kind = (field.json_schema_extra or {}).get("yaml_type") or _type(field.annotation)
        meaning = " ".join((field.description or "").split()).replace("|", "\\|")
        lines.append(f"| `{field.alias or name}` | {kind} | {_default(field)} | {meaning} |")
    return lines + [""]


def _sections() -> list[str]:
    from p06.publish.indicator_catalog import Appendix, Indicator, IndicatorCatalog, PublicServices, TargetReference
    from p06.reconcile import rules

    lines = []
    for model, where in [(Source, "catalog/sources/<source>.yaml"),
                         (UnitKindPeriod, "an entry of a source's `unit_kinds`"),
                         (Measure, "an entry of a source's `measures`"), (Common, "catalog/common.yaml"),
                         (rules.Rule, "an entry of `rules` in checks/rules.yaml; fields of every kind")]:
        lines += model_section(model, where)
    for model in typing.get_args(typing.get_args(rules.AnyRule)[0]):
        lines += model_section(model, f"a rule with `kind: {model.model_fields['kind'].annotation.__args__[0]}`; "
                                      "the fields of Rule and these", base=rules.Rule)
    for model, where in [(IndicatorCatalog, "catalog/indicators.yaml"), (Indicator, "an entry of `indicators`"),
                         (TargetReference, "an indicator's `target`"), (PublicServices, "`public_services`"),
                         (Appendix, "an entry of `public_services.appendices`")]:
        lines += model_section(model, where)
    from p06.publish.vintages import VintageTexts
    lines += model_section(VintageTexts, "catalog/publication_texts.yaml")
    from p06.publish.publication_checks import Check, Expect, PublicationChecks
    for model, where in [(PublicationChecks, "checks/publication.yaml"), (Check, "an entry of `checks`"),
                         (Expect, "a check's `expect`")]:
        lines += model_section(model, where)
    from p06.documents.report_config import Recipient, ReportIssuer
    from p06.national.texts import National, NationalReport, NationalWorkbook
    for model, where in [(National, "catalog/national.yaml"), (NationalWorkbook, "`workbook`"),
                         (NationalReport, "`report`"),
                         (ReportIssuer, "`report.issuer`; a province's catalog/provinces/<code>/report.yaml"),
                         (Recipient, "an entry of `recipients` that holds for some months")]:
        lines += model_section(model, where)
    from p06.documents.dashboard.config import DashboardTexts, Flag, StatusLook
    for model, where in [(DashboardTexts, "catalog/dashboard.yaml"), (Flag, "`flag`"),
                         (StatusLook, "an entry of `delivery_status`")]:
        lines += model_section(model, where)
    return lines


def write_declarations_doc(docs_dir: Path) -> Path:
    """Write docs_dir/declarations.md; returns its path."""
    lines = ["# Declarations", "",
             "Generated from the models in p06/declared/ (`p06 docs`); edit the models' field docstrings, not this file.",
             "A field not listed here is refused when the file is read, with the file and the field named.", ""]
    lines += _sections()
    out = Path(docs_dir) / "declarations.md"
    out.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
    return out
