"""Generate the sync clients from the async ones (run after editing an ``_async_*.py`` file).

    python tools/unasync.py          # rewrite _sync_client.py and _sync_seed.py
    python tools/unasync.py --check  # exit 1 when either is out of date

``_async_client.py`` (Warden's client) gives ``_sync_client.py``; ``_async_seed.py`` (the seed-compatible
client) gives ``_sync_seed.py``.
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "warden_client"
FILES = {"_async_client.py": "_sync_client.py", "_async_seed.py": "_sync_seed.py"}
REPLACEMENTS = [
    ('"""The async client. ``_sync_client.py`` is generated from this file by ``tools/unasync.py``: edit here."""',
     '"""The sync client. GENERATED from ``_async_client.py`` by ``tools/unasync.py``: do not edit."""'),
    ('"""The async seed-compatible client. ``_sync_seed.py`` is generated from this file by ``tools/unasync.py``: '
     'edit here."""',
     '"""The sync seed-compatible client. GENERATED from ``_async_seed.py`` by ``tools/unasync.py``: do not edit."""'),
    ("from ._async_client import", "from ._sync_client import"),
    ("import asyncio\n", "import time\n"),
    ("AsyncEnhancedAuthClient", "EnhancedAuthClient"),
    ("AsyncWardenClient", "WardenClient"),
    ("_AsyncBase", "_Base"),
    ("httpx.AsyncBaseTransport", "httpx.BaseTransport"),
    ("httpx.AsyncClient", "httpx.Client"),
    ("asyncio.sleep", "time.sleep"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    (".aclose()", ".close()"),
    ("async def ", "def "),
    ("await ", ""),
]


def generate(source: str) -> str:
    text = (ROOT / source).read_text()
    for old, new in REPLACEMENTS:
        text = text.replace(old, new)
    return text


def main() -> int:
    stale = False
    for source, target in FILES.items():
        text = generate(source)
        path = ROOT / target
        if "--check" in sys.argv:
            if not path.exists() or path.read_text() != text:
                print(f"{target} is out of date: run python tools/unasync.py", file=sys.stderr)
                stale = True
        else:
            path.write_text(text)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
