"""Realtime protocol, durability (house rule 4 over the socket): an ACK means committed. Several clients send over
WebSockets as fast as their ACKs come back; the server is killed with SIGKILL mid-stream; after a restart on the
same data directory every acknowledged message is in the history with the acknowledged id and seq, seqs have no
gaps, and the clients can reconnect and resume. SIGTERM closes open connections with 1001."""

from __future__ import annotations

import signal
import threading
import time

from chathelpers import run_threads
from helpers import WAIT
from wshelpers import RT_ENV, WS, rt, start_rt  # noqa: F401


def test_acknowledged_messages_survive_kill_9(start_rt, start_auth_server):
    from chathelpers import Chat

    rt = start_rt()
    chat, server = rt.chat, rt.server
    users = chat.users(3, "sender")
    room = chat.group(users[0], users[1:], name="durable")["id"]
    acknowledged: dict[str, tuple[int, int]] = {}
    lock = threading.Lock()
    started = threading.Event()

    def sender(account, index):
        def run():
            ws = WS(server.port, token=chat.login_account(account).access, name=f"sender-{index}")
            number = 0
            try:
                while True:
                    number += 1
                    client_id = f"w{index}-{number}"
                    try:
                        id_ = ws.send("SEND_MESSAGE", {"chat_room_id": room, "content": f"durable {client_id}",
                                                       "client_msg_id": client_id})
                        reply = ws.reply(id_, "ACK", timeout=WAIT)
                    except Exception:  # noqa: BLE001 - fine once the server is being killed, a failure before
                        if killing.is_set():
                            return  # whatever was not acknowledged may be lost
                        raise
                    assert reply["type"] == "ACK", reply
                    with lock:
                        acknowledged[client_id] = (reply["data"]["message_id"], reply["data"]["seq"])
                        if len(acknowledged) >= 60:
                            started.set()
            finally:
                ws.close()

        return run

    killed = []
    killing = threading.Event()

    def killer():
        assert started.wait(30), "the senders never got going"
        time.sleep(0.3)  # kill while writes are in flight, not between them
        killing.set()
        server.kill()
        server.exit_observed = True
        killed.append(True)

    run_threads([sender(user, index) for index, user in enumerate(users * 2)] + [killer], timeout=90)
    assert killed and len(acknowledged) >= 60

    restarted = start_auth_server(env=RT_ENV, data_dir=server.data_dir)
    again = Chat(restarted)
    timeline = again.all_messages(users[0], room)  # the keys and the session are on disk too
    by_client = {m["client_msg_id"]: (m["id"], m["seq"]) for m in timeline if m["client_msg_id"]}
    lost = {cid: ack for cid, ack in acknowledged.items() if by_client.get(cid) != ack}
    assert not lost, f"{len(lost)} acknowledged messages lost or changed after kill -9: {list(lost.items())[:10]}"
    assert [m["seq"] for m in timeline] == list(range(1, len(timeline) + 1)), "seqs with gaps after the restart"

    # The clients reconnect and resume on the restarted server.
    ws = WS(restarted.port, token=users[1].access, name="back")
    try:
        id_ = ws.send("RESUME", {"rooms": {str(room): 0}})
        resumed = ws.expect("RESUMED", ref=id_)
        assert resumed["data"]["from_seq"] == 1
    finally:
        ws.close()
    assert not again.server_errors, again.server_errors


def test_sigterm_closes_connections_with_1001(rt):
    alice = rt.chat.user("alice")
    connections = [rt.connect(alice, f"device-{index}") for index in range(3)]
    rt.server.send_signal(signal.SIGTERM)
    for ws in connections:
        assert ws.expect_close() == 1001
    assert rt.server.wait_exit() == 0
