"""The HTML listing ``add_static(..., show_index=True)`` answers a directory with.

Names come from the file system, which an attacker may control (an upload directory):
every name is HTML-escaped in the text and percent-encoded in the link, so a file named
``<script>...`` is shown, never run. The directory is read in a worker thread.
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

from ..backends import get_backend
from ._response import Response

__all__ = ["directory_index"]

MAX_ENTRIES = 10_000


def _entries(directory: Path) -> list[tuple[str, bool]]:
    entries: list[tuple[str, bool]] = []
    with os.scandir(directory) as scan:
        for entry in scan:
            try:
                is_dir = entry.is_dir()
            except OSError:
                is_dir = False
            entries.append((entry.name, is_dir))
            if len(entries) >= MAX_ENTRIES:
                break
    entries.sort()
    return entries


async def directory_index(request: Any, directory: Path) -> Response:
    """``Index of /prefix/sub``: one link per entry, directories with a trailing slash."""
    resource = request.match_info.route.resource
    root: Path = resource.directory
    relative = directory.relative_to(root).as_posix()
    relative = "" if relative == "." else relative
    entries = await get_backend().run_in_thread(_entries, directory)
    base = f"{relative}/" if relative else ""
    items = []
    for name, is_dir in entries:
        url = resource.url_for(filename=base + name)
        label = name + ("/" if is_dir else "")
        href = str(url) + ("/" if is_dir else "")
        items.append(f'<li><a href="{html.escape(href)}">{html.escape(label)}</a></li>')
    title = html.escape(f"Index of /{relative}")
    page = (
        f"<html>\n<head>\n<title>{title}</title>\n</head>\n<body>\n<h1>{title}</h1>\n"
        "<ul>\n" + "\n".join(items) + "\n</ul>\n</body>\n</html>"
    )
    return Response(text=page, content_type="text/html")
