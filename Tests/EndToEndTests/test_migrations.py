"""`chat migrate` and the migrations `serve` applies: state in `schema_migrations`, reversibility, checksum
protection, and migrations embedded in the binary."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess

import pytest

from helpers import REPO_ROOT, assert_json_error, migration_rows, open_db, run_chat, tables, version_number


def migrate(tmp_path, *args, data_dir, env=None, binary=None, cwd=None):
    return run_chat(["migrate", *args, "--data-dir", str(data_dir)], cwd=cwd or tmp_path, env=env, binary=binary)


def output(result) -> str:
    return result.stdout + result.stderr


def first_migration_line(text: str) -> str:
    lines = [line for line in text.splitlines() if "0001" in line or "server_state" in line]
    assert lines, f"no line about migration 0001_server_state in:\n{text}"
    return lines[0].lower()


# Every migration the binary embeds: the numbered files in migrations/.
ALL_VERSIONS = sorted({int(path.name.split("_", 1)[0]) for path in (REPO_ROOT / "migrations").glob("*.up.sql")})


def applied_versions(db_path) -> set[int]:
    return {version_number(row["version"]) for row in migration_rows(db_path)}


def test_migrate_status_up_down_cycle(tmp_path):
    data_dir = tmp_path / "data"

    fresh = migrate(tmp_path, "status", data_dir=data_dir)
    assert fresh.returncode == 0, output(fresh)
    assert "pending" in first_migration_line(output(fresh)), output(fresh)

    up = migrate(tmp_path, "up", data_dir=data_dir)
    assert up.returncode == 0, output(up)
    db = data_dir / "chat.db"
    assert "server_state" in tables(db)
    rows = migration_rows(db)
    assert [version_number(row["version"]) for row in rows] == ALL_VERSIONS, rows
    assert "server_state" in str(rows[0]["name"]), rows
    assert rows[0]["checksum"] and len(str(rows[0]["checksum"])) >= 8, rows

    status = migrate(tmp_path, "status", data_dir=data_dir)
    assert status.returncode == 0, output(status)
    line = first_migration_line(output(status))
    assert "applied" in line and "pending" not in line and "not applied" not in line, output(status)

    again = migrate(tmp_path, "up", data_dir=data_dir)
    assert again.returncode == 0, output(again)
    assert migration_rows(db) == rows, "a second `up` changed applied migrations"

    down = migrate(tmp_path, "down", str(len(ALL_VERSIONS)), data_dir=data_dir)
    assert down.returncode == 0, output(down)
    assert "server_state" not in tables(db)
    assert 1 not in applied_versions(db)
    assert "pending" in first_migration_line(output(migrate(tmp_path, "status", data_dir=data_dir)))

    up_again = migrate(tmp_path, "up", data_dir=data_dir)
    assert up_again.returncode == 0, output(up_again)
    assert "server_state" in tables(db) and applied_versions(db) == set(ALL_VERSIONS)


def test_migrate_with_counts(tmp_path):
    data_dir = tmp_path / "data"
    assert migrate(tmp_path, "up", "1", data_dir=data_dir).returncode == 0
    db = data_dir / "chat.db"
    assert applied_versions(db) == {1}
    assert migrate(tmp_path, "down", "1", data_dir=data_dir).returncode == 0
    assert 1 not in applied_versions(db) and "server_state" not in tables(db)


@pytest.mark.parametrize("args", [["up", "abc"], ["down", "-3"], ["sideways"]])
def test_migrate_usage_errors_exit_2(tmp_path, args):
    result = migrate(tmp_path, *args, data_dir=tmp_path / "data")
    assert result.returncode == 2, output(result)
    assert result.stderr.strip(), "a usage error must say what is wrong"


def test_serve_applies_pending_migrations(start_server):
    server = start_server()
    assert "server_state" in tables(server.db_path)
    assert applied_versions(server.db_path) == set(ALL_VERSIONS)
    connection = open_db(server.db_path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal"
    finally:
        connection.close()
    assert server.get("/readyz").status == 200


def test_serve_no_migrate_on_fresh_dir_is_not_ready(start_server):
    server = start_server(args=["--no-migrate"])
    assert server.get("/healthz").status == 200
    assert_json_error(server.get("/readyz"), 503, "not_ready")
    if server.db_path.exists():
        assert "server_state" not in tables(server.db_path)


def test_checksum_mismatch_is_refused(tmp_path, start_server):
    data_dir = tmp_path / "data"
    assert migrate(tmp_path, "up", data_dir=data_dir).returncode == 0
    connection = sqlite3.connect(data_dir / "chat.db")
    try:
        connection.execute("UPDATE schema_migrations SET checksum = 'deadbeefdeadbeefdeadbeefdeadbeef'")
        connection.commit()
    finally:
        connection.close()

    result = migrate(tmp_path, "up", data_dir=data_dir)
    assert result.returncode == 1, output(result)
    message = output(result)
    assert "checksum" in message.lower(), message
    assert re.search(r"0001|version\s*1\b", message), message

    server = start_server(data_dir=data_dir, wait=False)
    assert server.wait_exit(20) == 1, server.log_text()
    log = server.log_text()
    assert "checksum" in log.lower() and re.search(r"0001|version\s*1\b", log), log


def hide_repository_wrapper(directory, binary):
    """A launcher that runs `binary` in a private mount namespace where the repository is an empty tmpfs, so a
    binary that still read migrations (or anything else) from the source tree would fail. It execs all the way
    down, so signals sent to the launcher's pid reach `chat` itself."""
    wrapper = directory / "chat-without-repo"
    wrapper.write_text(
        "#!/bin/sh\n"
        "exec unshare --mount --propagation private sh -c "
        f"'mount -t tmpfs none \"$0\" && program=\"$1\" && shift && exec \"$program\" \"$@\"' "
        f"'{REPO_ROOT}' '{binary}' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    probe = subprocess.run([str(wrapper), "version"], capture_output=True, text=True, timeout=30)
    assert probe.returncode == 0, (
        f"`chat version` failed with the repository hidden (or unshare, which needs root, failed): {probe.stderr}"
    )
    hidden = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c",
         f"mount -t tmpfs none '{REPO_ROOT}' && ls -A '{REPO_ROOT}'"],
        capture_output=True, text=True, timeout=30,
    )
    assert hidden.returncode == 0 and hidden.stdout == "", hidden
    return wrapper


