"""A dashboard page from its template (catalog/templates/*.html.j2) and its data, as one self-contained HTML file:
the charting library (vendor/, ECharts), the page's script and style (static/) and the data (JSON) are written
into the file, so that it opens offline from a shared drive or an e-mail attachment and fetches nothing."""
from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from p06 import config
from p06.publish.atomic import atomic_write_text
from p06.wording import add_filters

HERE = Path(__file__).parent
TEMPLATES_DIR = config.CATALOG_DIR / "templates"
LIBRARY = HERE / "vendor" / "echarts.common.min.js"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)), undefined=jinja2.StrictUndefined,
                             autoescape=True, trim_blocks=True, lstrip_blocks=True)
    return add_filters(env)


@cache
def _asset(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    if "</script" in text.lower() and path.suffix == ".js":
        raise ValueError(f"{path} cannot be inlined: it contains '</script'")
    return text


def _json(data: dict) -> Markup:
    """The data as JSON safe inside a <script> element ('<' escaped, so no '</script>' can close it)."""
    return Markup(json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c"))


def render(template: str, data: dict, script: str) -> str:
    """The page: `template` with the data, the library, the common style and `script` (a file of static/)."""
    return _environment().get_template(template).render(
        data=data, data_json=_json(data), library=Markup(_asset(LIBRARY)),
        style=Markup(_asset(HERE / "static" / "dashboard.css")),
        common_script=Markup(_asset(HERE / "static" / "common.js")),
        script=Markup(_asset(HERE / "static" / script)))


def write(path: Path, html: str) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, html)
    return path
