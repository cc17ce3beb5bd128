"""What is hashed, byte for byte (docs/ledger.md repeats it for verification by hand).

Chain link::

    hash = SM3(bytes.fromhex(prev_hash) + canonical_bytes(event))      # genesis prev_hash = "0" * 64

    canonical_bytes(event) = UTF-8 of compact JSON, keys sorted, ensure_ascii=False, of
      {"action", "actor_id", "application_id", "created_at", "data", "from_status", "id",
       "on_behalf_of_id", "reason", "to_status"}
    created_at: UTC, ISO 8601 with microseconds ("2026-11-23T13:01:20.123456+00:00");
    data: the JSON document as stored (keys as strings; floats without a fraction as integers, so
          a value reads back the same from PostgreSQL jsonb and SQLite).

Merkle tree (RFC 9162 shape, SM3, domain separated)::

    leaf  = SM3(0x00 + b"<application_id>:<seq>:<head_hash>")
    node  = SM3(0x01 + left + right)
    root  = SM3(0x02 + number (8 bytes, big endian) + leaf_count (8 bytes) + prev_root + tree_root)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def sm3(data: bytes) -> bytes:
    """SM3 (GB/T 32905-2016) through OpenSSL."""
    return hashlib.new("sm3", data).digest()


def _normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _normalise(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def canonical_data(data: Any) -> Any:
    """The JSON document as the database gives it back (string keys, lists), then normalised."""
    return _normalise(json.loads(json.dumps(data if data is not None else {})))


def canonical_time(value: dt.datetime) -> str:
    if value.tzinfo is None:  # USE_TZ is on; a naive value would be a bug, hash it as UTC
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def canonical_fields(event) -> dict[str, Any]:
    return {
        "id": event.pk,
        "application_id": event.application_id,
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "actor_id": event.actor_id,
        "on_behalf_of_id": event.on_behalf_of_id,
        "reason": event.reason,
        "data": canonical_data(event.data),
        "created_at": canonical_time(event.created_at),
    }


def canonical_bytes(event) -> bytes:
    """The bytes of one CaseEvent that its chain link commits to (works on historical models too)."""
    return json.dumps(
        canonical_fields(event), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def link_hash(prev_hash: str, event) -> str:
    return sm3(bytes.fromhex(prev_hash) + canonical_bytes(event)).hex()
