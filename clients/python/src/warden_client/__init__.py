"""Python client of the Warden authorization service.

``from warden_client import EnhancedAuthClient`` replaces ``from auth.client import EnhancedAuthClient``:
same method names and arguments; answers are the values of Warden's envelope ``data``.
"""

from ._async_client import AsyncEnhancedAuthClient
from ._core import CircuitBreaker, RetryPolicy
from ._errors import (
    ApiError,
    AuthRefused,
    AuthTransportError,
    CircuitOpenError,
    DecodeError,
    RateLimitedError,
    RefusedError,
    ServerError,
    TransportError,
    WardenError,
)
from ._sync_client import EnhancedAuthClient
from ._workflow import AsyncWorkflowWatcher, WorkflowWatcher, watch_workflow, watch_workflow_async


class Client(EnhancedAuthClient):
    """The seed's legacy alias of :class:`EnhancedAuthClient`."""


AsyncClient = AsyncEnhancedAuthClient

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AsyncClient",
    "AsyncEnhancedAuthClient",
    "AsyncWorkflowWatcher",
    "AuthRefused",
    "AuthTransportError",
    "CircuitBreaker",
    "CircuitOpenError",
    "Client",
    "DecodeError",
    "EnhancedAuthClient",
    "RateLimitedError",
    "RefusedError",
    "RetryPolicy",
    "ServerError",
    "TransportError",
    "WardenError",
    "WorkflowWatcher",
    "watch_workflow",
    "watch_workflow_async",
]
