"""The production path in deploy/ and the README really serves a trust.

Starts gunicorn exactly as deploy/gunicorn.conf.py and the README say, on a loopback port,
against a trust made with `cltd init`, and asks it for /healthz and the front page.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cltd.cli import main

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(url: str, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_gunicorn_with_the_deploy_config_serves_a_trust(tmp_path: Path) -> None:
    data_dir = tmp_path / "trust"
    assert main(["--data-dir", str(data_dir), "init", "--name", "Deployed Trust"]) == 0
    port = _free_port()
    env = {
        **os.environ,
        "CLTD_DATA_DIR": str(data_dir),
        "CLTD_BIND": f"127.0.0.1:{port}",
        "CLTD_WORKERS": "2",
    }
    server = subprocess.Popen(
        [str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn.conf.py"), "cltd.web:create_app()"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        health = json.loads(_wait_for(f"http://127.0.0.1:{port}/healthz"))
        assert health["status"] == "ok"
        front = _wait_for(f"http://127.0.0.1:{port}/").decode()
        assert "Deployed Trust" in front
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output, output


def test_demo_sets_up_a_trust_and_prints_its_sign_ins(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["--data-dir", str(tmp_path / "demo"), "demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/" in out
    assert "steward@demo.cltd.example" in out
    assert out.count("board,") == 9  # three seats in each of the three classes
    # Running it again reuses the trust instead of failing or duplicating members.
    assert main(["--data-dir", str(tmp_path / "demo"), "demo", "--no-serve"]) == 0
    assert capsys.readouterr().out.count("@demo.cltd.example") == out.count("@demo.cltd.example")
