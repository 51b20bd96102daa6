"""``python -m treadle.web``: argument parsing and errors (the serving smoke test is below)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from treadle.server._cli import make_parser, parse_args


def _parse(argv: list[str]) -> tuple[object, list[str], object]:
    return parse_args(make_parser(), argv)


def test_entry_func_and_extra_arguments() -> None:
    args, extra, func = _parse(
        ["-H", "127.0.0.1", "-P", "9999", "--backend", "trio", "os.path:join", "--x", "y"]
    )
    import os.path

    assert func is os.path.join
    assert extra == ["--x", "y"]
    assert (args.hostname, args.port, args.path, args.backend) == (  # type: ignore[attr-defined]
        "127.0.0.1",
        9999,
        None,
        "trio",
    )


def test_defaults() -> None:
    args, extra, _ = _parse(["os.path:join"])
    assert (args.hostname, args.port, args.backend) == (None, 8080, "asyncio")  # type: ignore[attr-defined]
    assert extra == []


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["os.path"], "not in 'module:function' syntax"),
        ([":join"], "not in 'module:function' syntax"),
        ([".path:join"], "relative module names not supported"),
        (["no_such_module_xyz:f"], "unable to import no_such_module_xyz"),
        (["os.path:no_such_attr"], "module 'os.path' has no attribute 'no_such_attr'"),
        (["os:sep"], "os:sep is not callable"),
        (["--backend", "curio", "os.path:join"], "invalid choice: 'curio'"),
    ],
)
def test_errors_exit_with_2_and_say_why(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc_info:
        _parse(argv)
    assert exc_info.value.code == 2
    assert message in capsys.readouterr().err


def test_module_entry_point_prints_usage() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "treadle.web", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0
    assert "module:function" in result.stdout and "--backend" in result.stdout
