"""Generate src/warden_client/_sync_client.py from _async_client.py (run after editing the async client).

    python tools/unasync.py          # rewrite the sync client
    python tools/unasync.py --check  # exit 1 when the sync client is out of date
"""

from __future__ import annotations

import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1] / "src" / "warden_client"
REPLACEMENTS = [
    ('"""The async client. ``_sync_client.py`` is generated from this file by ``tools/unasync.py``: edit here."""',
     '"""The sync client. GENERATED from ``_async_client.py`` by ``tools/unasync.py``: do not edit."""'),
    ("import asyncio\n", "import time\n"),
    ("AsyncEnhancedAuthClient", "EnhancedAuthClient"),
    ("httpx.AsyncBaseTransport", "httpx.BaseTransport"),
    ("httpx.AsyncClient", "httpx.Client"),
    ("asyncio.sleep", "time.sleep"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    (".aclose()", ".close()"),
    ("async def ", "def "),
    ("await ", ""),
]


def generate() -> str:
    text = (ROOT / "_async_client.py").read_text()
    for old, new in REPLACEMENTS:
        text = text.replace(old, new)
    return text


def main() -> int:
    target = ROOT / "_sync_client.py"
    text = generate()
    if "--check" in sys.argv:
        if target.read_text() != text:
            print("_sync_client.py is out of date: run python tools/unasync.py", file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
