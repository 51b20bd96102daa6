"""treadle: aiohttp's programming model on a sans-IO core, for asyncio, uvloop and trio.

This is the ``aiohttp``-shaped namespace (``import treadle as aiohttp``). It re-exports
what exists of the client layer and the message building blocks both sides share;
``ClientSession`` and the rest of the client come with the client issue.
"""

from __future__ import annotations

from .client import (
    AbstractCookieJar,
    ClientHandlerType,
    ClientMiddlewareType,
    ClientRequest,
    ClientResponse,
    ClientSession,
    ContentDisposition,
    CookieJar,
    DummyCookieJar,
    HttpVersion,
    HttpVersion10,
    HttpVersion11,
    request,
)
from .message import (
    EMPTY_PAYLOAD,
    AsyncIterablePayload,
    BodyPartReader,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    FormData,
    IOBasePayload,
    JsonPayload,
    MultipartReader,
    MultipartWriter,
    Payload,
    StreamReader,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    content_disposition_filename,
    get_payload,
    parse_content_disposition,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "EMPTY_PAYLOAD",
    "AbstractCookieJar",
    "AsyncIterablePayload",
    "ClientHandlerType",
    "ClientMiddlewareType",
    "ClientRequest",
    "ClientResponse",
    "ClientSession",
    "ContentDisposition",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    "request",
    "BodyPartReader",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "CookieJar",
    "DummyCookieJar",
    "FormData",
    "IOBasePayload",
    "JsonPayload",
    "MultipartReader",
    "MultipartWriter",
    "Payload",
    "StreamReader",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "__version__",
    "content_disposition_filename",
    "get_payload",
    "parse_content_disposition",
]
