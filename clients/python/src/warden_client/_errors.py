"""Exceptions raised by the Warden clients.

No exception ever carries a secret: messages name the route *template* (``/api/sessions/{id}``), never the
path with its values, and request bodies are never attached.
"""

from __future__ import annotations

from typing import Any, Optional


class WardenError(Exception):
    """Base of every error raised by the client.

    ``status`` is the HTTP status (``None`` when no answer was obtained), ``code`` the envelope's ``code``,
    ``message`` the envelope's ``message``, ``error`` the envelope's ``error``, ``reason`` the envelope's
    machine-readable ``reason`` when it has one (``"user_not_key_backed"`` for a membership refused under strict
    users, else ``None``) and ``envelope`` the decoded answer (``None`` without one; also readable as ``payload``,
    the seed's name).

    ``status`` and ``payload`` may be given positionally, as with the seed's ``AuthRefused(message, status,
    payload=None)``, so code that raises the seed's exceptions itself (in tests, say) keeps working.
    """

    def __init__(
        self,
        message: str,
        status: Optional[int] = None,
        payload: Optional[dict[str, Any]] = None,
        *,
        code: Optional[int] = None,
        error: Optional[str] = None,
        envelope: Optional[dict[str, Any]] = None,
        route: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.error = error
        self.reason = reason
        self.envelope = envelope if envelope is not None else payload
        self.route = route

    @property
    def payload(self) -> Optional[dict[str, Any]]:
        """The decoded answer, under the name the seed's ``AuthRefused`` used."""
        return self.envelope

    def __str__(self) -> str:
        parts = []
        if self.route:
            parts.append(self.route)
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        parts.append(self.message)
        text = ": ".join([" ".join(parts[:-1]), parts[-1]]) if len(parts) > 1 else parts[0]
        if self.error:
            text = f"{text} ({self.error})"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, error={self.error!r}, reason={self.reason!r}, route={self.route!r})"
        )


class TransportError(WardenError):
    """No answer was obtained: connection refused, timeout, or retries exhausted on a connection error."""


class CircuitOpenError(TransportError):
    """The circuit breaker is open after repeated transport failures or 5xx answers; nothing was sent."""


class ApiError(WardenError):
    """Warden answered with a non-2xx status."""


class RefusedError(ApiError):
    """Warden answered 4xx: it refused the request (bad name, unknown role, wrong key, conflict, …)."""


class RateLimitedError(RefusedError):
    """429 after the retries (or for a call that is never retried)."""


class ServerError(ApiError):
    """Warden answered 5xx (503 after the retries, or an opaque 500)."""


class DecodeError(WardenError):
    """The answer was not the expected JSON envelope."""


# The seed's names, so ``except AuthTransportError`` / ``except AuthRefused`` keep working after the switch.
AuthTransportError = WardenError
AuthRefused = RefusedError

__all__ = [
    "ApiError",
    "AuthRefused",
    "AuthTransportError",
    "CircuitOpenError",
    "DecodeError",
    "RateLimitedError",
    "RefusedError",
    "ServerError",
    "TransportError",
    "WardenError",
]