def test_binary_copied_alone_migrates_and_serves(tmp_path, chat_bin, start_server):
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    shutil.copy2(chat_bin, lonely / "chat")
    binary = hide_repository_wrapper(tmp_path, lonely / "chat")
    data_dir = lonely / "state"

    result = run_chat(["migrate", "up", "--data-dir", str(data_dir)], cwd=lonely, binary=binary)
    assert result.returncode == 0, output(result)
    assert "server_state" in tables(data_dir / "chat.db")
    assert applied_versions(data_dir / "chat.db") == set(ALL_VERSIONS)

    status = run_chat(["migrate", "status", "--data-dir", str(data_dir)], cwd=lonely, binary=binary)
    assert status.returncode == 0 and "applied" in first_migration_line(output(status)), output(status)

    fresh_dir = lonely / "fresh"
    server = start_server(binary=binary, cwd=lonely, data_dir=fresh_dir, static_dir=False, workdir=tmp_path / "w")
    assert server.get("/readyz").status == 200
    assert applied_versions(fresh_dir / "chat.db") == set(ALL_VERSIONS)
    assert_json_error(server.get("/index.html"), 404)
    assert server.stop() == 0


def test_migrate_reads_data_dir_from_config_file(tmp_path):
    data_dir = tmp_path / "from-config"
    config = tmp_path / "migrate.conf"
    config.write_text(f'[server]\ndata_dir = "{data_dir}"\n')
    result = run_chat(["migrate", "up", "--config", str(config)], cwd=tmp_path)
    assert result.returncode == 0, output(result)
    assert applied_versions(data_dir / "chat.db") == set(ALL_VERSIONS)
    status = run_chat(["migrate", "status", "--config", str(config)], cwd=tmp_path)
    assert status.returncode == 0 and "applied" in first_migration_line(output(status)), output(status)
