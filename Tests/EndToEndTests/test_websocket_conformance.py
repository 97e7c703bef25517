"""RFC 6455 conformance against a real peer: the Autobahn TestSuite cases, driven by kosoku (PyPI), against the
echo endpoint `chat serve --ws-echo-path` exposes for this purpose. Every case except 12.* and 13.* (the
permessage-deflate extension, which chat does not offer) must pass; kosoku exits non-zero if any case FAILED.
The report directory is a temporary one (never committed)."""

from __future__ import annotations

import shutil
import subprocess


def test_autobahn_cases_pass_against_the_echo_endpoint(start_server, tmp_path):
    kosoku = shutil.which("kosoku")
    assert kosoku, "kosoku is not installed: `make deps` installs Tests/requirements.txt"
    server = start_server(args=["--ws-echo-path", "/ws-echo"])
    report = tmp_path / "autobahn-report"
    result = subprocess.run(
        [kosoku, "-m", "fuzzingclient", "-p", "2", "-x", "12.*", "-x", "13.*", "-o", str(report),
         f"ws://127.0.0.1:{server.port}/ws-echo"],
        capture_output=True, text=True, timeout=600,
    )
    output = result.stdout + result.stderr
    print(output[-2000:])  # the summary stays in the test log
    assert result.returncode == 0, f"kosoku reported failures (exit {result.returncode}):\n{output[-6000:]}"
    assert "FAILED" not in output, output[-6000:]
    passed = [line for line in output.splitlines() if line.strip().endswith("cases passed")]
    assert passed and int(passed[-1].split()[0]) >= 300, f"expected the whole suite to run:\n{output[-3000:]}"


def test_plain_http_on_the_echo_path_gets_426(start_server):
    server = start_server(args=["--ws-echo-path", "/ws-echo"])
    response = server.get("/ws-echo")
    assert response.status == 426, response.describe()
    assert response.header("Upgrade") == "websocket"


def test_echo_path_does_not_exist_without_the_flag(server):
    assert server.get("/ws-echo").status == 404
