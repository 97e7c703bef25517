"""Configuration sources and the command line: precedence, located error messages, exit codes, help."""

from __future__ import annotations

import re
import socket

import pytest

from helpers import HOST, assert_json_error, free_port, get_request, port_refuses, run_chat


def distinct_ports(count: int) -> list[int]:
    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def serve_fails(tmp_path, args, *, env=None, config_text=None, cwd=None):
    """Run `chat serve` expecting it to refuse to start; returns the finished process."""
    command = ["serve"]
    if config_text is not None:
        path = tmp_path / "chat.conf"
        path.write_text(config_text)
        command += ["--config", str(path)]
    command += ["--data-dir", str(tmp_path / "data"), "--static-dir", str(tmp_path), *args]
    return run_chat(command, cwd=cwd or tmp_path, env=env, timeout=20)


# -- precedence --------------------------------------------------------------------------------------------------


def test_listen_precedence_file_then_env_then_flag(start_server, tmp_path):
    file_port, env_port, flag_port = distinct_ports(3)
    config = f"# listen address from the file\n[server]\nlisten = {HOST}:{file_port}\n"

    from_file = start_server(config_text=config, port=file_port, listen_flag=False, workdir=tmp_path / "file")
    assert port_refuses(env_port) and port_refuses(flag_port)
    assert from_file.stop() == 0

    env = {"CHAT_SERVER_LISTEN": f"{HOST}:{env_port}"}
    from_env = start_server(config_text=config, env=env, port=env_port, listen_flag=False, workdir=tmp_path / "env")
    assert port_refuses(file_port) and port_refuses(flag_port)
    assert from_env.stop() == 0

    from_flag = start_server(
        config_text=config, env=env, args=["--listen", f"{HOST}:{flag_port}"], port=flag_port, listen_flag=False,
        workdir=tmp_path / "flag",
    )
    assert port_refuses(file_port) and port_refuses(env_port)
    assert from_flag.get("/healthz").status == 200


def post_body(server, size: int) -> int:
    with server.raw() as connection:
        connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
        # An oversized body is refused right after the head; only send the body when no answer came.
        if not connection.readable(0.5):
            connection.try_send(b"z" * size)
        return connection.read_response().status


def test_sizes_from_file_and_env(start_server, tmp_path):
    config = "[http]\nmax_body = 1k   # a trailing comment\n"
    file_only = start_server(config_text=config, workdir=tmp_path / "file")
    assert post_body(file_only, 1000) == 200
    assert post_body(file_only, 2000) == 413
    assert file_only.stop() == 0

    overridden = start_server(config_text=config, env={"CHAT_HTTP_MAX_BODY": "4k"}, workdir=tmp_path / "env")
    assert post_body(overridden, 2000) == 200
    assert post_body(overridden, 5000) == 413


def test_duration_with_unit_from_file(start_server):
    server = start_server(config_text="[http]\nidle_timeout = 500ms\nheader_timeout = 60s\n")
    with server.raw() as connection:
        assert connection.exchange(get_request("/healthz")).status == 200
        connection.wait_closed(10)


def test_default_data_dir_is_created_in_cwd(start_server, tmp_path):
    cwd = tmp_path / "empty"
    cwd.mkdir()
    port = free_port()
    server = start_server(
        cwd=cwd, port=port, listen_flag=False, data_dir=False, static_dir=False,
        env={"CHAT_SERVER_LISTEN": f"{HOST}:{port}"}, workdir=tmp_path / "w",
    )
    assert server.get("/readyz").status == 200
    assert (cwd / "data" / "chat.db").is_file()
    assert not (tmp_path / "w" / "data").exists()


def test_log_level_warn_silences_access_log(start_server):
    server = start_server(args=["--log-level", "warn"])
    assert server.get("/healthz", headers={"X-Request-Id": "quiet-1"}).status == 200
    # Stop first: after exit every line the server wrote has been read, so an absent line is really absent.
    assert server.stop() == 0
    assert "level=info" not in server.log_text(), server.log_text()
    assert "quiet-1" not in server.log_text(), server.log_text()


def test_access_log_can_be_turned_off(start_server):
    server = start_server(config_text="[log]\naccess = false\n")
    assert server.get("/healthz", headers={"X-Request-Id": "quiet-2"}).status == 200
    assert server.stop() == 0
    assert "level=info" in server.log_text(), "info lines other than the access log are still logged"
    assert "quiet-2" not in server.log_text(), server.log_text()


def test_custom_request_id_header(start_server):
    server = start_server(config_text='[http]\nrequest_id_header = "X-Trace"\n')
    response = server.get("/healthz", headers={"X-Trace": "trace-7"})
    assert response.header("X-Trace") == "trace-7", response.describe()


# -- errors in the configuration ---------------------------------------------------------------------------------


