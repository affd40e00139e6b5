"""docs/errors.md names only tests that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_the_error_catalogue_names_exists():
    text = (ROOT / "docs" / "errors.md").read_text()
    cited = set(re.findall(r"`(tests/[\w/]+\.py)::(test_\w+)`", text))
    assert len(cited) > 50
    missing = [
        f"{path}::{name}"
        for path, name in sorted(cited)
        if not (ROOT / path).is_file() or not re.search(rf"^def {name}\(", (ROOT / path).read_text(), re.M)
    ]
    assert missing == []
