"""Provides generated names and hashes from the apiserver's alphabet (``bcdfghjklmnpqrstvwxz2456789``)."""

from __future__ import annotations

import json
import random

ALPHANUMS = "bcdfghjklmnpqrstvwxz2456789"
MAX_GENERATED_BASE = 58  # 63 - 5 random characters


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(ALPHANUMS) for _ in range(length))


def generate_name(prefix: str | None) -> str:
    """``generateName`` as the apiserver does it: base truncated to 58 chars + 5 random chars."""
    base = (prefix or "")[:MAX_GENERATED_BASE]
    return base + random_suffix()


def safe_encode(text: str) -> str:
    """apimachinery ``rand.SafeEncodeString``."""
    return "".join(ALPHANUMS[ord(ch) % len(ALPHANUMS)] for ch in text)


def fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for byte in data:
        h ^= byte
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def pod_template_hash(template: dict, collision_count: int | None = None) -> str:
    """A stable pod-template-hash: FNV-32a of the canonical template, as decimal, safe-encoded.

    The real controller hashes Go's dump of the template, which cannot be reproduced bit for bit;
    this keeps the real alphabet (``[4-9bcdf]``) and length and is deterministic.
    """
    data = json.dumps(template, sort_keys=True, separators=(",", ":")).encode()
    if collision_count:
        data += collision_count.to_bytes(8, "little")
    return safe_encode(str(fnv32a(data)))
