"""What the client and server both handle: bodies, payloads, multipart, compression.

client/ and server/ never import each other (DESIGN.md); the pieces of an HTTP message
that both sides read or write live here. Nothing in this package imports an async
library: payloads write into a :class:`PayloadWriter` and multipart bodies are read from
a :class:`BodyStream`, two small protocols the backends' streams satisfy.
"""

from __future__ import annotations

from ._compression import (
    DEFAULT_MAX_DECOMPRESSED_SIZE,
    HAS_BROTLI,
    HAS_ZSTD,
    ContentDecoder,
    ContentEncoder,
    accepted_encodings,
    compress,
    decompress,
    supported_encodings,
)
from ._errors import (
    DecompressionError,
    DecompressionSizeError,
    MessageBodyError,
    MultipartError,
    MultipartLimitError,
    UnsupportedEncodingError,
)
from ._formdata import FormData
from ._mime import (
    BadContentDispositionHeader,
    BadContentDispositionParam,
    MimeType,
    content_disposition_filename,
    content_disposition_header,
    parse_content_disposition,
    parse_mimetype,
)
from ._multipart import BodyPartReader, MultipartReader, MultipartWriter
from ._payload import (
    PAYLOAD_REGISTRY,
    AsyncIterablePayload,
    BufferedReaderPayload,
    BytesIOPayload,
    BytesPayload,
    IOBasePayload,
    JsonPayload,
    Order,
    Payload,
    PayloadLookupError,
    PayloadRegistry,
    RunInThread,
    StreamReaderPayload,
    StringIOPayload,
    StringPayload,
    TextIOPayload,
    get_payload,
    payload_type,
    register_payload,
)
from ._protocols import BodyStream, PayloadWriter
from ._streams import EMPTY_PAYLOAD, EofStream, IncompleteReadError, StreamReader
from ._values import ChainMapProxy, ETag, HttpVersion, HttpVersion10, HttpVersion11

__all__ = [
    # values both sides expose
    "ChainMapProxy",
    "ETag",
    "HttpVersion",
    "HttpVersion10",
    "HttpVersion11",
    # compression
    "DEFAULT_MAX_DECOMPRESSED_SIZE",
    "HAS_BROTLI",
    "HAS_ZSTD",
    "ContentDecoder",
    "ContentEncoder",
    "accepted_encodings",
    "compress",
    "decompress",
    "supported_encodings",
    # errors
    "DecompressionError",
    "DecompressionSizeError",
    "MessageBodyError",
    "MultipartError",
    "MultipartLimitError",
    "UnsupportedEncodingError",
    # forms and multipart
    "FormData",
    "BodyPartReader",
    "MultipartReader",
    "MultipartWriter",
    "BadContentDispositionHeader",
    "BadContentDispositionParam",
    "MimeType",
    "content_disposition_filename",
    "content_disposition_header",
    "parse_content_disposition",
    "parse_mimetype",
    # payloads
    "PAYLOAD_REGISTRY",
    "AsyncIterablePayload",
    "BufferedReaderPayload",
    "BytesIOPayload",
    "BytesPayload",
    "IOBasePayload",
    "JsonPayload",
    "Order",
    "Payload",
    "PayloadLookupError",
    "PayloadRegistry",
    "RunInThread",
    "StreamReaderPayload",
    "StringIOPayload",
    "StringPayload",
    "TextIOPayload",
    "get_payload",
    "payload_type",
    "register_payload",
    # interfaces
    "BodyStream",
    "PayloadWriter",
    # body streams
    "EMPTY_PAYLOAD",
    "EofStream",
    "IncompleteReadError",
    "StreamReader",
]
