"""Shared, I/O-free machinery of the sync and async clients: paths, retry policy, circuit breaker, decoding."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Mapping, Optional, Union
from urllib.parse import quote

import httpx

from ._errors import (
    ApiError,
    CircuitOpenError,
    DecodeError,
    RateLimitedError,
    RefusedError,
    ServerError,
    WardenError,
)

JSON = dict[str, Any]

#: Methods retried by default. POSTs are retried only when the call is marked idempotent (pure reads such as
#: checks and validations, and RBAC upserts whose repetition answers ``created: false``).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})
#: Statuses that are retried (for idempotent calls), honouring ``Retry-After``.
RETRY_STATUSES = frozenset({429, 503})


def segment(value: str) -> str:
    """Percent-encode one path segment (``alice@example.com``, ``docs:read`` and ``a/b`` are safe)."""
    if not isinstance(value, str) or value == "":
        raise ValueError("path values must be non-empty strings")
    return quote(value, safe="")


def path(template: str, *values: str) -> str:
    """Fill ``{…}`` placeholders of a route template in order, each value percent-encoded."""
    out = template
    for value in values:
        start = out.index("{")
        end = out.index("}", start)
        out = out[:start] + segment(value) + out[end + 1 :]
    return out


def iso(value: Union[str, datetime]) -> str:
    """An RFC 3339 UTC string for a datetime (naive values are taken as UTC); strings pass through."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return value


def drop_none(body: Mapping[str, Any]) -> JSON:
    return {k: v for k, v in body.items() if v is not None}


def scoped(resource: Optional[str], params: Optional[Mapping[str, str]] = None) -> Optional[dict[str, str]]:
    """``params`` plus ``resource=`` (a ``"type:id"`` reference) when a resource is given; ``None`` when empty."""
    query = dict(params or {})
    if resource is not None:
        if not isinstance(resource, str) or resource == "":
            raise ValueError("resource must be a non-empty \"type:id\" string")
        query["resource"] = resource
    return query or None


@dataclass
class RetryPolicy:
    """How idempotent calls are retried.

    ``max_retries`` further attempts after the first (so at most ``max_retries + 1`` sends), on connection
    errors, 429 and 503 only. The wait is ``Retry-After`` (seconds) when the answer has one, otherwise
    exponential backoff ``backoff_factor * 2**n`` with jitter; either is capped at ``max_backoff``.
    """

    max_retries: int = 3
    backoff_factor: float = 0.2
    max_backoff: float = 10.0

    def delay(self, attempt: int, response: Optional[httpx.Response]) -> float:
        if response is not None:
            after = parse_retry_after(response.headers.get("Retry-After"))
            if after is not None:
                return min(after, self.max_backoff)
        base = self.backoff_factor * (2.0**attempt)
        return min(base + random.uniform(0, self.backoff_factor), self.max_backoff)


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None  # HTTP dates are not sent by Warden; fall back to backoff
    return max(seconds, 0.0)


@dataclass
class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures (no answer, or 5xx after the retries) and
    refuses calls for ``recovery_timeout`` seconds; then lets one call through (half-open).

    A 4xx is an answer: it counts as a success and never opens the circuit.
    """

    failure_threshold: int = 5
    recovery_timeout: float = 30.0
    _failures: int = 0
    _opened_at: Optional[float] = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def before(self, route: str) -> None:
        with self._lock:
            if self._opened_at is None:
                return
            if time.monotonic() - self._opened_at >= self.recovery_timeout:
                self._opened_at = None  # half-open: one failure re-opens it
                self._failures = self.failure_threshold - 1
                return
        raise CircuitOpenError("circuit breaker is open: Warden failed repeatedly", route=route)

    def success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.failure_threshold:
                self._opened_at = time.monotonic()

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None


class Revisions:
    """The highest RBAC revision this client has seen (when tracking) and the floor sent as ``min_revision``."""

    def __init__(self, floor: Optional[int] = None, track: bool = False) -> None:
        self.floor = floor
        self.track = track
        self._lock = threading.Lock()

    def saw(self, data: Any) -> None:
        if not self.track or not isinstance(data, dict):
            return
        revision = data.get("revision")
        if isinstance(revision, int) and not isinstance(revision, bool):
            with self._lock:
                if self.floor is None or revision > self.floor:
                    self.floor = revision

    def params(self) -> dict[str, str]:
        return {} if self.floor is None else {"min_revision": str(self.floor)}


def decode(response: httpx.Response, route: str) -> JSON:
    """The envelope of a 2xx answer, or the typed exception of any other."""
    try:
        body = response.json()
    except ValueError:
        body = None
    envelope = body if isinstance(body, dict) else None
    status = response.status_code
    if 200 <= status < 300:
        if envelope is None:
            raise DecodeError("answer is not a JSON object", status=status, route=route)
        return envelope
    message = str(envelope.get("message", "")) if envelope else ""
    error = envelope.get("error") if envelope else None
    code = envelope.get("code") if envelope else None
    reason = envelope.get("reason") if envelope else None
    kwargs: dict[str, Any] = dict(
        status=status,
        code=code if isinstance(code, int) else status,
        error=error if isinstance(error, str) or error is None else str(error),
        envelope=envelope,
        route=route,
        reason=reason if isinstance(reason, str) and reason else None,
    )
    text = message or response.reason_phrase or f"HTTP {status}"
    if status == 429:
        raise RateLimitedError(text, **kwargs)
    if 400 <= status < 500:
        raise RefusedError(text, **kwargs)
    if status >= 500:
        raise ServerError(text, **kwargs)
    raise ApiError(text, **kwargs)


def data_of(envelope: JSON) -> Any:
    return envelope.get("data")


def expect_dict(value: Any, route: str) -> JSON:
    if not isinstance(value, dict):
        raise DecodeError("expected an object in `data`", route=route)
    return value


def expect_list(value: Any, route: str) -> list[Any]:
    if isinstance(value, dict):
        # the seed's listing shapes ({"count", "keys"|"members"|…}) as well as Warden's arrays
        for key in ("items", "keys", "members", "roles", "permissions", "entries", "users"):
            if isinstance(value.get(key), list):
                return list(value[key])
    if not isinstance(value, list):
        raise DecodeError("expected an array in `data`", route=route)
    return value


def flag(value: Any, key: str, route: str) -> bool:
    if isinstance(value, dict) and isinstance(value.get(key), bool):
        return bool(value[key])
    raise DecodeError(f"expected `data.{key}` to be a boolean", route=route)


def next_cursor(envelope: JSON) -> Optional[str]:
    cursor = envelope.get("next_cursor")
    if cursor is None and isinstance(envelope.get("data"), dict):
        cursor = envelope["data"].get("next_cursor")
    return cursor if isinstance(cursor, str) and cursor else None


def is_retryable_status(status: int) -> bool:
    return status in RETRY_STATUSES


__all__ = ["WardenError"]