def test_unknown_key_names_file_line_and_key(tmp_path):
    config = "[server]\nloops = 1\n\n[http]\nmax_bodyy = 1k\n"
    result = serve_fails(tmp_path, [], config_text=config)
    assert result.returncode == 2, result
    assert "chat.conf:5" in result.stderr, result.stderr
    assert "max_bodyy" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "config, line, key, value",
    [
        ("[http]\nmax_body = lots\n", 2, "max_body", "lots"),
        ("[server]\nloops = many\n", 2, "loops", "many"),
        ("# comment\n[http]\nidle_timeout = 10 parsecs\n", 3, "idle_timeout", "10 parsecs"),
        ("[log]\nlevel = loud\n", 2, "level", "loud"),
        ("[server]\nlisten = not-an-address\n", 2, "listen", "not-an-address"),
    ],
)
def test_bad_value_names_line_key_and_value(tmp_path, config, line, key, value):
    result = serve_fails(tmp_path, [], config_text=config)
    assert result.returncode == 2, result
    assert f"chat.conf:{line}" in result.stderr, result.stderr
    assert key in result.stderr and value in result.stderr, result.stderr


@pytest.mark.parametrize(
    "config, line",
    [("[nope]\nx = 1\n", 1), ("[server]\nthis line has no equals sign\n", 2), ("[http\nmax_body = 1k\n", 1)],
)
def test_syntax_errors_name_the_line(tmp_path, config, line):
    result = serve_fails(tmp_path, [], config_text=config)
    assert result.returncode == 2, result
    assert f"chat.conf:{line}" in result.stderr, result.stderr


def test_bad_env_value_names_the_variable(tmp_path):
    result = serve_fails(tmp_path, [], env={"CHAT_HTTP_MAX_BODY": "lots"})
    assert result.returncode == 2, result
    assert "CHAT_HTTP_MAX_BODY" in result.stderr and "lots" in result.stderr, result.stderr


def test_bad_flag_value_exits_2(tmp_path):
    result = serve_fails(tmp_path, ["--log-level", "loud"])
    assert result.returncode == 2, result
    assert "loud" in result.stderr and "--log-level" in result.stderr, result.stderr


def test_missing_config_file_exits_2(tmp_path):
    missing = tmp_path / "missing.conf"
    result = run_chat(["serve", "--config", str(missing)], cwd=tmp_path, timeout=20)
    assert result.returncode == 2, result
    assert "missing.conf" in result.stderr, result.stderr


# -- runtime errors ----------------------------------------------------------------------------------------------


def test_listen_address_in_use_exits_1(tmp_path):
    with socket.socket() as holder:
        holder.bind((HOST, 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = serve_fails(tmp_path, ["--listen", f"{HOST}:{port}"])
    assert result.returncode == 1, result
    assert str(port) in result.stderr, result.stderr


def test_data_dir_that_is_a_file_exits_1(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    result = run_chat(
        ["serve", "--listen", f"{HOST}:{free_port()}", "--data-dir", str(blocker), "--static-dir", str(tmp_path)],
        cwd=tmp_path, timeout=20,
    )
    assert result.returncode == 1, result
    assert "not-a-dir" in result.stderr, result.stderr


# -- command line ------------------------------------------------------------------------------------------------


def test_top_level_help(tmp_path):
    result = run_chat(["--help"], cwd=tmp_path)
    assert result.returncode == 0, result
    text = result.stdout + result.stderr
    for word in ("serve", "migrate", "version"):
        assert word in text, text


@pytest.mark.parametrize("args", [["help", "serve"], ["serve", "--help"]])
def test_serve_help(tmp_path, args):
    result = run_chat(args, cwd=tmp_path, timeout=10)
    assert result.returncode == 0, result
    text = result.stdout + result.stderr
    for flag in ("--listen", "--data-dir", "--config", "--no-migrate"):
        assert flag in text, text


def test_migrate_help(tmp_path):
    result = run_chat(["migrate", "--help"], cwd=tmp_path, timeout=10)
    assert result.returncode == 0, result
    text = result.stdout + result.stderr
    for word in ("up", "down", "status"):
        assert re.search(rf"\b{word}\b", text), text


def test_unknown_command_exits_2(tmp_path):
    result = run_chat(["frobnicate"], cwd=tmp_path, timeout=10)
    assert result.returncode == 2, result
    assert "frobnicate" in result.stderr, result.stderr


def test_unknown_option_exits_2(tmp_path):
    result = serve_fails(tmp_path, ["--frobnicate"])
    assert result.returncode == 2, result
    assert "--frobnicate" in result.stderr, result.stderr
    before_command = run_chat(["--frobnicate", "version"], cwd=tmp_path, timeout=10)
    assert before_command.returncode == 2, before_command
    assert "--frobnicate" in before_command.stderr, before_command.stderr


def test_version(tmp_path):
    result = run_chat(["version"], cwd=tmp_path, timeout=10)
    assert result.returncode == 0, result
    assert re.search(r"\d+\.\d+|[0-9a-f]{7,}", result.stdout), result.stdout


def test_cors_setting_is_accepted(start_server):
    server = start_server(config_text='[cors]\nallowed_origins = "https://example.test"\n')
    response = server.get("/healthz", headers={"Origin": "https://example.test"})
    assert response.status == 200
    assert response.header("Access-Control-Allow-Origin") == "https://example.test", response.describe()
    other = server.get("/healthz", headers={"Origin": "https://evil.test"})
    assert other.header("Access-Control-Allow-Origin") is None, other.describe()
    assert_json_error(server.get("/missing", headers={"Origin": "https://example.test"}), 404)
