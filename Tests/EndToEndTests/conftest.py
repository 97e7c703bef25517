"""Fixtures for the end-to-end suite: the binary under test and servers that are always stopped again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from helpers import ChatServer, chat_binary


@pytest.fixture(scope="session")
def chat_bin() -> Path:
    binary = chat_binary()
    if not (binary.is_file() and os.access(binary, os.X_OK)):
        pytest.fail(
            f"chat binary not found at {binary}: run `swift build` first or point CHAT_BIN at a build", pytrace=False
        )
    return binary


@pytest.fixture(autouse=True)
def _drop_large_files(tmp_path):
    """pytest keeps the last runs' temporary directories; don't let the multi-megabyte test files pile up."""
    yield
    for path in tmp_path.rglob("*"):
        try:
            if path.is_file() and not path.is_symlink() and path.stat().st_size > (1 << 20):
                path.unlink()
        except OSError:
            pass


@pytest.fixture
def start_server(tmp_path, chat_bin):
    """Factory: `start_server(**ChatServer options, wait=True)` starts `chat serve` and returns the `ChatServer`.

    On teardown every server still running gets SIGTERM and must exit 0 (SIGKILL and an error after 20 s); a
    server that died without the test noticing, a process left in its group, or a port still listening after
    exit is reported as an error.
    """
    servers: list[ChatServer] = []

    def start(*, wait: bool = True, workdir: Path | None = None, **options) -> ChatServer:
        options.setdefault("binary", chat_bin)
        server = ChatServer(workdir or tmp_path / f"server{len(servers)}", **options)
        servers.append(server)
        server.start(wait=wait)
        return server

    yield start

    problems = []
    for server in servers:
        if server.proc is None:
            continue
        if server.proc.poll() is None:
            try:
                code = server.stop(signal.SIGTERM, timeout=20)
            except AssertionError as error:
                problems.append(str(error))
                continue
            if code != 0:
                problems.append(f"server exited with {code} on SIGTERM.\nstderr:\n{server.log_text()}")
        elif not server.exit_observed:
            server.stop()
            problems.append(
                f"server died during the test with exit code {server.returncode}.\nstderr:\n{server.log_text()}"
            )
        problems += server.leaks()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def server(start_server) -> ChatServer:
    """A server with default settings, an empty static directory and a fresh data directory."""
    return start_server()


@pytest.fixture
def start_auth_server(start_server):
    """Factory like `start_server`, starting from the accounts tests' settings (`authhelpers.AUTH_ENV`: bcrypt
    cost 4, login/register limits out of the way); `env` adds to or overrides them."""
    from authhelpers import AUTH_ENV  # imported here so the rest of the suite does not need PyJWT & co.

    def start(*, env: dict[str, str] | None = None, **options) -> ChatServer:
        return start_server(env={**AUTH_ENV, **(env or {})}, **options)

    return start


@pytest.fixture
def api(start_auth_server):
    """An `authhelpers.Api` client for a fresh server with the accounts tests' settings."""
    from authhelpers import Api

    return Api(start_auth_server())


@pytest.fixture
def start_chat(start_auth_server):
    """Factory: `start_chat(env=...)` starts a server with the accounts tests' settings plus `env` and returns a
    `chathelpers.Chat` client for it. On teardown the test fails if any response of any of these clients had a
    5xx status (the chat API must never answer 500, whatever it is sent)."""
    from chathelpers import Chat

    clients = []

    def start(*, env: dict[str, str] | None = None, **options):
        client = Chat(start_auth_server(env=env, **options))
        clients.append(client)
        return client

    yield start

    errors = [error for client in clients for error in client.server_errors]
    if errors:
        pytest.fail(f"{len(errors)} responses with a 5xx status:\n\n" + "\n\n".join(errors[:10]), pytrace=False)


@pytest.fixture
def chat(start_chat):
    """A `chathelpers.Chat` client for a fresh server with the default chat settings."""
    return start_chat()
