"""``python -m treadle.web``: argument parsing, its errors, and serving in a subprocess."""

from __future__ import annotations

import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest

from treadle.server._cli import make_parser, parse_args

from ._proc import BANNER, Proc, free_port


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


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_serves_the_factorys_app_until_sigint(backend: str) -> None:
    port = free_port()
    args = [
        "-m",
        "treadle.web",
        "-H",
        "127.0.0.1",
        "-P",
        str(port),
        "--backend",
        backend,
        "tests.server.apps.slow:make_app",
        "--flag",
        "value",
    ]
    with Proc(args) as proc:
        # The factory got the arguments the command did not know.
        proc.expect("^argv --flag value$")
        assert proc.banner_port() == port
        response = httpx.get(f"http://127.0.0.1:{port}/pid", timeout=10)
        assert response.text == str(proc.process.pid)
        proc.signal(signal.SIGINT)
        assert proc.wait() == 0, proc.output
        assert "on_cleanup" in proc.lines and "Stopped" in proc.lines


def test_serves_on_a_unix_socket_only_with_U() -> None:
    with tempfile.TemporaryDirectory(prefix="tr") as directory:
        path = str(Path(directory) / "web.sock")
        with Proc(["-m", "treadle.web", "-U", path, "tests.server.apps.slow:make_app"]) as proc:
            assert proc.expect(BANNER.pattern).group(1) == f"http://unix:{path}:"
            transport = httpx.HTTPTransport(uds=path)
            with httpx.Client(transport=transport, timeout=10) as client:
                assert client.get("http://localhost/pid").text == str(proc.process.pid)
            proc.signal(signal.SIGTERM)
            assert proc.wait() == 0, proc.output
        assert not Path(path).exists()
