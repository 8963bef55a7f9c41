"""Great Expectations Data Docs that render offline.

GX 1.x's page templates load their styles and scripts from six CDNs and the logo from S3, so a page
opened without the Internet (or served on a network that cannot reach them) renders unstyled, with
an empty index table. The exact files the templates name are vendored under vendor/ (from npm, with
their licences; README.md beside this file says how to refresh them), copied into the site's
static/vendor/, and every page GX renders is rewritten to load them by relative path.

Why rewrite the rendered HTML rather than override GX's templates: overriding means keeping copies of
the templates that name the URLs (page, page_minimal, index_page, js_script_imports, top_navbar),
which change with GX releases; the rewrite touches only the URLs. A URL a later GX adds is caught by
tests/test_validate.py, which checks that no page loads anything from the network.
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

VENDOR_DIR = Path(__file__).parent / "vendor"
SITE_VENDOR = Path("static") / "vendor"
# The URLs of GX 1.x's templates -> the vendored file (under vendor/). The filter-control stylesheet
# is named at 1.19.0 by GX, its script at 1.19.1: one copy, 1.19.1's, serves both.
VENDORED = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/js/bootstrap.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/css/bootstrap.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free-6.6.0/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/bootstrap-prefers-dark.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega-5.33.1/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite-5.23.0/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed-6.29.0/vega-embed.min.js",
}
# The navbar's logo (light and dark) comes from GX's S3 bucket, with the context's id as a query; GX
# copies the light one into the site's static/images/.
LOGO = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[\w.-]+(?:\?[^\"')]*)?")
# The index lists a run by its name, which also names its pages' folder, so has no spaces: etl/load.py's
# day_source_entity_batch-N. Shown with spaces between the parts, it wraps between them, not inside the
# date.
RUN_NAME = re.compile(r"'run_name': '(\d{4}-\d\d-\d\d|reference)_([a-z0-9]+)_(\w+)_(batch-\d+)'")
# GX 1.x puts a validation page's favicon one directory short of the site's root.
FAVICON = re.compile(r'href="(?:\.\.?/)*static/images/favicon\.ico"')
TAG = re.compile(r'<(?:script|link)\b[^>]*\b(?:src|href)="(https?://[^"]+)"[^>]*>')
# A crossorigin load of a local file is refused by browsers, and the hashes were the CDN's business.
INTEGRITY = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')


def install(site: Path) -> None:
    """Copy the vendored files into <site>/static/vendor (and refresh them after an upgrade)."""
    shutil.copytree(VENDOR_DIR, site / SITE_VENDOR, dirs_exist_ok=True)


def localize_page(page: Path, site: Path) -> bool:
    """Point one rendered page at the site's own copies; False when it had nothing to rewrite."""
    html = page.read_text(encoding="utf-8")
    up = os.path.relpath(site, page.parent).replace(os.sep, "/")

    def local(match: re.Match) -> str:
        tag, url = match.group(0), match.group(1)
        if url not in VENDORED:
            return tag
        return INTEGRITY.sub("", tag.replace(url, f"{up}/{SITE_VENDOR.as_posix()}/{VENDORED[url]}"))

    new = LOGO.sub(f"{up}/static/images/logo-long.png", TAG.sub(local, html))
    new = FAVICON.sub(f'href="{up}/static/images/favicon.ico"', new)
    if page == site / "index.html":
        new = RUN_NAME.sub(lambda m: f"'run_name': '{' '.join(m.groups())}'", new)
    if new == html:
        return False
    page.write_text(new, encoding="utf-8")
    return True


def localize(site: Path, pages: Iterable[Path]) -> int:
    """Install the vendored files into the site and rewrite `pages`; returns how many changed."""
    install(site)
    return sum(localize_page(page, site) for page in pages)
