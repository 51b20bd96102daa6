"""``Response`` and ``json_response``: a response whose body is known up front.

Hot path: a ``Response`` with a ``bytes`` body (or none) goes out with a single
``writer.send_whole`` at ``prepare`` time -- head, body and end in one write -- with
``Content-Length``, ``Date`` and ``Server`` added to the wire head only. Other bodies
(files, async iterables... through ``treadle.message.get_payload``) are streamed by
``write_eof`` after a normal head.

``response_from_http_exception`` turns a raised or returned ``HTTPException`` (which
only carries the reply's data here, unlike aiohttp where it is a ``Response``) into a
``Response`` for the server to send.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final

from multidict import CIMultiDict

from ..backends import get_backend
from ..message import (
    BytesIOPayload,
    ContentEncoder,
    IOBasePayload,
    Payload,
    PayloadLookupError,
    get_payload,
)
from ._http_exception import HTTPException, LooseHeaders
from ._interfaces import ResponseWriter
from ._stream_response import ContentCoding, StreamResponse

if TYPE_CHECKING:
    from ._request import BaseRequest

__all__ = [
    "ContentCoding",
    "Response",
    "StreamResponse",
    "json_response",
    "response_from_http_exception",
]

_CONTENT_TYPE: Final = "Content-Type"
_CONTENT_LENGTH: Final = "Content-Length"
_sentinel: Any = object()

# ``Content-Type`` values of text bodies, by (content_type, charset): the same str object
# per response makes the header encoding cache hit by identity. Bounded.
_text_types: dict[tuple[str | None, str], str] = {}


def _text_type(content_type: str | None, charset: str) -> str:
    value = f"{content_type or 'text/plain'}; charset={charset}"
    if len(_text_types) >= 256:
        _text_types.clear()
    _text_types[(content_type, charset)] = value
    return value


class Response(StreamResponse):
    """A response with a ``body`` (bytes or any payload) or ``text``."""

    _body: bytes | bytearray | Payload | None = None
    _compressed_body: bytes | None = None
    _zlib_executor_size: int | None = None
    _zlib_executor: Any = None

    def __init__(
        self,
        *,
        body: Any = None,
        status: int = 200,
        reason: str | None = None,
        text: str | None = None,
        headers: LooseHeaders | None = None,
        content_type: str | None = None,
        charset: str | None = None,
        zlib_executor_size: int | None = None,
        zlib_executor: Any = None,
    ) -> None:
        if body is not None and text is not None:
            raise ValueError("body and text are not allowed together")
        if headers is None:
            real_headers: CIMultiDict[str] = CIMultiDict()
        elif isinstance(headers, CIMultiDict):
            real_headers = headers
        else:
            real_headers = CIMultiDict(headers)
        if content_type is not None and "charset" in content_type:
            raise ValueError("charset must not be in content_type argument")
        if headers is not None and _CONTENT_TYPE in real_headers:
            if content_type is not None or charset is not None:
                raise ValueError(
                    "passing both Content-Type header and content_type or charset params "
                    "is forbidden"
                )
        elif text is not None:
            if not isinstance(text, str):
                raise TypeError(f"text argument must be str ({type(text)!r})")
            if charset is None:
                charset = "utf-8"
            real_headers[_CONTENT_TYPE] = _text_types.get((content_type, charset)) or _text_type(
                content_type, charset
            )
            body = text.encode(charset)
            text = None
        elif content_type is not None:
            if charset is not None:
                content_type += "; charset=" + charset
            real_headers[_CONTENT_TYPE] = content_type
        self._headers = real_headers
        if status == 200 and reason is None:
            self._status = 200
            self._reason = "OK"
        else:
            self.set_status(status, reason)
        if zlib_executor_size is not None:
            self._zlib_executor_size = zlib_executor_size
        if zlib_executor is not None:
            self._zlib_executor = zlib_executor
        if text is not None:
            self.text = text
        elif body is None or type(body) is bytes:
            self._body = body
        else:
            self.body = body

    @property
    def body(self) -> bytes | bytearray | Payload | None:
        return self._body

    @body.setter
    def body(self, body: Any) -> None:
        self._compressed_body = None
        if body is None or isinstance(body, bytes | bytearray):
            self._body = body
            return
        try:
            payload = get_payload(body)
        except PayloadLookupError as exc:
            raise ValueError(f"Unsupported body type {type(body)!r}") from exc
        self._body = payload
        headers = self._headers
        if _CONTENT_TYPE not in headers:
            headers[_CONTENT_TYPE] = payload.content_type
        for name, value in payload.headers.items():
            if name not in headers:
                headers[name] = value

    @property
    def text(self) -> str | None:
        body = self._body
        if body is None:
            return None
        return body.decode(self.charset or "utf-8")

    @text.setter
    def text(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text argument must be str ({type(text)!r})")
        if self.content_type == "application/octet-stream":
            self.content_type = "text/plain"
        charset = self.charset
        if charset is None:
            charset = "utf-8"
            self.charset = charset
        self._body = text.encode(charset)
        self._compressed_body = None

    @property
    def content_length(self) -> int | None:
        if self._chunked:
            return None
        raw = self._headers.get(_CONTENT_LENGTH)
        if raw is not None:
            return int(raw)
        if self._compressed_body is not None:
            return len(self._compressed_body)
        body = self._body
        if isinstance(body, Payload):
            return body.size
        return 0 if body is None else len(body)

    @content_length.setter
    def content_length(self, value: int | None) -> None:
        raise RuntimeError("Content length is set automatically")

    # -- sending -----------------------------------------------------------------------

    def _apply_coding(self, coding: ContentCoding) -> None:
        if self._chunked or isinstance(self._body, Payload):
            super()._apply_coding(coding)  # streamed: compress chunk by chunk
            return
        self._headers["Content-Encoding"] = coding.value
        self._headers.popall(_CONTENT_LENGTH, None)
        self._compressed_body = b""  # marks "compress the whole body in _send_head"
        self._encoder = ContentEncoder(coding.value)

    async def _compress_body(self) -> None:
        encoder = self._encoder
        assert encoder is not None
        self._encoder = None
        raw = self._body
        body = bytes(raw) if isinstance(raw, bytes | bytearray) else b""

        def run() -> bytes:
            return encoder.compress(body) + encoder.flush()

        size = self._zlib_executor_size
        if size is not None and len(body) > size:
            self._compressed_body = await get_backend().run_in_thread(run)
        else:
            self._compressed_body = run()

    async def _send_head(self, writer: ResponseWriter, request: BaseRequest) -> None:
        body = self._body
        if type(body) is bytes and not (
            self._must_be_empty_body or self._chunked or self._compressed_body is not None
        ):
            # The usual case, first: a bytes body sent as is, in one write.
            self._eof_sent = True
            await writer.send_whole(self._status, self._reason, self._wire_headers(len(body)), body)
            self._body_length = writer.output_size
            return
        if self._compressed_body is not None and self._encoder is not None:
            await self._compress_body()
        no_length = self._must_be_empty_body and _no_length(request.method, self._status)
        if self._chunked or isinstance(body, Payload):
            if not self._chunked and not no_length and _CONTENT_LENGTH not in self._headers:
                size = body.size if isinstance(body, Payload) else len(body or b"")
                if size is not None:
                    self._headers[_CONTENT_LENGTH] = str(size)
            writer.send_head(self._status, self._reason, self._wire_headers())
            return
        # The fast path: head, body and end in one write.
        data = self._compressed_body if self._compressed_body is not None else body
        length: int | None = None
        if not self._must_be_empty_body:
            length = len(data) if data else 0
        elif data and not no_length:
            length = len(data)  # HEAD keeps the length of the body it omits
        if self._must_be_empty_body or not data:
            data = b""
        self._eof_sent = True
        status = self._status
        await writer.send_whole(
            status,
            self._reason,
            self._wire_headers(length),
            data if type(data) is bytes else bytes(data),
        )
        self._body_length = writer.output_size

    async def write_eof(self, data: bytes = b"") -> None:
        """End the response: stream a payload body, or send a chunked bytes body."""
        if self._eof_sent:
            return
        body = self._body
        if isinstance(body, Payload):
            if self._must_be_empty_body:
                if isinstance(body, IOBasePayload):
                    body.value.close()  # not sent (HEAD, 204, 304): do not leak the file
            else:
                if (
                    isinstance(body, IOBasePayload)
                    and not isinstance(body, BytesIOPayload)
                    and body.run_in_thread is None
                ):
                    body.run_in_thread = get_backend().run_in_thread
                await body.write(self)
            await super().write_eof(data)
        elif body:
            await super().write_eof(bytes(body) + bytes(data))
        else:
            await super().write_eof(data)


def _no_length(method: str, status: int) -> bool:
    return status in (204, 304) or status < 200 or (method == "CONNECT" and status < 300)


def json_response(
    data: Any = _sentinel,
    *,
    text: str | None = None,
    body: bytes | None = None,
    status: int = 200,
    reason: str | None = None,
    headers: LooseHeaders | None = None,
    content_type: str = "application/json",
    dumps: Callable[[Any], str] = json.dumps,
) -> Response:
    """A ``Response`` holding ``dumps(data)`` as ``application/json`` (UTF-8)."""
    if data is not _sentinel:
        if text is not None or body is not None:
            raise ValueError("only one of data, text, or body should be specified")
        text = dumps(data)
    return Response(
        text=text,
        body=body,
        status=status,
        reason=reason,
        headers=headers,
        content_type=content_type,
    )


def response_from_http_exception(exc: HTTPException) -> Response:
    """The ``Response`` a handler's raised or returned ``HTTPException`` stands for.

    The headers are copied: one exception instance may answer many requests.
    """
    return Response(
        status=exc.status,
        reason=exc.reason,
        headers=CIMultiDict(exc.headers),
        body=exc.body,
    )
