"""The template layer of the report: one Jinja2 environment with the Vietnamese number filters.

`say(template, **values)` renders one sentence of catalog/report_templates.yaml; the Markdown draft and the
Word report render their layouts (catalog/templates/) with the same filters:
`{{ x | so }}` -> "1.651.144", `{{ x | so(2) }}` -> "96,20", `{{ x | ty_le(2) }}` -> "96,20%" (x in percent points).
"""
from __future__ import annotations

from functools import cache

import jinja2
import jinja2.meta

from p06 import config, vntext

TEMPLATES_DIR = config.CATALOG_DIR / "templates"


def so(value, decimals: int = 0) -> str:
    return vntext.format_number(value, decimals) if value is not None else "…"


def ty_le(value, decimals: int = 2) -> str:
    return so(value, decimals) + "%" if value is not None else "…"


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    env.filters.update(so=so, ty_le=ty_le)
    return env


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), undefined=jinja2.StrictUndefined,
                             autoescape=False, keep_trailing_newline=True, trim_blocks=True, lstrip_blocks=True)
    return add_filters(env)


@cache
def _compiled(text: str) -> jinja2.Template:
    return environment().from_string(text)


def say(text: str, **values) -> str:
    """One sentence (a Jinja2 template string) with its values."""
    return _compiled(" ".join(text.split()) if "\n" in text else text).render(**values)


@cache
def names(text: str) -> frozenset[str]:
    """The variables a template uses: '{{ X.value }}' -> {'X'}."""
    return frozenset(jinja2.meta.find_undeclared_variables(environment().parse(text)))


def render_file(name: str, **values) -> str:
    return environment().get_template(name).render(**values)
