#!/usr/bin/env python3
"""Cold start of `chat serve`: milliseconds from spawning the process to its first `200` on GET /healthz.

curl in a shell loop costs several milliseconds per try, too coarse for a start that should take well under
50 ms, so this polls with raw sockets: a connect every millisecond until one is accepted, then one request.

    bench/coldstart.py --bin .build/release/chat --runs 5 --mode fresh     # a new data dir every run
    bench/coldstart.py --bin .build/release/chat --runs 5 --mode migrated  # one data dir, migrated beforehand

Each run uses a new free loopback port, then stops the server with SIGTERM and checks that it exits 0.
It prints one line per run and a summary line; --json FILE also writes the figures as JSON.
RSS is VmRSS from /proc/PID/status read right after the first 200.
Exit status: 0 when every run became ready; 1 otherwise (the server's output is in --log-dir).
"""
import argparse
import errno
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int):
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def try_health(port: int):
    """One attempt: the HTTP status code, or None when nothing accepted the connection (yet)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        s.settimeout(2.0)
        try:
            s.connect(("127.0.0.1", port))
        except OSError as e:
            if e.errno in (errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT):
                return None
            raise
        try:
            s.sendall(REQUEST)
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            return None
        parts = data.split(b" ", 2)
        if len(parts) >= 2 and parts[0].startswith(b"HTTP/") and parts[1].isdigit():
            return int(parts[1])
        return None
    finally:
        s.close()


def stop(proc: subprocess.Popen, timeout: float = 10.0):
    """SIGTERM, then SIGKILL after `timeout` seconds. Returns the exit status (negative: killed by a signal)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return "killed after SIGTERM timeout"
    return proc.returncode


def one_run(binary, data_dir, log_path, extra_args, timeout_s):
    port = free_port()
    argv = [binary, "serve", "--listen", f"127.0.0.1:{port}", "--data-dir", data_dir, "--log-level", "warn"]
    argv += extra_args
    with open(log_path, "ab") as log:
        log.write(("$ " + " ".join(argv) + "\n").encode())
        log.flush()
        start = time.perf_counter_ns()
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = start + int(timeout_s * 1e9)
            status = None
            attempts = 0
            while True:
                attempts += 1
                status = try_health(port)
                now = time.perf_counter_ns()
                if status == 200:
                    ready_ms = (now - start) / 1e6
                    break
                if proc.poll() is not None:
                    return {"error": f"exited with status {proc.returncode} before answering 200", "port": port}
                if now > deadline:
                    return {"error": f"no 200 within {timeout_s:.0f} s (last status {status})", "port": port}
                time.sleep(0.001)
            rss = rss_kib(proc.pid)
        finally:
            exit_status = stop(proc)
    return {"ms": ready_ms, "rss_kib": rss, "attempts": attempts, "exit": exit_status, "port": port}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.environ.get("CHAT_BIN", ".build/release/chat"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--mode", choices=["fresh", "migrated"], default="fresh")
    ap.add_argument("--log-dir", default=None, help="where the server's output goes (default: a temp dir)")
    ap.add_argument("--json", default=None, help="also write the results to this file")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the first 200 of a run")
    ap.add_argument("extra", nargs="*", help="more arguments for `chat serve` (after --)")
    args = ap.parse_args()

    binary = os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        print(f"coldstart: {binary} is not an executable (build it, or set CHAT_BIN / --bin)", file=sys.stderr)
        return 2
    log_dir = args.log_dir or tempfile.mkdtemp(prefix="chat-coldstart-log.")
    os.makedirs(log_dir, exist_ok=True)
    log_path = os.path.join(log_dir, f"coldstart-{args.mode}.log")
    work = tempfile.mkdtemp(prefix="chat-coldstart.")
    label = "fresh data dir" if args.mode == "fresh" else "migrated data dir"
    results = []
    failed = False
    try:
        shared = None
        if args.mode == "migrated":
            # A first, uncounted start migrates the data dir; the measured runs then open an up-to-date database.
            shared = os.path.join(work, "data")
            os.makedirs(shared)
            warm = one_run(binary, shared, log_path, args.extra, args.timeout)
            if "error" in warm:
                print(f"coldstart ({label}): preparing the data dir failed: {warm['error']} (log: {log_path})")
                return 1
        for i in range(1, args.runs + 1):
            if args.mode == "fresh":
                data_dir = os.path.join(work, f"data-{i}")
                os.makedirs(data_dir)
            else:
                data_dir = shared
            r = one_run(binary, data_dir, log_path, args.extra, args.timeout)
            results.append(r)
            if "error" in r:
                failed = True
                print(f"cold start ({label}) run {i}: FAILED: {r['error']} (log: {log_path})")
                continue
            rss = f"{r['rss_kib'] / 1024:.1f} MiB" if r["rss_kib"] is not None else "n/a"
            note = "" if r["exit"] == 0 else f"  (exit status on SIGTERM: {r['exit']}, expected 0)"
            print(f"cold start ({label}) run {i}: {r['ms']:.1f} ms to first 200, RSS {rss}{note}")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ok = [r for r in results if "error" not in r]
    summary = {"mode": args.mode, "runs": args.runs, "ok_runs": len(ok), "log": log_path}
    if ok:
        times = sorted(r["ms"] for r in ok)
        rss = [r["rss_kib"] for r in ok if r["rss_kib"] is not None]
        summary.update(
            min_ms=round(times[0], 2),
            median_ms=round(statistics.median(times), 2),
            max_ms=round(times[-1], 2),
            rss_mib=round(statistics.median(rss) / 1024, 1) if rss else None,
            nonzero_exits=sum(1 for r in ok if r["exit"] != 0),
        )
        print(
            f"cold start ({label}): min {summary['min_ms']:.1f} ms, median {summary['median_ms']:.1f} ms"
            f" over {len(ok)}/{args.runs} runs; RSS at ready {summary['rss_mib']} MiB"
        )
    summary["runs_detail"] = results
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
    return 1 if failed or not ok else 0


if __name__ == "__main__":
    sys.exit(main())
