"""Static files: map a request path under a prefix to a file inside one directory.

Only the *resolution* lives here; reading and sending the file (``FileResponse``,
Range, conditional requests) and rendering directory listings are done by a
``responder``: ``_file_response.static_responder`` unless another one is given.
Resolution refuses anything that could leave the root: absolute paths and drive
letters (403), ``..`` segments, backslashes, NUL bytes, and, unless
``follow_symlinks``, symlinks whose target is outside the root (404). Percent-encoded
forms (``%2e%2e``, ``%2f``, ``%5c``, ``%00``) are decoded before these checks, so they
are refused the same way.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath
from typing import Any

from yarl import URL

from ._abc import ExpectHandler
from ._exceptions import HTTPForbidden, HTTPNotFound
from ._file_response import static_responder
from ._hdrs import METH_GET, METH_HEAD, METH_OPTIONS
from ._matchinfo import AbstractRoute, ResourceRoute, UrlMappingMatchInfo
from ._quoting import decode_value, quote
from ._resources import NO_METHODS, PrefixResource, Resolved

PathLike = str | os.PathLike[str]


@dataclass(frozen=True, slots=True)
class StaticTarget:
    """Where a static request leads: a regular file, or a directory to list."""

    path: Path
    is_dir: bool


StaticResponder = Callable[[Any, StaticTarget], Awaitable[Any]]
"""``async (request, target) -> response``, supplied by the server layer."""


class StaticResource(PrefixResource):
    """GET and HEAD for the files under ``directory``, mounted at ``prefix``."""

    VERSION_KEY = "v"

    def __init__(
        self,
        prefix: str,
        directory: PathLike,
        *,
        name: str | None = None,
        expect_handler: ExpectHandler | None = None,
        chunk_size: int = 256 * 1024,
        show_index: bool = False,
        follow_symlinks: bool = False,
        append_version: bool = False,
        responder: StaticResponder | None = None,
    ) -> None:
        super().__init__(prefix, name=name)
        try:
            root = Path(directory).expanduser().resolve()
            if not root.is_dir():
                raise ValueError("Not a directory")
        except (OSError, ValueError, RuntimeError) as error:
            raise ValueError(f"No directory exists at '{directory}'") from error
        self._directory = root
        self._show_index = show_index
        self._chunk_size = chunk_size
        self._follow_symlinks = follow_symlinks
        self._append_version = append_version
        self._expect_handler = expect_handler
        self._responder = responder
        self._routes = {
            method: ResourceRoute(method, self._handle, self, expect_handler=expect_handler)
            for method in (METH_GET, METH_HEAD)
        }

    @property
    def directory(self) -> Path:
        return self._directory

    @property
    def show_index(self) -> bool:
        return self._show_index

    @property
    def follow_symlinks(self) -> bool:
        return self._follow_symlinks

    @property
    def chunk_size(self) -> int:
        return self._chunk_size

    def set_options_route(self, handler: Any) -> None:
        if METH_OPTIONS in self._routes:
            raise RuntimeError("OPTIONS route was set already")
        self._routes[METH_OPTIONS] = ResourceRoute(
            METH_OPTIONS, handler, self, expect_handler=self._expect_handler
        )

    def resolve(self, method: str, path: str, host: str | None = None) -> Resolved:
        if not self._under(path):
            return None, NO_METHODS
        route = self._routes.get(method)
        if route is None:
            return None, set(self._routes)
        filename = decode_value(path[len(self._match_below) :])
        return UrlMappingMatchInfo({"filename": filename}, route), NO_METHODS

    def locate(self, filename: str) -> StaticTarget:
        """The file (or listable directory) ``filename`` names, or the HTTP refusal.

        ``filename`` is the decoded ``match_info["filename"]``.
        """
        if filename.startswith("/") or PureWindowsPath(filename).anchor:
            raise HTTPForbidden()  # absolute, UNC or drive path: never under the root
        if "\x00" in filename or "\\" in filename:
            raise HTTPNotFound()
        if ".." in filename.split("/"):
            raise HTTPNotFound()
        unresolved = self._directory.joinpath(filename)
        try:
            if self._follow_symlinks:
                # Lexically inside the root; links may then point anywhere.
                normalized = Path(os.path.normpath(unresolved))
                normalized.relative_to(self._directory)
                filepath = normalized.resolve()
            else:
                filepath = unresolved.resolve()
                filepath.relative_to(self._directory)
        except (ValueError, OSError, RuntimeError) as error:  # RuntimeError: symlink loop
            raise HTTPNotFound() from error
        try:
            if filepath.is_dir():
                if self._show_index:
                    return StaticTarget(filepath, is_dir=True)
                raise HTTPForbidden()
            if filepath.is_file():
                return StaticTarget(filepath, is_dir=False)
        except PermissionError as error:
            raise HTTPForbidden() from error
        raise HTTPNotFound()

    async def _handle(self, request: Any) -> Any:
        target = self.locate(request.match_info["filename"])
        responder = self._responder or static_responder
        return await responder(request, target)

    def url_for(  # type: ignore[override]
        self, *, filename: str | Path, append_version: bool | None = None
    ) -> URL:
        """The URL of ``filename``, with ``?v=<sha256>`` if ``append_version`` (cache busting)."""
        if append_version is None:
            append_version = self._append_version
        name = str(filename).lstrip("/")
        url = URL.build(path=f"{self._prefix}/{quote(name, safe_slash=True)}", encoded=True)
        if append_version:
            digest = self._file_hash(name)
            if digest is not None:
                url = url.with_query({self.VERSION_KEY: digest})
        return url

    def _file_hash(self, name: str) -> str | None:
        try:
            target = self.locate(name)
        except (HTTPForbidden, HTTPNotFound):
            return None
        if target.is_dir:
            return None
        digest = hashlib.sha256()
        with target.path.open("rb") as file:
            for block in iter(lambda: file.read(self._chunk_size), b""):
                digest.update(block)
        return base64.urlsafe_b64encode(digest.digest()).decode("ascii")

    def get_info(self) -> dict[str, Any]:
        return {"directory": self._directory, "prefix": self._prefix, "routes": self._routes}

    def __len__(self) -> int:
        return len(self._routes)

    def __iter__(self) -> Iterator[AbstractRoute]:
        return iter(self._routes.values())

    def __repr__(self) -> str:
        name = f"'{self.name}'" if self.name is not None else ""
        return f"<StaticResource {name} {self._prefix} -> {self._directory!r}>"


__all__ = ["StaticResource", "StaticResponder", "StaticTarget"]
