"""House rule 4: once the server acknowledged a message (201), it survives `kill -9`. Several keep-alive clients
post as fast as they can; the server is killed mid-stream; after a restart on the same data directory every
acknowledged message is in the history with the seq it was acknowledged with, and seqs have no gaps."""

from __future__ import annotations

import threading
import time

from chathelpers import KeepAlive, run_threads


def test_acknowledged_messages_survive_kill_9(start_chat, start_auth_server):
    env = {"CHAT_RATE_LIMIT_API_PER_MINUTE": "10000000"}
    chat = start_chat(env=env)
    server = chat.server
    alice = chat.user()
    room = chat.group(alice)["id"]
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    started = threading.Event()

    def poster(index: int):
        def run():
            client = KeepAlive(server.port, alice.access, timeout=10)
            number = 0
            while True:
                number += 1
                client_id = f"p{index}-{number}"
                try:
                    status, document = client.call(
                        "POST", f"rooms/{room}/messages", {"content": f"durable {client_id}", "client_msg_id": client_id}
                    )
                except OSError:
                    return  # the server is gone: whatever was not acknowledged may be lost
                if status != 201:
                    return
                with lock:
                    acknowledged[client_id] = document["seq"]
                    if len(acknowledged) >= 50:
                        started.set()

        return run

    killer_done = []

    def killer():
        assert started.wait(30), "the posters never got going"
        time.sleep(0.3)  # kill while writes are in flight, not between them
        server.kill()
        server.exit_observed = True
        killer_done.append(True)

    run_threads([poster(index) for index in range(6)] + [killer], timeout=90)
    assert killer_done and len(acknowledged) >= 50

    restarted = start_auth_server(env=env, data_dir=server.data_dir)
    client = KeepAlive(restarted.port, alice.access)  # the keys and the session are on disk too
    stored: dict[str, int] = {}
    seqs: list[int] = []
    after = 0
    while True:
        status, page = client.call("GET", f"rooms/{room}/messages?after_seq={after}&limit=200")
        assert status == 200, page
        for message in page["messages"]:
            seqs.append(message["seq"])
            if message["client_msg_id"]:
                stored[message["client_msg_id"]] = message["seq"]
        if not page["has_more"]:
            break
        after = page["messages"][-1]["seq"]
    lost = {key: seq for key, seq in acknowledged.items() if stored.get(key) != seq}
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged messages lost or moved: {sorted(lost)[:10]}"
    assert seqs == list(range(1, len(seqs) + 1)), "seqs after the restart are not gap-free"
