"""``web.run_app`` on every backend the ways users call it (issue 4): a coroutine
returning the app, ``sock=``, ``path=``, ``ssl_context=``, a host list with an access
log format; and ``python -m treadle.web`` on uvloop (asyncio and trio are in
test_cli). Each process is stopped with SIGINT and must exit 0 after cleanup."""

from __future__ import annotations

import signal
import ssl
import tempfile
from pathlib import Path

import httpx
import pytest
import trustme

from treadle.backends import BACKEND_NAMES

from ._proc import BANNER, Proc, free_port

SCRIPT = ["-m", "tests.server._issue_runapp"]


def stop(proc: Proc) -> None:
    proc.signal(signal.SIGINT)
    assert proc.wait() == 0, proc.output
    assert "cleanup" in proc.lines and "run_app returned" in proc.lines
    assert "Traceback" not in proc.output


@pytest.mark.parametrize("backend", BACKEND_NAMES)
@pytest.mark.parametrize("mode", ["coro", "sock"])
def test_run_app_with_a_coroutine_and_with_a_socket(backend: str, mode: str) -> None:
    with Proc([*SCRIPT, "--backend", backend, "--mode", mode]) as proc:
        port = proc.banner_port()
        assert "factory awaited" in proc.lines
        response = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert response.text == "hello http coroutine"
        stop(proc)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_run_app_on_a_unix_path(backend: str) -> None:
    with tempfile.TemporaryDirectory(prefix="tr") as directory:
        path = str(Path(directory) / "app.sock")
        with Proc([*SCRIPT, "--backend", backend, "--mode", "unix", "--path", path]) as proc:
            assert proc.expect(BANNER.pattern).group(1) == f"http://unix:{path}:"
            transport = httpx.HTTPTransport(uds=path)
            with httpx.Client(transport=transport, timeout=10) as client:
                assert client.get("http://localhost/").text == "hello http coroutine"
            stop(proc)
        assert not Path(path).exists()


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_run_app_with_tls(backend: str, tmp_path: Path) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    args = ["--mode", "tls", "--cert", str(cert_file), "--key", str(key_file)]
    with Proc([*SCRIPT, "--backend", backend, *args]) as proc:
        url = proc.expect(BANNER.pattern).group(1)
        assert url.startswith("https://127.0.0.1:")
        context = ssl.create_default_context()
        ca.configure_trust(context)
        response = httpx.get(url + "/", verify=context, timeout=10)
        assert response.text == "hello https coroutine"
        stop(proc)


@pytest.mark.parametrize("backend", BACKEND_NAMES)
def test_run_app_with_a_host_list_and_an_access_log_format(backend: str) -> None:
    with Proc([*SCRIPT, "--backend", backend, "--mode", "hosts"]) as proc:
        port = proc.banner_port()
        httpx.get(f"http://127.0.0.1:{port}/?a=1", headers={"X-Who": "ann"}, timeout=10)
        proc.expect(r'^LOG 200 "GET /\?a=1 HTTP/1\.1" ann$')
        stop(proc)


def test_module_entry_point_on_uvloop() -> None:
    port = free_port()
    args = ["-m", "treadle.web", "-H", "127.0.0.1", "-P", str(port), "--backend", "uvloop"]
    with Proc([*args, "tests.server.apps.slow:make_app"]) as proc:
        assert proc.banner_port() == port
        response = httpx.get(f"http://127.0.0.1:{port}/pid", timeout=10)
        assert response.text == str(proc.process.pid)
        proc.signal(signal.SIGINT)
        assert proc.wait() == 0, proc.output
        assert "on_cleanup" in proc.lines
