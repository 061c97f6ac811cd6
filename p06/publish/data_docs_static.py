"""Data Docs that look right offline: the CSS and scripts Great Expectations links from CDNs are served from the
repository (p06/publish/data_docs_static/, see its README) and the pages' links rewritten after each build.

The links are those of GX's page templates (great_expectations/render/view/templates/*.j2); a link this table
does not know is left as it is, and tests/test_publication_checks.py fails on any http(s) stylesheet or script
left in the built index.html, so a GX upgrade that adds one is noticed.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

STATIC = Path(__file__).with_name("data_docs_static")
VENDOR = Path("static") / "vendor"          # inside the Data Docs site

# CDN address (a prefix of the link) -> file under data_docs_static/, or None to drop the tag.
LOCAL = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "css/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "css/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "js/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "js/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": None,
    "https://cdn.jsdelivr.net/npm/vega@5": None,
    "https://cdn.jsdelivr.net/npm/vega-lite@5": None,
    "https://cdn.jsdelivr.net/npm/vega-embed@6": None,
}
LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*/logo-long\.png[^\"']*")
PINNED = re.compile(r"\s+(?:integrity|crossorigin)(?:=\"[^\"]*\"|='[^']*'|=[^\s>]+)?", re.I)
# a link into the site's static/ folder: GX writes it with one "../" per level of a suite name's dots, short of
# the folders its validation pages sit in (run name, run time)
STATIC_LINK = re.compile(r"((?:href|src)=\")(?:\.\./|\./)*static/")
TAG = re.compile(r"<(link|script)\b[^>]*?(?:href|src)=\"(https?://[^\"]+)\"[^>]*>(?:\s*</script>)?", re.I)


def install(site: Path) -> Path:
    """Copy the assets into the site (when missing or changed); returns their folder."""
    dest = Path(site) / VENDOR
    for src in STATIC.rglob("*"):
        if src.is_file() and src.suffix in (".css", ".js", ".woff2"):
            target = dest / src.relative_to(STATIC)
            if not target.exists() or target.stat().st_size != src.stat().st_size:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(src, target)
    return dest


def localize_page(html: str, page: Path, site: Path) -> str:
    """The page with CDN links pointing at the site's copies (relative, so the site can move)."""
    vendor = os.path.relpath(Path(site) / VENDOR, page.parent).replace(os.sep, "/")
    logo = os.path.relpath(Path(site) / "static" / "images" / "logo-long.png", page.parent).replace(os.sep, "/")

    def swap(match: re.Match) -> str:
        url = match.group(2)
        known = next((k for k in LOCAL if url.startswith(k)), None)
        if known is None:
            return match.group(0)
        if LOCAL[known] is None:
            return ""
        # A copy served from the site is not the CDN's response: the browser would check it against the CDN's
        # subresource-integrity hash and, as a cross-origin request of a file:// page, refuse to run it.
        return PINNED.sub("", match.group(0).replace(url, f"{vendor}/{LOCAL[known]}"))

    static = os.path.relpath(Path(site) / "static", page.parent).replace(os.sep, "/")
    html = STATIC_LINK.sub(lambda m: f"{m.group(1)}{static}/", html)
    return LOGO.sub(logo, TAG.sub(swap, html))


def localize(site: Path, since: float = 0.0) -> int:
    """Install the assets and rewrite the pages built since `since` (a time.time()), every page the first time;
    returns the number of pages rewritten."""
    site = Path(site)
    if not (site / VENDOR).is_dir():
        since = 0.0                     # the first time: pages built before this module existed too
    install(site)
    count = 0
    for page in site.rglob("*.html"):
        if page.stat().st_mtime < since:
            continue
        html = page.read_text(encoding="utf-8")
        local = localize_page(html, page, site)
        if local != html:
            page.write_text(local, encoding="utf-8")
            count += 1
    return count
