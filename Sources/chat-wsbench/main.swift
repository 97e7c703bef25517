print("chat-wsbench: not written yet")
