"""MkDocs hook: pages other people have not written yet.

Pages listed under ``extra.optional_pages`` in ``mkdocs.yml`` appear in the navigation
once their file exists in ``docs/``. Until then they are left out of the navigation, and
links to them in other pages are rendered as plain text; both are logged (as INFO, so
``mkdocs build --strict`` still passes). Every other nav entry and link must resolve.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from typing import Any

log = logging.getLogger("mkdocs.hooks.optional_pages")

_missing: set[str] = set()
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s#]+\.md)(#[^)\s]*)?\)")


def on_config(config: Any) -> Any:
    optional = set(config.extra.get("optional_pages", []))
    docs_dir = Path(config.docs_dir)
    _missing.clear()
    _missing.update(page for page in optional if not (docs_dir / page).is_file())

    def keep(entry: Any) -> Any:
        if isinstance(entry, str):
            return None if entry in _missing else entry
        if isinstance(entry, dict):
            out = {title: kept for title, value in entry.items() if (kept := keep(value)) not in (None, [])}
            return out or None
        if isinstance(entry, list):
            return [kept for kept in (keep(e) for e in entry) if kept is not None]
        return entry

    if config.nav is not None:
        config.nav = keep(config.nav)
    if _missing:
        log.info("optional pages not written yet, left out of the navigation: %s", ", ".join(sorted(_missing)))
    return config


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if not _missing:
        return markdown
    here = posixpath.dirname(page.file.src_uri)

    def unlink(match: re.Match) -> str:
        target = posixpath.normpath(posixpath.join(here, match.group(2)))
        if target in _missing:
            log.info("%s: %s is not written yet; its link is plain text", page.file.src_uri, target)
            return match.group(1)
        return match.group(0)

    return _LINK.sub(unlink, markdown)
