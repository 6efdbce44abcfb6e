"""The event catalogue as text: docs/events.md and each producer's page under docs/events/."""

from __future__ import annotations

from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def catalogue_text() -> str:
    pages = [DOCS / "events.md", *sorted((DOCS / "events").glob("*.md"))]
    return "\n".join(page.read_text(encoding="utf-8") for page in pages)
