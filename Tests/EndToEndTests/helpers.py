"""Helpers for the end-to-end suite.

Everything here drives the real `chat` binary on loopback: `ChatServer` starts `chat serve` on a free port with a
temporary data directory and stops it again; `RawConnection` speaks HTTP/1.1 over a plain socket for the protocol
edge cases that `http.client` and `curl` refuse to produce; `run_chat` runs the other subcommands.
Only the standard library is used.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import select
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / ".build" / "debug" / "chat"
HOST = "127.0.0.1"

# How long a test waits for something that should happen promptly. Only ever used to *wait*, never asserted.
WAIT = 10.0


def chat_binary() -> Path:
    """The binary under test: `$CHAT_BIN`, else the debug build in the repository."""
    return Path(os.environ.get("CHAT_BIN") or DEFAULT_BINARY)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without any `CHAT_*` variable (so the runner's `CHAT_BIN` or a developer's own
    settings never leak into the server under test), plus `extra`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAT_")}
    env.update(extra or {})
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_refuses(port: int) -> bool:
    """True when nothing accepts TCP connections on `port`."""
    try:
        with socket.create_connection((HOST, port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def wait_until(predicate, timeout: float = WAIT, interval: float = 0.05, message: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def run_chat(
    args: list[str],
    *,
    cwd: Path,
    env: dict[str, str] | None = None,
    binary: Path | None = None,
    timeout: float = 30,
    input: str | None = None,
) -> subprocess.CompletedProcess:
    """Run `chat ARGS...` to completion and return the finished process (text output). `input`, when given, is
    written to its standard input (which is otherwise /dev/null)."""
    command = [str(binary or chat_binary()), *args]
    stdin = {"input": input} if input is not None else {"stdin": subprocess.DEVNULL}
    try:
        return subprocess.run(
            command,
            cwd=cwd,
            env=clean_env(env),
            **stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired as error:
        raise AssertionError(
            f"{command} did not finish within {timeout}s (a command that should fail may be serving instead)\n"
            f"stdout: {error.stdout!r}\nstderr: {error.stderr!r}"
        ) from None


def curl(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run curl (bytes output). `-sS` and no proxy are always on."""
    return subprocess.run(
        ["curl", "-sS", "--noproxy", "*", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=timeout,
    )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_random_file(path: Path, size: int) -> str:
    """Write `size` random bytes to `path`; returns their sha256."""
    digest = hashlib.sha256()
    with open(path, "wb") as handle:
        remaining = size
        while remaining:
            block = os.urandom(min(remaining, 1 << 20))
            digest.update(block)
            handle.write(block)
            remaining -= len(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------------------------
# Responses


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes
    version: str = "HTTP/1.1"

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def header_all(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None

    def json(self):
        return json.loads(self.body)

    def connection_tokens(self) -> set[str]:
        return {token.strip().lower() for value in self.header_all("Connection") for token in value.split(",")}

    def closes(self) -> bool:
        return "close" in self.connection_tokens()

    def describe(self) -> str:
        head = "\n".join(f"{key}: {value}" for key, value in self.headers)
        body = self.body[:500]
        return f"{self.version} {self.status} {self.reason}\n{head}\n\n{body!r}"


ERROR_CODE = re.compile(r"[a-z][a-z0-9_]*")


def assert_json_error(response: Response, status: int, code: str | None = None) -> dict:
    """The response is `status` with the contract's error body `{"error":{"code":..., "message":...}}`."""
    assert response.status == status, f"expected {status}, got:\n{response.describe()}"
    content_type = response.header("Content-Type") or ""
    assert content_type.split(";")[0].strip().lower() == "application/json", response.describe()
    document = json.loads(response.body)
    assert isinstance(document, dict) and set(document) == {"error"}, response.describe()
    error = document["error"]
    assert isinstance(error.get("code"), str) and ERROR_CODE.fullmatch(error["code"]), response.describe()
    assert isinstance(error.get("message"), str) and error["message"].strip(), response.describe()
    if code is not None:
        assert error["code"] == code, response.describe()
    length = response.header("Content-Length")
    if length is not None:
        assert int(length) == len(response.body), response.describe()
    return error


def http_request(
    port: int,
    method: str,
    path: str,
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = WAIT,
) -> Response:
    """One request on a fresh `http.client` connection."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        data = reply.read()
        version = {10: "HTTP/1.0", 11: "HTTP/1.1"}.get(reply.version, str(reply.version))
        return Response(reply.status, reply.reason, reply.getheaders(), data, version)
    finally:
        connection.close()


# --------------------------------------------------------------------------------------------------------------
# Raw sockets


class RawConnection:
    """A plain TCP connection with just enough HTTP/1.1 parsing to read responses byte-exactly."""

    def __init__(self, port: int, timeout: float = WAIT, rcvbuf: int | None = None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            # Setting SO_RCVBUF before connecting also turns receive-buffer autotuning off, so a slow reader
            # really does hold the server back.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((HOST, port))
        self.buffer = bytearray()
        self.eof = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode("latin-1")
        self.sock.sendall(data)

    def try_send(self, data: bytes | str) -> bool:
        """Send, treating a peer that already closed as a normal outcome (returns False)."""
        try:
            self.send(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    def _fill(self, size: int = 65536) -> bool:
        if self.eof:
            return False
        try:
            chunk = self.sock.recv(size)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def readable(self, timeout: float) -> bool:
        if self.buffer or self.eof:
            return True
        ready, _, _ = select.select([self.sock], [], [], timeout)
        return bool(ready)

    def read_until(self, delimiter: bytes) -> bytes:
        start = 0
        while True:
            index = self.buffer.find(delimiter, start)
            if index >= 0:
                end = index + len(delimiter)
                data = bytes(self.buffer[:end])
                del self.buffer[:end]
                return data
            start = max(0, len(self.buffer) - len(delimiter) + 1)
            if not self._fill():
                raise EOFError(f"connection closed before {delimiter!r}; got {bytes(self.buffer)[:300]!r}")

    def read_exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill(max(65536, count - len(self.buffer))):
                raise EOFError(f"connection closed after {len(self.buffer)} of {count} bytes")
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def read_to_eof(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def read_head(self) -> Response:
        head = self.read_until(b"\r\n\r\n")
        lines = head[:-4].decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        assert len(parts) >= 2 and parts[0].startswith("HTTP/"), f"bad status line {lines[0]!r}"
        headers = []
        for line in lines[1:]:
            name, colon, value = line.partition(":")
            assert colon, f"bad header line {line!r} in {head!r}"
            headers.append((name.strip(), value.strip()))
        return Response(int(parts[1]), parts[2] if len(parts) > 2 else "", headers, b"", parts[0])

    def read_response(self, method: str = "GET") -> Response:
        """The next response, with its body framed as RFC 9112 §6.3 says."""
        response = self.read_head()
        if method == "HEAD" or 100 <= response.status < 200 or response.status in (204, 304):
            return response
        encoding = (response.header("Transfer-Encoding") or "").lower()
        length = response.header("Content-Length")
        if "chunked" in encoding:
            response.body = self._read_chunked()
        elif length is not None:
            response.body = self.read_exact(int(length))
        else:
            response.body = self.read_to_eof()
        return response

    def read_final_response(self, method: str = "GET") -> tuple[list[Response], Response]:
        """Interim (1xx) responses, then the final one."""
        interim = []
        while True:
            response = self.read_response(method)
            if 100 <= response.status < 200:
                interim.append(response)
                continue
            return interim, response

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_line = self.read_until(b"\r\n")
            size = int(size_line.split(b";")[0].strip(), 16)
            if size == 0:
                while self.read_until(b"\r\n") != b"\r\n":
                    pass
                return bytes(body)
            body += self.read_exact(size)
            assert self.read_exact(2) == b"\r\n", "chunk not followed by CRLF"

    def wait_closed(self, timeout: float = WAIT) -> bytes:
        """Wait for the server to close the connection; returns whatever arrived first. Fails if it stays open."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(
                    f"connection still open after {timeout}s; unread bytes: {bytes(self.buffer)[:300]!r}"
                )
            ready, _, _ = select.select([self.sock], [], [], remaining)
            if ready:
                self._fill()
        data = bytes(self.buffer)
        self.buffer.clear()
        return data

    def exchange(self, request: bytes | str, method: str = "GET") -> Response:
        self.send(request)
        return self.read_response(method)


def get_request(path: str = "/healthz", *, version: str = "HTTP/1.1", headers: dict[str, str] | None = None,
                method: str = "GET", body: bytes = b"") -> bytes:
    """A request as bytes, with `Host` unless `headers` overrides it."""
    lines = [f"{method} {path} {version}"]
    all_headers = {"Host": f"{HOST}"}
    all_headers.update(headers or {})
    lines += [f"{key}: {value}" for key, value in all_headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


# --------------------------------------------------------------------------------------------------------------
# Logs

_LOGFMT_PAIR = re.compile(r'([A-Za-z0-9_.\-]+)=("(?:[^"\\]|\\.)*"|\S*)')


def parse_logfmt(line: str) -> dict[str, str]:
    fields = {}
    for key, value in _LOGFMT_PAIR.findall(line):
        if value.startswith('"'):
            try:
                value = json.loads(value)
            except ValueError:
                value = value[1:-1]
        fields[key] = value
    return fields


def parse_log_line(line: str) -> dict:
    line = line.strip()
    if line.startswith("{"):
        try:
            return json.loads(line)
        except ValueError:
            return {}
    return parse_logfmt(line)


# --------------------------------------------------------------------------------------------------------------
# Processes


def process_group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes in process group `pgid`."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        # Fields after the parenthesised command name: state ppid pgrp ...
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) >= 3 and int(rest[2]) == pgid and rest[0] != "Z":
            members.append(int(entry))
    return members


class ServerExited(AssertionError):
    pass


class PortInUse(Exception):
    pass


_counter = 0


class ChatServer:
    """`chat serve` on loopback with its own temporary data and static directories.

    `data_dir`/`static_dir`: a path, None for a fresh directory under `workdir`, or False to pass no flag.
    `listen_flag`: pass `--listen 127.0.0.1:PORT` (turn off to test the file/env settings; then `port` must be
    the port the server is expected to listen on).
    """

    def __init__(
        self,
        workdir: Path,
        *,
        binary: Path | None = None,
        args: list[str] | tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        config_text: str | None = None,
        port: int | None = None,
        listen_flag: bool = True,
        data_dir=None,
        static_dir=None,
        cwd: Path | None = None,
    ):
        global _counter
        _counter += 1
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.binary = Path(binary or chat_binary())
        self.auto_port = port is None
        self.port = port or free_port()
        self.listen_flag = listen_flag
        if data_dir is None:
            data_dir = self.workdir / "data"
        self.data_dir = Path(data_dir) if data_dir is not False else None
        if static_dir is None:
            static_dir = self.workdir / "static"
            static_dir.mkdir(exist_ok=True)
        self.static_dir = Path(static_dir) if static_dir is not False else None
        self.cwd = Path(cwd or self.workdir)
        self.config_path = None
        if config_text is not None:
            self.config_path = self.workdir / "chat.conf"
            self.config_path.write_text(config_text)
        self.args = list(args)
        self.env = dict(env or {})
        self.log_path = self.workdir / f"server-{_counter}.stderr.log"
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self.exit_observed = False  # the test itself waited for / caused the exit
        self._stderr = bytearray()
        self._stdout = bytearray()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # -- process ---------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def db_path(self) -> Path:
        assert self.data_dir is not None
        return self.data_dir / "chat.db"

    def command(self) -> list[str]:
        command = [str(self.binary), "serve"]
        if self.config_path is not None:
            command += ["--config", str(self.config_path)]
        if self.listen_flag:
            command += ["--listen", f"{HOST}:{self.port}"]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        if self.static_dir is not None:
            command += ["--static-dir", str(self.static_dir)]
        return command + self.args

    def _drain(self, stream, sink: bytearray, log_file):
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            with self._lock:
                sink += chunk
            if log_file is not None:
                log_file.write(chunk)
                log_file.flush()
        if log_file is not None:
            log_file.close()

    def _spawn(self):
        self._stderr.clear()
        self._stdout.clear()
        self.returncode = None
        self.exit_observed = False
        # stderr goes through a pipe that a thread drains (into memory and a file under the test's tmp dir):
        # the server never writes its logs to a file directly, so limits put on the server's files (RLIMIT_FSIZE)
        # do not touch its logging, and a full pipe never blocks it.
        self.proc = subprocess.Popen(
            self.command(),
            cwd=self.cwd,
            env=clean_env(self.env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        log_file = open(self.log_path, "ab")
        self._threads = [
            threading.Thread(target=self._drain, args=(self.proc.stderr, self._stderr, log_file), daemon=True),
            threading.Thread(target=self._drain, args=(self.proc.stdout, self._stdout, None), daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def start(self, wait: bool = True, timeout: float = 20) -> "ChatServer":
        for attempt in range(3):
            self._spawn()
            if not wait:
                return self
            try:
                self.wait_healthy(timeout)
                return self
            except PortInUse:
                if not self.auto_port or attempt == 2:
                    raise AssertionError(f"port {self.port} in use:\n{self.log_text()}") from None
                self.port = free_port()
        return self

    def wait_healthy(self, timeout: float = 20):
        deadline = time.monotonic() + timeout
        while True:
            code = self.proc.poll()
            if code is not None:
                self._join()
                log = self.log_text()
                if "in use" in log.lower() and self.auto_port:
                    raise PortInUse()
                self.exit_observed = True
                raise ServerExited(
                    f"`{' '.join(self.command())}` exited with {code} before /healthz answered.\nstderr:\n{log}"
                    f"\nstdout:\n{self.stdout_text()}"
                )
            try:
                if http_request(self.port, "GET", "/healthz", timeout=2).status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() >= deadline:
                raise AssertionError(f"/healthz did not answer 200 within {timeout}s.\nstderr:\n{self.log_text()}")
            time.sleep(0.05)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, signum: int):
        self.proc.send_signal(signum)

    def wait_exit(self, timeout: float = WAIT) -> int:
        """Wait for the process to exit by itself; fails if it does not."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"server still running after {timeout}s.\nstderr:\n{self.log_text()}") from None
        self.exit_observed = True
        self._join()
        return self.returncode

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Signal the server and wait for it to exit; SIGKILL (and fail) if it does not within `timeout`."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(
                    f"server ignored signal {signum} for {timeout}s (killed).\nstderr:\n{self.log_text()}"
                ) from None
        else:
            self.returncode = self.proc.returncode
        self.exit_observed = True
        self._join()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)
        if self.proc is not None:
            self.returncode = self.proc.returncode
            self._join()

    def _join(self):
        for thread in self._threads:
            thread.join(5)

    def leaks(self) -> list[str]:
        """After exit: processes left in the server's process group, or something still listening on its port."""
        problems = []
        if self.proc is None:
            return problems
        members = process_group_members(self.proc.pid)
        if members:
            problems.append(f"processes left in the server's process group: {members}")
            for pid in members:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not port_refuses(self.port):
            problems.append(f"port {self.port} still accepts connections after the server exited")
        return problems

    # -- logs ------------------------------------------------------------------------------------------------

    def log_text(self) -> str:
        with self._lock:
            return self._stderr.decode("utf-8", "replace")

    def stdout_text(self) -> str:
        with self._lock:
            return self._stdout.decode("utf-8", "replace")

    def log_entries(self) -> list[dict]:
        return [parse_log_line(line) for line in self.log_text().splitlines() if line.strip()]

    def access_entries(self) -> list[dict]:
        return [entry for entry in self.log_entries() if entry.get("component") == "access"]

    def wait_for_access(self, request_id: str, timeout: float = WAIT) -> dict:
        def find():
            for entry in self.access_entries():
                if entry.get("request_id") == request_id:
                    return entry
            return None

        try:
            return wait_until(find, timeout, message=f"access log line with request_id={request_id}")
        except AssertionError as error:
            raise AssertionError(f"{error}\nstderr:\n{self.log_text()}") from None

    # -- clients ---------------------------------------------------------------------------------------------

    def request(self, method: str, path: str, headers=None, body=None, timeout: float = WAIT) -> Response:
        return http_request(self.port, method, path, headers, body, timeout)

    def get(self, path: str, headers=None, timeout: float = WAIT) -> Response:
        return self.request("GET", path, headers, None, timeout)

    def raw(self, timeout: float = WAIT, rcvbuf: int | None = None) -> RawConnection:
        return RawConnection(self.port, timeout, rcvbuf)

    def db(self) -> sqlite3.Connection:
        return open_db(self.db_path)


def open_db(path: Path) -> sqlite3.Connection:
    assert Path(path).exists(), f"database {path} does not exist"
    connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=10)
    connection.row_factory = sqlite3.Row
    return connection


def tables(path: Path) -> set[str]:
    connection = open_db(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
        return {row[0] for row in rows}
    finally:
        connection.close()


def migration_rows(path: Path) -> list[dict]:
    connection = open_db(path)
    try:
        rows = connection.execute("SELECT * FROM schema_migrations ORDER BY version").fetchall()
        return [dict(row) for row in rows]
    finally:
        connection.close()


def version_number(value) -> int:
    """`1`, `'1'`, `'0001'` or `'0001_server_state'` -> 1."""
    match = re.match(r"\d+", str(value))
    assert match, f"migration version {value!r} is not numeric"
    return int(match.group())
