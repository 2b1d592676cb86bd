"""Python client of the Warden authorization service.

``from warden_client import EnhancedAuthClient`` replaces ``from auth.client import EnhancedAuthClient``:
same method names and arguments, and the same answers (the seed's envelope or ``{"result": …}``).
``WardenClient`` / ``AsyncWardenClient`` have the same methods answering with Warden's envelope ``data``.
"""

from ._async_client import AsyncWardenClient
from ._async_seed import AsyncEnhancedAuthClient
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
from ._sync_client import WardenClient
from ._sync_seed import EnhancedAuthClient
from ._workflow import AsyncWorkflowWatcher, WorkflowWatcher, watch_workflow, watch_workflow_async


class Client(EnhancedAuthClient):
    """The seed's legacy alias of :class:`EnhancedAuthClient`."""


AsyncClient = AsyncEnhancedAuthClient

__version__ = "0.1.0"

__all__ = [
    "ApiError",
    "AsyncClient",
    "AsyncEnhancedAuthClient",
    "AsyncWardenClient",
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
    "WardenClient",
    "WardenError",
    "WorkflowWatcher",
    "watch_workflow",
    "watch_workflow_async",
]
