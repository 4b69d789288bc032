"""The frozen content of a signed result and its SHA-256 over a canonical serialization.

Canonical JSON: keys sorted, no whitespace, UTF-8 (``ensure_ascii=False``), no NaN, lists in a
fixed order (ratings by assignment and criterion, entries by category and rank). The hash
covers what the panel signs — the round, the method and its parameters, the input ratings,
the shortlist and the overrides — and not when or by whom it was signed (those are stored
beside it), so signing the same content twice gives the same hash.
"""
from __future__ import annotations

import hashlib
import json

#: The top-level fields of a snapshot; every one of them is covered by the hash.
FROZEN_FIELDS = ("round", "method", "params", "ratings", "entries", "overrides")


def canonical_json(content: dict) -> str:
    """The one serialization the hash is computed over."""
    missing = [name for name in FROZEN_FIELDS if name not in content]
    if missing:
        raise ValueError(f"snapshot lacks {', '.join(missing)}")
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def content_sha256(content: dict) -> str:
    """SHA-256 (hex) of the canonical JSON of ``content``."""
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def verify(text: str, expected: str) -> bool:
    """Whether stored canonical ``text`` still hashes to ``expected``."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest() == expected
