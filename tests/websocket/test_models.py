"""WSMsgType, WSCloseCode and WSMessage carry aiohttp's names and values."""

from __future__ import annotations

import aiohttp
import pytest

from treadle.websocket import WebSocketError, WSCloseCode, WSMessage, WSMsgType


def test_message_types_match_aiohttp() -> None:
    for member in aiohttp.WSMsgType:
        assert WSMsgType[member.name] == member.value
    assert WSMsgType.text is WSMsgType.TEXT and WSMsgType.closed is WSMsgType.CLOSED


def test_close_codes_match_aiohttp() -> None:
    for member in aiohttp.WSCloseCode:
        assert WSCloseCode[member.name] == member.value


def test_message_json_and_shape() -> None:
    msg = WSMessage(WSMsgType.TEXT, '{"a": 1}', None)
    assert msg.json() == {"a": 1}
    assert msg.json(loads=lambda s: s.upper()) == '{"A": 1}'
    kind, data, extra = msg
    assert (kind, data, extra) == (WSMsgType.TEXT, '{"a": 1}', None)
    with pytest.raises(ValueError):
        WSMessage(WSMsgType.TEXT, "not json", None).json()


def test_websocket_error() -> None:
    error = WebSocketError(1009, "too big")
    assert error.code == 1009 and str(error) == "too big"
