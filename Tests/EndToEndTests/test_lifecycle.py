"""Process lifecycle: graceful shutdown on SIGTERM/SIGINT with work in flight, restarts on the same data, and
readiness that follows the database's ability to take writes."""

from __future__ import annotations

import hashlib
import resource
import signal
import time

from helpers import (
    assert_json_error,
    get_request,
    migration_rows,
    open_db,
    port_refuses,
    wait_until,
    write_random_file,
)

GRACEFUL = "[server]\nshutdown_timeout = 60s\n[http]\nidle_timeout = 60s\n"


def wait_refusing(server):
    wait_until(lambda: port_refuses(server.port), message=f"port {server.port} to refuse new connections")


def test_sigterm_lets_a_slow_download_finish(start_server, tmp_path):
    size = 64 * 1024 * 1024
    site = tmp_path / "site"
    site.mkdir()
    digest = write_random_file(site / "big.bin", size)
    server = start_server(static_dir=site, config_text=GRACEFUL)

    with server.raw(timeout=60, rcvbuf=64 * 1024) as connection:
        connection.send(get_request("/big.bin"))
        head = connection.read_head()
        assert head.status == 200 and head.header("Content-Length") == str(size), head.describe()
        hasher = hashlib.sha256()
        received = 0

        def take(count):
            nonlocal received
            data = connection.read_exact(count)
            hasher.update(data)
            received += len(data)

        take(len(connection.buffer))
        for _ in range(16):  # a slow reader: small pieces with pauses
            take(16 * 1024)
            time.sleep(0.01)

        server.send_signal(signal.SIGTERM)
        # New connections are refused while the download is still in flight and the process still running.
        wait_refusing(server)
        assert server.alive(), f"server exited with a download in flight:\n{server.log_text()}"

        for index in range(64):  # still slow for a while after the signal
            take(16 * 1024)
            if index % 8 == 0:
                time.sleep(0.01)
        while received < size:
            take(min(256 * 1024, size - received))
        assert hasher.hexdigest() == digest
        connection.wait_closed(30)

    assert server.wait_exit(30) == 0, server.log_text()


def test_sigterm_completes_a_request_whose_body_is_still_arriving(start_server):
    server = start_server(config_text=GRACEFUL)
    with server.raw() as connection:
        # A first exchange proves the server has accepted this connection before the signal.
        assert connection.exchange(get_request("/healthz")).status == 200
        connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Request-Id: half-body\r\nContent-Length: 10\r\n\r\n12345")
        time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        wait_refusing(server)
        # Give a server that wrongly drops the half-received request time to do so before the rest arrives.
        time.sleep(0.5)
        assert server.alive(), f"server exited with a request half received:\n{server.log_text()}"
        connection.try_send(b"67890")
        response = connection.read_response()
        assert response.status == 200 and response.json() == {"status": "ok"}, response.describe()
        assert response.header("X-Request-Id") == "half-body"
        assert response.closes(), response.describe()
        connection.wait_closed()
    assert server.wait_exit(30) == 0, server.log_text()


def test_idle_connections_do_not_hold_up_shutdown(start_server):
    server = start_server(config_text=GRACEFUL)
    with server.raw() as idle:
        assert idle.exchange(get_request("/healthz")).status == 200
        server.send_signal(signal.SIGTERM)
        # shutdown_timeout is 60 s: an exit well before that shows idle connections are closed, not waited for.
        assert server.wait_exit(20) == 0, server.log_text()
        idle.wait_closed(5)


def test_shutdown_timeout_bounds_a_stalled_client(start_server, tmp_path):
    size = 32 * 1024 * 1024
    site = tmp_path / "site"
    site.mkdir()
    write_random_file(site / "big.bin", size)
    server = start_server(static_dir=site, config_text="[server]\nshutdown_timeout = 1s\n[http]\nidle_timeout = 60s\n")
    with server.raw(timeout=30, rcvbuf=64 * 1024) as stalled:
        stalled.send(get_request("/big.bin"))
        assert stalled.read_head().status == 200
        # Stop reading: the transfer cannot finish, so only shutdown_timeout can end the process.
        server.send_signal(signal.SIGTERM)
        assert server.wait_exit(20) == 0, server.log_text()
        received = len(stalled.buffer) + len(stalled.read_to_eof())
        assert received < size, "the stalled download finished, so the test proved nothing"


def test_sigint_is_graceful(start_server):
    server = start_server()
    assert server.get("/readyz").status == 200
    assert server.stop(signal.SIGINT) == 0, server.log_text()
    assert port_refuses(server.port)


def test_restart_on_the_same_data_dir_keeps_data(start_server, tmp_path):
    data_dir = tmp_path / "data"
    first = start_server(data_dir=data_dir, workdir=tmp_path / "first")
    assert first.get("/readyz").status == 200
    assert first.stop() == 0

    migrations_before = migration_rows(data_dir / "chat.db")
    connection = open_db(data_dir / "chat.db")
    try:
        heartbeat = connection.execute("SELECT value, updated_at FROM server_state WHERE key = 'heartbeat'").fetchone()
    finally:
        connection.close()
    assert heartbeat is not None, "no heartbeat row after /readyz"

    second = start_server(data_dir=data_dir, workdir=tmp_path / "second")
    # Before any new write: the row written by the first process is there.
    connection = second.db()
    try:
        kept = connection.execute("SELECT value, updated_at FROM server_state WHERE key = 'heartbeat'").fetchone()
    finally:
        connection.close()
    assert kept is not None and tuple(kept) == tuple(heartbeat)
    assert migration_rows(data_dir / "chat.db") == migrations_before

    assert second.get("/readyz").status == 200
    connection = second.db()
    try:
        updated = connection.execute("SELECT updated_at FROM server_state WHERE key = 'heartbeat'").fetchone()
    finally:
        connection.close()
    assert updated[0] >= heartbeat[1]


def test_readyz_follows_database_writability(start_server):
    # A zero file-size limit stops every write to a regular file, not only those that grow it: Linux refuses any
    # write at an offset at or past the limit (EFBIG), so frames overwritten in a WAL the checkpointer rewound fail
    # as well, and the default configuration (background checkpointer on) is fine here. What the limit cannot stop
    # is a commit that writes nothing, which SQLite does when an update leaves every byte as it was: the heartbeat
    # must change its row on each probe, even two probes within one millisecond (HealthRoutesTests has that case).
    server = start_server()
    assert server.get("/readyz").status == 200
    soft, hard = resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE)
    resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (0, hard))
    try:
        for _ in range(3):
            response = server.get("/readyz")
            assert_json_error(response, 503, "not_ready")
        # Alive, just not ready.
        health = server.get("/healthz")
        assert health.status == 200 and health.json() == {"status": "ok"}
        assert server.alive()
    finally:
        resource.prlimit(server.proc.pid, resource.RLIMIT_FSIZE, (soft, hard))

    def ready_again():
        return server.get("/readyz").status == 200

    wait_until(ready_again, interval=0.2, message="/readyz to answer 200 again after the limit was lifted")
