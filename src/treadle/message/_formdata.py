"""HTML form bodies: urlencoded when every field is plain text, else multipart/form-data.

Follows aiohttp's ``FormData``: file objects, a ``filename``, a ``content_type`` or a
``content_transfer_encoding`` make the form multipart (RFC 7578); otherwise it is sent
as ``application/x-www-form-urlencoded`` (the WHATWG URL standard's serializer).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from ._multipart import MultipartWriter
from ._payload import BytesPayload, Payload, get_payload, guess_filename

__all__ = ["FormData"]


class FormData:
    """Fields for a form body; call the instance to get the :class:`Payload` to send.

    ``fields`` may be a mapping, a sequence of ``(name, value)`` pairs, a multidict or
    file objects. ``charset`` encodes text fields (UTF-8 by default);
    ``default_to_multipart`` forces multipart/form-data even for plain fields.
    """

    def __init__(
        self,
        fields: Any = (),
        quote_fields: bool = True,
        charset: str | None = None,
        boundary: str | None = None,
        *,
        default_to_multipart: bool = False,
    ) -> None:
        self._boundary = boundary
        self._fields: list[tuple[dict[str, str], dict[str, str], Any]] = []
        self._is_multipart = default_to_multipart
        self._is_processed = False
        self._quote_fields = quote_fields
        self._charset = charset
        if isinstance(fields, Mapping):
            fields = list(fields.items())
        elif not isinstance(fields, list | tuple):
            fields = (fields,)
        self.add_fields(*fields)

    @property
    def is_multipart(self) -> bool:
        return self._is_multipart

    def add_field(
        self,
        name: str,
        value: Any,
        *,
        content_type: str | None = None,
        filename: str | None = None,
        content_transfer_encoding: str | None = None,
    ) -> None:
        """Add one field; files, filenames and explicit headers make the form multipart.

        As in aiohttp 3.x, a bytes value without a filename is sent as a file part whose
        filename is the field name.
        """
        if not isinstance(name, str):
            raise TypeError(f"field name must be str, got {type(name).__name__}")
        if filename is not None and not isinstance(filename, str):
            raise TypeError(f"filename must be str, got {type(filename).__name__}")
        if isinstance(value, io.IOBase):
            self._is_multipart = True
            if filename is None:
                filename = guess_filename(value, name)
        elif isinstance(value, bytes | bytearray | memoryview) and (
            filename is None and content_transfer_encoding is None
        ):
            filename = name
        params = {"name": name}
        if filename is not None:
            params["filename"] = filename
            self._is_multipart = True
        headers: dict[str, str] = {}
        if content_type is not None:
            if not isinstance(content_type, str):
                raise TypeError(f"content_type must be str, got {type(content_type).__name__}")
            headers["Content-Type"] = content_type
            self._is_multipart = True
        if content_transfer_encoding is not None:
            if not isinstance(content_transfer_encoding, str):
                raise TypeError("content_transfer_encoding must be str")
            headers["Content-Transfer-Encoding"] = content_transfer_encoding
            self._is_multipart = True
        self._fields.append((params, headers, value))

    def add_fields(self, *fields: Any) -> None:
        """Add file objects, mappings, multidicts and ``(name, value)`` pairs."""
        pending = list(fields)
        while pending:
            item = pending.pop(0)
            if isinstance(item, io.IOBase):
                self.add_field(guess_filename(item, "unknown") or "unknown", item)
            elif isinstance(item, Mapping):  # multidicts included
                pending.extend(item.items())
            elif isinstance(item, list | tuple) and len(item) == 2:
                self.add_field(item[0], item[1])
            else:
                raise TypeError(
                    "Only io.IOBase, multidict and (name, file) pairs allowed, use "
                    f".add_field() for passing more complex parameters, got {item!r}"
                )

    def _gen_form_urlencoded(self) -> Payload:
        data: list[tuple[str, Any]] = [(params["name"], value) for params, _, value in self._fields]
        charset = self._charset if self._charset is not None else "utf-8"
        content_type = "application/x-www-form-urlencoded"
        if charset != "utf-8":
            content_type += f"; charset={charset}"
        body = urlencode(data, doseq=True, encoding=charset).encode("ascii")
        return BytesPayload(body, content_type=content_type)

    def _gen_form_data(self) -> Payload:
        if self._is_processed:
            raise RuntimeError("Form data has been processed already")
        writer = MultipartWriter("form-data", boundary=self._boundary)
        for params, headers, value in self._fields:
            try:
                part = get_payload(
                    value,
                    headers=headers,
                    content_type=headers.get("Content-Type"),
                    encoding=self._charset,
                )
            except Exception as exc:
                raise TypeError(
                    f"Can not serialize value type: {type(value)!r}\n "
                    f"headers: {headers!r}\n value: {value!r}"
                ) from exc
            part.set_content_disposition("form-data", quote_fields=self._quote_fields, **params)
            writer.append_payload(part)
        self._is_processed = True
        return writer

    def __call__(self) -> Payload:
        """The body: a MultipartWriter for multipart forms, else a urlencoded BytesPayload."""
        if self._is_multipart:
            return self._gen_form_data()
        return self._gen_form_urlencoded()
