/// The AsyncAPI 3.0 document of the realtime protocol on `GET /ws` (docs/realtime-protocol.md), served at
/// `GET /asyncapi.json`: every client and server message type with its fields. Edit it with the protocol.
enum AsyncAPIDocument {
    static let json = #"""
        {
          "asyncapi": "3.0.0",
          "info": {
            "title": "chat realtime protocol",
            "version": "1.0.0",
            "description": "One WebSocket per device at `GET /ws` (docs/realtime-protocol.md). Every frame is a JSON text message.\n\nClient → server: `{\"type\", \"id\"?, \"data\"}`; the reply carries `id` back as `data.ref`. Server → client: `{\"type\", \"sender_id\", \"timestamp\", \"data\"}`.\n\nEvery connection of a member receives NEW_MESSAGE, MESSAGE_UPDATED, MESSAGE_DELETED, REACTION and READ_RECEIPT for all of the user's rooms; JOIN_ROOM only makes the connection a viewer (USERS, USER_JOINED, USER_LEFT, TYPING). Rate limit: `realtime.messages_per_second` (20) with bursts of `realtime.messages_burst` (40), then ERROR rate_limited and close 1008. Close codes: 1000 normal, 1001 shutdown, 1008 flooding, 1009 message over `realtime.max_message_bytes`, 1013 slow consumer (reconnect and RESUME), 4001 token expired without AUTH within `realtime.auth_grace`."
          },
          "defaultContentType": "application/json",
          "servers": {
            "chat": {
              "host": "127.0.0.1:8080",
              "protocol": "ws",
              "pathname": "/ws",
              "description": "The server itself (use wss behind TLS). The host is the one serving this document.",
              "security": [
                {
                  "$ref": "#/components/securitySchemes/bearer"
                },
                {
                  "$ref": "#/components/securitySchemes/ticket"
                }
              ]
            }
          },
          "channels": {
            "realtime": {
              "address": "/ws",
              "title": "Realtime",
              "description": "The WebSocket. Refusals happen before the upgrade as JSON errors (see `GET /ws` in /openapi.json): 401 `unauthorized`, `invalid_token`, `invalid_ticket`, `token_in_url`; 403 `origin_not_allowed`; 426.",
              "messages": {
                "client.SEND_MESSAGE": {
                  "$ref": "#/components/messages/client.SEND_MESSAGE"
                },
                "client.JOIN_ROOM": {
                  "$ref": "#/components/messages/client.JOIN_ROOM"
                },
                "client.LEAVE_ROOM": {
                  "$ref": "#/components/messages/client.LEAVE_ROOM"
                },
                "client.TYPING": {
                  "$ref": "#/components/messages/client.TYPING"
                },
                "client.READ_RECEIPT": {
                  "$ref": "#/components/messages/client.READ_RECEIPT"
                },
                "client.PING": {
                  "$ref": "#/components/messages/client.PING"
                },
                "client.AUTH": {
                  "$ref": "#/components/messages/client.AUTH"
                },
                "client.RESUME": {
                  "$ref": "#/components/messages/client.RESUME"
                },
                "server.CONNECTED": {
                  "$ref": "#/components/messages/server.CONNECTED"
                },
                "server.ACK": {
                  "$ref": "#/components/messages/server.ACK"
                },
                "server.NEW_MESSAGE": {
                  "$ref": "#/components/messages/server.NEW_MESSAGE"
                },
                "server.MESSAGE_UPDATED": {
                  "$ref": "#/components/messages/server.MESSAGE_UPDATED"
                },
                "server.MESSAGE_DELETED": {
                  "$ref": "#/components/messages/server.MESSAGE_DELETED"
                },
                "server.REACTION": {
                  "$ref": "#/components/messages/server.REACTION"
                },
                "server.JOIN_SUCCESS": {
                  "$ref": "#/components/messages/server.JOIN_SUCCESS"
                },
                "server.LEAVE_SUCCESS": {
                  "$ref": "#/components/messages/server.LEAVE_SUCCESS"
                },
                "server.USERS": {
                  "$ref": "#/components/messages/server.USERS"
                },
                "server.USER_JOINED": {
                  "$ref": "#/components/messages/server.USER_JOINED"
                },
                "server.USER_LEFT": {
                  "$ref": "#/components/messages/server.USER_LEFT"
                },
                "server.TYPING": {
                  "$ref": "#/components/messages/server.TYPING"
                },
                "server.READ_RECEIPT": {
                  "$ref": "#/components/messages/server.READ_RECEIPT"
                },
                "server.PRESENCE": {
                  "$ref": "#/components/messages/server.PRESENCE"
                },
                "server.FRIEND_REQUEST": {
                  "$ref": "#/components/messages/server.FRIEND_REQUEST"
                },
                "server.FRIEND_REQUEST_ACCEPTED": {
                  "$ref": "#/components/messages/server.FRIEND_REQUEST_ACCEPTED"
                },
                "server.FRIEND_REQUEST_CANCELLED": {
                  "$ref": "#/components/messages/server.FRIEND_REQUEST_CANCELLED"
                },
                "server.FRIEND_REMOVED": {
                  "$ref": "#/components/messages/server.FRIEND_REMOVED"
                },
                "server.ROOM_ADDED": {
                  "$ref": "#/components/messages/server.ROOM_ADDED"
                },
                "server.ROOM_REMOVED": {
                  "$ref": "#/components/messages/server.ROOM_REMOVED"
                },
                "server.RESUMED": {
                  "$ref": "#/components/messages/server.RESUMED"
                },
                "server.AUTH_SUCCESS": {
                  "$ref": "#/components/messages/server.AUTH_SUCCESS"
                },
                "server.PONG": {
                  "$ref": "#/components/messages/server.PONG"
                },
                "server.ERROR": {
                  "$ref": "#/components/messages/server.ERROR"
                }
              },
              "bindings": {
                "ws": {
                  "method": "GET",
                  "query": {
                    "type": "object",
                    "properties": {
                      "ticket": {
                        "type": "string",
                        "description": "From POST /api/v1/ws/ticket (browsers)"
                      }
                    }
                  },
                  "bindingVersion": "0.1.0"
                }
              }
            }
          },
          "operations": {
            "onSendMessage": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends SEND_MESSAGE",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.SEND_MESSAGE"
                }
              ],
              "reply": {
                "channel": {
                  "$ref": "#/channels/realtime"
                },
                "messages": [
                  {
                    "$ref": "#/channels/realtime/messages/server.ACK"
                  },
                  {
                    "$ref": "#/channels/realtime/messages/server.ERROR"
                  }
                ]
              }
            },
            "onJoinRoom": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends JOIN_ROOM",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.JOIN_ROOM"
                }
              ],
              "reply": {
                "channel": {
                  "$ref": "#/channels/realtime"
                },
                "messages": [
                  {
                    "$ref": "#/channels/realtime/messages/server.JOIN_SUCCESS"
                  },
                  {
                    "$ref": "#/channels/realtime/messages/server.ERROR"
                  }
                ]
              }
            },
            "onLeaveRoom": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends LEAVE_ROOM",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.LEAVE_ROOM"
                }
              ],
              "reply": {
                "channel": {
                  "$ref": "#/channels/realtime"
                },
                "messages": [
                  {
                    "$ref": "#/channels/realtime/messages/server.LEAVE_SUCCESS"
                  },
                  {
                    "$ref": "#/channels/realtime/messages/server.ERROR"
                  }
                ]
              }
            },
            "onTyping": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends TYPING",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.TYPING"
                }
              ]
            },
            "onReadReceipt": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends READ_RECEIPT",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.READ_RECEIPT"
                }
              ]
            },
            "onPing": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends PING",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.PING"
                }
              ],
              "reply": {
                "channel": {
                  "$ref": "#/channels/realtime"
                },
                "messages": [
                  {
                    "$ref": "#/channels/realtime/messages/server.PONG"
                  }
                ]
              }
            },
            "onAuth": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends AUTH",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.AUTH"
                }
              ],
              "reply": {
                "channel": {
                  "$ref": "#/channels/realtime"
                },
                "messages": [
                  {
                    "$ref": "#/channels/realtime/messages/server.AUTH_SUCCESS"
                  },
                  {
                    "$ref": "#/channels/realtime/messages/server.ERROR"
                  }
                ]
              }
            },
            "onResume": {
              "action": "receive",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The client sends RESUME",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/client.RESUME"
                }
              ],
              "reply": {
                "channel": {
                  "$ref": "#/channels/realtime"
                },
                "messages": [
                  {
                    "$ref": "#/channels/realtime/messages/server.RESUMED"
                  },
                  {
                    "$ref": "#/channels/realtime/messages/server.ERROR"
                  }
                ]
              }
            },
            "sendConnected": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends CONNECTED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.CONNECTED"
                }
              ]
            },
            "sendAck": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends ACK",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.ACK"
                }
              ]
            },
            "sendNewMessage": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends NEW_MESSAGE",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.NEW_MESSAGE"
                }
              ]
            },
            "sendMessageUpdated": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends MESSAGE_UPDATED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.MESSAGE_UPDATED"
                }
              ]
            },
            "sendMessageDeleted": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends MESSAGE_DELETED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.MESSAGE_DELETED"
                }
              ]
            },
            "sendReaction": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends REACTION",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.REACTION"
                }
              ]
            },
            "sendJoinSuccess": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends JOIN_SUCCESS",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.JOIN_SUCCESS"
                }
              ]
            },
            "sendLeaveSuccess": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends LEAVE_SUCCESS",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.LEAVE_SUCCESS"
                }
              ]
            },
            "sendUsers": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends USERS",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.USERS"
                }
              ]
            },
            "sendUserJoined": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends USER_JOINED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.USER_JOINED"
                }
              ]
            },
            "sendUserLeft": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends USER_LEFT",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.USER_LEFT"
                }
              ]
            },
            "sendTyping": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends TYPING",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.TYPING"
                }
              ]
            },
            "sendReadReceipt": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends READ_RECEIPT",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.READ_RECEIPT"
                }
              ]
            },
            "sendPresence": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends PRESENCE",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.PRESENCE"
                }
              ]
            },
            "sendFriendRequest": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends FRIEND_REQUEST",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.FRIEND_REQUEST"
                }
              ]
            },
            "sendFriendRequestAccepted": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends FRIEND_REQUEST_ACCEPTED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.FRIEND_REQUEST_ACCEPTED"
                }
              ]
            },
            "sendFriendRequestCancelled": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends FRIEND_REQUEST_CANCELLED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.FRIEND_REQUEST_CANCELLED"
                }
              ]
            },
            "sendFriendRemoved": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends FRIEND_REMOVED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.FRIEND_REMOVED"
                }
              ]
            },
            "sendRoomAdded": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends ROOM_ADDED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.ROOM_ADDED"
                }
              ]
            },
            "sendRoomRemoved": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends ROOM_REMOVED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.ROOM_REMOVED"
                }
              ]
            },
            "sendResumed": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends RESUMED",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.RESUMED"
                }
              ]
            },
            "sendAuthSuccess": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends AUTH_SUCCESS",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.AUTH_SUCCESS"
                }
              ]
            },
            "sendPong": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends PONG",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.PONG"
                }
              ]
            },
            "sendError": {
              "action": "send",
              "channel": {
                "$ref": "#/channels/realtime"
              },
              "summary": "The server sends ERROR",
              "messages": [
                {
                  "$ref": "#/channels/realtime/messages/server.ERROR"
                }
              ]
            }
          },
          "components": {
            "schemas": {
              "RequestID": {
                "type": [
                  "string",
                  "integer"
                ],
                "maxLength": 64,
                "description": "Optional; echoed back as `data.ref` of the reply"
              },
              "Reaction": {
                "type": "object",
                "properties": {
                  "emoji": {
                    "type": "string"
                  },
                  "count": {
                    "type": "integer"
                  },
                  "me": {
                    "type": "boolean",
                    "description": "Absent in MESSAGE_UPDATED"
                  }
                },
                "required": [
                  "emoji",
                  "count"
                ]
              },
              "Attachment": {
                "type": "object",
                "properties": {
                  "public_id": {
                    "type": "string"
                  },
                  "resource_type": {
                    "type": "string"
                  },
                  "format": {
                    "type": "string"
                  },
                  "bytes": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "width": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "height": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "original_filename": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "url": {
                    "type": "string",
                    "description": "Signed delivery path on this server"
                  }
                },
                "required": [
                  "public_id",
                  "resource_type",
                  "format",
                  "bytes",
                  "width",
                  "height",
                  "original_filename",
                  "url"
                ]
              },
              "SystemEvent": {
                "type": "object",
                "properties": {
                  "type": {
                    "type": "string",
                    "enum": [
                      "room_created",
                      "members_added",
                      "member_removed",
                      "member_left",
                      "owner_changed",
                      "room_renamed",
                      "topic_changed",
                      "role_changed"
                    ]
                  },
                  "actor_id": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "user_ids": {
                    "type": "array",
                    "items": {
                      "type": "integer",
                      "format": "int64"
                    }
                  },
                  "detail": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                },
                "required": [
                  "type",
                  "actor_id",
                  "user_ids",
                  "detail"
                ]
              },
              "Message": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "room_id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "chat_room_id": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Same as room_id"
                  },
                  "seq": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Per-room, gap-free"
                  },
                  "sender_id": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "description": "null for system messages"
                  },
                  "kind": {
                    "type": "string",
                    "enum": [
                      "user",
                      "system"
                    ]
                  },
                  "content": {
                    "type": "string"
                  },
                  "mime_type": {
                    "type": "string"
                  },
                  "client_msg_id": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "reply_to": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "attachments": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Attachment"
                    }
                  },
                  "created_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "unix ms"
                  },
                  "edited_at": {
                    "type": [
                      "integer",
                      "null"
                    ]
                  },
                  "deleted": {
                    "type": "boolean"
                  },
                  "reactions": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Reaction"
                    }
                  },
                  "event": {
                    "$ref": "#/components/schemas/SystemEvent"
                  }
                },
                "required": [
                  "id",
                  "room_id",
                  "chat_room_id",
                  "seq",
                  "sender_id",
                  "kind",
                  "content",
                  "mime_type",
                  "client_msg_id",
                  "reply_to",
                  "attachments",
                  "created_at",
                  "edited_at",
                  "deleted",
                  "reactions"
                ],
                "description": "The stored message as REST returns it, plus `chat_room_id`; `event` on system messages only."
              }
            },
            "messages": {
              "client.SEND_MESSAGE": {
                "name": "SEND_MESSAGE",
                "title": "SEND_MESSAGE",
                "summary": "Send a message; answered by ACK once committed, or ERROR.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "SEND_MESSAGE"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "content": {
                          "type": "string"
                        },
                        "mime_type": {
                          "type": "string",
                          "default": "text/plain"
                        },
                        "client_msg_id": {
                          "type": "string"
                        },
                        "reply_to": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "attachments": {
                          "type": "array",
                          "items": {
                            "type": "string"
                          },
                          "maxItems": 10
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "content"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "send_message",
                    "payload": {
                      "type": "SEND_MESSAGE",
                      "id": "c1",
                      "data": {
                        "chat_room_id": 3,
                        "content": "hello",
                        "client_msg_id": "c-1"
                      }
                    }
                  }
                ]
              },
              "client.JOIN_ROOM": {
                "name": "JOIN_ROOM",
                "title": "JOIN_ROOM",
                "summary": "View a room: JOIN_SUCCESS then USERS; other viewers get USER_JOINED.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "JOIN_ROOM"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        }
                      },
                      "required": [
                        "chat_room_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "join_room",
                    "payload": {
                      "type": "JOIN_ROOM",
                      "id": "c1",
                      "data": {
                        "chat_room_id": 3
                      }
                    }
                  }
                ]
              },
              "client.LEAVE_ROOM": {
                "name": "LEAVE_ROOM",
                "title": "LEAVE_ROOM",
                "summary": "Stop viewing a room: LEAVE_SUCCESS; other viewers get USER_LEFT.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "LEAVE_ROOM"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        }
                      },
                      "required": [
                        "chat_room_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "leave_room",
                    "payload": {
                      "type": "LEAVE_ROOM",
                      "id": "c1",
                      "data": {
                        "chat_room_id": 3
                      }
                    }
                  }
                ]
              },
              "client.TYPING": {
                "name": "TYPING",
                "title": "TYPING",
                "summary": "Typing started or stopped; no reply, viewers get TYPING.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "TYPING"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "is_typing": {
                          "type": "boolean"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "is_typing"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "typing",
                    "payload": {
                      "type": "TYPING",
                      "id": "c1",
                      "data": {
                        "chat_room_id": 3,
                        "is_typing": true
                      }
                    }
                  }
                ]
              },
              "client.READ_RECEIPT": {
                "name": "READ_RECEIPT",
                "title": "READ_RECEIPT",
                "summary": "Move your read position; every member connection gets READ_RECEIPT when it moved.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "READ_RECEIPT"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "seq": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Your new read position"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "seq"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "read_receipt",
                    "payload": {
                      "type": "READ_RECEIPT",
                      "id": "c1",
                      "data": {
                        "chat_room_id": 3,
                        "seq": 12
                      }
                    }
                  }
                ]
              },
              "client.PING": {
                "name": "PING",
                "title": "PING",
                "summary": "Answered by PONG.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "PING"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object"
                    }
                  },
                  "required": [
                    "type"
                  ]
                },
                "examples": [
                  {
                    "name": "ping",
                    "payload": {
                      "type": "PING",
                      "id": "c1"
                    }
                  }
                ]
              },
              "client.AUTH": {
                "name": "AUTH",
                "title": "AUTH",
                "summary": "Re-authenticate before or after the token expires; AUTH_SUCCESS.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "AUTH"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "token": {
                          "type": "string",
                          "description": "A fresh access token of the same user"
                        }
                      },
                      "required": [
                        "token"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "auth",
                    "payload": {
                      "type": "AUTH",
                      "id": "c1",
                      "data": {
                        "token": "eyJ…"
                      }
                    }
                  }
                ]
              },
              "client.RESUME": {
                "name": "RESUME",
                "title": "RESUME",
                "summary": "Replay missed messages per room as NEW_MESSAGE, then RESUMED.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "RESUME"
                    },
                    "id": {
                      "$ref": "#/components/schemas/RequestID"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "rooms": {
                          "type": "object",
                          "additionalProperties": {
                            "type": "integer",
                            "format": "int64"
                          },
                          "description": "Room id (as a key) → the last seq you have"
                        }
                      },
                      "required": [
                        "rooms"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "resume",
                    "payload": {
                      "type": "RESUME",
                      "id": "c1",
                      "data": {
                        "rooms": {
                          "3": 10
                        }
                      }
                    }
                  }
                ]
              },
              "server.CONNECTED": {
                "name": "CONNECTED",
                "title": "CONNECTED",
                "summary": "Subscribed to all of the user's rooms; events flow from here on.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "CONNECTED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "session_id": {
                          "type": "string"
                        },
                        "rooms": {
                          "type": "array",
                          "items": {
                            "type": "integer",
                            "format": "int64"
                          }
                        },
                        "expires_at": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Token expiry, unix ms"
                        }
                      },
                      "required": [
                        "user_id",
                        "session_id",
                        "rooms",
                        "expires_at"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "connected",
                    "payload": {
                      "type": "CONNECTED",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "user_id": 7,
                        "session_id": "3f1c2d9a",
                        "rooms": [
                          3,
                          5
                        ],
                        "expires_at": 1764240900000
                      }
                    }
                  }
                ]
              },
              "server.ACK": {
                "name": "ACK",
                "title": "ACK",
                "summary": "SEND_MESSAGE committed.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "ACK"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "ref": {
                          "type": [
                            "string",
                            "integer",
                            "null"
                          ],
                          "maxLength": 64,
                          "description": "The `id` of the request this answers (null when it had none)"
                        },
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "client_msg_id": {
                          "type": [
                            "string",
                            "null"
                          ]
                        },
                        "message_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "seq": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "duplicate": {
                          "type": "boolean",
                          "description": "The client_msg_id was already used: the original's id and seq"
                        }
                      },
                      "required": [
                        "ref",
                        "chat_room_id",
                        "client_msg_id",
                        "message_id",
                        "seq",
                        "duplicate"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "ack",
                    "payload": {
                      "type": "ACK",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "ref": "c1",
                        "chat_room_id": 3,
                        "client_msg_id": "c-1",
                        "message_id": 42,
                        "seq": 12,
                        "duplicate": false
                      }
                    }
                  }
                ]
              },
              "server.NEW_MESSAGE": {
                "name": "NEW_MESSAGE",
                "title": "NEW_MESSAGE",
                "summary": "A message in one of the user's rooms (also system messages, and RESUME replays).",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "NEW_MESSAGE"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "$ref": "#/components/schemas/Message"
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "new_message",
                    "payload": {
                      "type": "NEW_MESSAGE",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "id": 42,
                        "room_id": 3,
                        "chat_room_id": 3,
                        "seq": 12,
                        "sender_id": 7,
                        "kind": "user",
                        "content": "hello",
                        "mime_type": "text/plain",
                        "client_msg_id": "c-1",
                        "reply_to": null,
                        "attachments": [],
                        "created_at": 1764240000000,
                        "edited_at": null,
                        "deleted": false,
                        "reactions": []
                      }
                    }
                  }
                ]
              },
              "server.MESSAGE_UPDATED": {
                "name": "MESSAGE_UPDATED",
                "title": "MESSAGE_UPDATED",
                "summary": "A message was edited (reactions without `me`).",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "MESSAGE_UPDATED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "$ref": "#/components/schemas/Message"
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "message_updated",
                    "payload": {
                      "type": "MESSAGE_UPDATED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "id": 42,
                        "room_id": 3,
                        "chat_room_id": 3,
                        "seq": 12,
                        "sender_id": 7,
                        "kind": "user",
                        "content": "hello!",
                        "mime_type": "text/plain",
                        "client_msg_id": "c-1",
                        "reply_to": null,
                        "attachments": [],
                        "created_at": 1764240000000,
                        "edited_at": 1764240060000,
                        "deleted": false,
                        "reactions": []
                      }
                    }
                  }
                ]
              },
              "server.MESSAGE_DELETED": {
                "name": "MESSAGE_DELETED",
                "title": "MESSAGE_DELETED",
                "summary": "A message was deleted (its seq stays, as a tombstone).",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "MESSAGE_DELETED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "message_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "seq": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "message_id",
                        "seq"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "message_deleted",
                    "payload": {
                      "type": "MESSAGE_DELETED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 3,
                        "message_id": 42,
                        "seq": 12
                      }
                    }
                  }
                ]
              },
              "server.REACTION": {
                "name": "REACTION",
                "title": "REACTION",
                "summary": "A reaction was added or taken back.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "REACTION"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "message_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "emoji": {
                          "type": "string"
                        },
                        "added": {
                          "type": "boolean"
                        },
                        "reactions": {
                          "type": "array",
                          "items": {
                            "type": "object",
                            "properties": {
                              "emoji": {
                                "type": "string"
                              },
                              "count": {
                                "type": "integer"
                              }
                            },
                            "required": [
                              "emoji",
                              "count"
                            ]
                          }
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "message_id",
                        "user_id",
                        "emoji",
                        "added",
                        "reactions"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "reaction",
                    "payload": {
                      "type": "REACTION",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 3,
                        "message_id": 42,
                        "user_id": 8,
                        "emoji": "👍",
                        "added": true,
                        "reactions": [
                          {
                            "emoji": "👍",
                            "count": 1
                          }
                        ]
                      }
                    }
                  }
                ]
              },
              "server.JOIN_SUCCESS": {
                "name": "JOIN_SUCCESS",
                "title": "JOIN_SUCCESS",
                "summary": "JOIN_ROOM done.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "JOIN_SUCCESS"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "ref": {
                          "type": [
                            "string",
                            "integer",
                            "null"
                          ],
                          "maxLength": 64,
                          "description": "The `id` of the request this answers (null when it had none)"
                        },
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "last_seq": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "ref",
                        "chat_room_id",
                        "last_seq"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "join_success",
                    "payload": {
                      "type": "JOIN_SUCCESS",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "ref": "c1",
                        "chat_room_id": 3,
                        "last_seq": 12
                      }
                    }
                  }
                ]
              },
              "server.LEAVE_SUCCESS": {
                "name": "LEAVE_SUCCESS",
                "title": "LEAVE_SUCCESS",
                "summary": "LEAVE_ROOM done.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "LEAVE_SUCCESS"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "ref": {
                          "type": [
                            "string",
                            "integer",
                            "null"
                          ],
                          "maxLength": 64,
                          "description": "The `id` of the request this answers (null when it had none)"
                        },
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        }
                      },
                      "required": [
                        "ref",
                        "chat_room_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "leave_success",
                    "payload": {
                      "type": "LEAVE_SUCCESS",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "ref": "c1",
                        "chat_room_id": 3
                      }
                    }
                  }
                ]
              },
              "server.USERS": {
                "name": "USERS",
                "title": "USERS",
                "summary": "Who views the room, after JOIN_SUCCESS.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "USERS"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "users": {
                          "type": "array",
                          "items": {
                            "type": "integer",
                            "format": "int64"
                          },
                          "description": "Users viewing the room now (the joiner included)"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "users"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "users",
                    "payload": {
                      "type": "USERS",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 3,
                        "users": [
                          7,
                          8
                        ]
                      }
                    }
                  }
                ]
              },
              "server.USER_JOINED": {
                "name": "USER_JOINED",
                "title": "USER_JOINED",
                "summary": "A user's first viewing connection joined.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "USER_JOINED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "user_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "user_joined",
                    "payload": {
                      "type": "USER_JOINED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 3,
                        "user_id": 8
                      }
                    }
                  }
                ]
              },
              "server.USER_LEFT": {
                "name": "USER_LEFT",
                "title": "USER_LEFT",
                "summary": "A user's last viewing connection left.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "USER_LEFT"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "user_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "user_left",
                    "payload": {
                      "type": "USER_LEFT",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 3,
                        "user_id": 8
                      }
                    }
                  }
                ]
              },
              "server.TYPING": {
                "name": "TYPING",
                "title": "TYPING",
                "summary": "A viewer started or stopped typing (stops by itself after `realtime.typing_timeout`).",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "TYPING"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "is_typing": {
                          "type": "boolean"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "user_id",
                        "is_typing"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "typing",
                    "payload": {
                      "type": "TYPING",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 3,
                        "user_id": 8,
                        "is_typing": true
                      }
                    }
                  }
                ]
              },
              "server.READ_RECEIPT": {
                "name": "READ_RECEIPT",
                "title": "READ_RECEIPT",
                "summary": "A member's read position moved.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "READ_RECEIPT"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "seq": {
                          "type": "integer",
                          "format": "int64",
                          "description": "The reader's new read position"
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "user_id",
                        "seq"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "read_receipt",
                    "payload": {
                      "type": "READ_RECEIPT",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 3,
                        "user_id": 8,
                        "seq": 12
                      }
                    }
                  }
                ]
              },
              "server.PRESENCE": {
                "name": "PRESENCE",
                "title": "PRESENCE",
                "summary": "A friend or co-member went online or offline.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "PRESENCE"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "status": {
                          "type": "string",
                          "enum": [
                            "online",
                            "offline"
                          ]
                        },
                        "last_seen_at": {
                          "type": [
                            "integer",
                            "null"
                          ],
                          "description": "unix ms; null while online"
                        }
                      },
                      "required": [
                        "user_id",
                        "status",
                        "last_seen_at"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "presence",
                    "payload": {
                      "type": "PRESENCE",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "user_id": 8,
                        "status": "online",
                        "last_seen_at": null
                      }
                    }
                  }
                ]
              },
              "server.FRIEND_REQUEST": {
                "name": "FRIEND_REQUEST",
                "title": "FRIEND_REQUEST",
                "summary": "To the addressee.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "FRIEND_REQUEST"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "request_id": {
                          "type": [
                            "integer",
                            "null"
                          ]
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Who asked"
                        }
                      },
                      "required": [
                        "request_id",
                        "user_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "friend_request",
                    "payload": {
                      "type": "FRIEND_REQUEST",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "request_id": 5,
                        "user_id": 8
                      }
                    }
                  }
                ]
              },
              "server.FRIEND_REQUEST_ACCEPTED": {
                "name": "FRIEND_REQUEST_ACCEPTED",
                "title": "FRIEND_REQUEST_ACCEPTED",
                "summary": "To the requester.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "FRIEND_REQUEST_ACCEPTED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "request_id": {
                          "type": [
                            "integer",
                            "null"
                          ]
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Who accepted"
                        }
                      },
                      "required": [
                        "request_id",
                        "user_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "friend_request_accepted",
                    "payload": {
                      "type": "FRIEND_REQUEST_ACCEPTED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "request_id": 5,
                        "user_id": 8
                      }
                    }
                  }
                ]
              },
              "server.FRIEND_REQUEST_CANCELLED": {
                "name": "FRIEND_REQUEST_CANCELLED",
                "title": "FRIEND_REQUEST_CANCELLED",
                "summary": "To the addressee.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "FRIEND_REQUEST_CANCELLED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "request_id": {
                          "type": [
                            "integer",
                            "null"
                          ]
                        },
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "request_id",
                        "user_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "friend_request_cancelled",
                    "payload": {
                      "type": "FRIEND_REQUEST_CANCELLED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "request_id": 5,
                        "user_id": 8
                      }
                    }
                  }
                ]
              },
              "server.FRIEND_REMOVED": {
                "name": "FRIEND_REMOVED",
                "title": "FRIEND_REMOVED",
                "summary": "To the other side of an unfriend.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "FRIEND_REMOVED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "user_id"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "friend_removed",
                    "payload": {
                      "type": "FRIEND_REMOVED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "user_id": 8
                      }
                    }
                  }
                ]
              },
              "server.ROOM_ADDED": {
                "name": "ROOM_ADDED",
                "title": "ROOM_ADDED",
                "summary": "The user became a member; fetch the room via REST.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "ROOM_ADDED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "kind": {
                          "type": "string",
                          "enum": [
                            "direct",
                            "group"
                          ]
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "kind"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "room_added",
                    "payload": {
                      "type": "ROOM_ADDED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 9,
                        "kind": "group"
                      }
                    }
                  }
                ]
              },
              "server.ROOM_REMOVED": {
                "name": "ROOM_REMOVED",
                "title": "ROOM_REMOVED",
                "summary": "The user is no longer a member.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "ROOM_REMOVED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "reason": {
                          "type": "string",
                          "enum": [
                            "removed",
                            "left",
                            "deleted"
                          ]
                        }
                      },
                      "required": [
                        "chat_room_id",
                        "reason"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "room_removed",
                    "payload": {
                      "type": "ROOM_REMOVED",
                      "sender_id": 7,
                      "timestamp": 1764240000000,
                      "data": {
                        "chat_room_id": 9,
                        "reason": "removed"
                      }
                    }
                  }
                ]
              },
              "server.RESUMED": {
                "name": "RESUMED",
                "title": "RESUMED",
                "summary": "The replay of one room is done.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "RESUMED"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "ref": {
                          "type": [
                            "string",
                            "integer",
                            "null"
                          ],
                          "maxLength": 64,
                          "description": "The `id` of the request this answers (null when it had none)"
                        },
                        "chat_room_id": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Room id"
                        },
                        "from_seq": {
                          "type": "integer",
                          "format": "int64",
                          "description": "last_seq + 1"
                        },
                        "to_seq": {
                          "type": "integer",
                          "format": "int64",
                          "description": "Last seq replayed, or last_seq if none"
                        },
                        "complete": {
                          "type": "boolean",
                          "description": "false: more than `realtime.resume_max` were missed; page the rest with GET /api/v1/rooms/{id}/messages?after_seq=to_seq"
                        }
                      },
                      "required": [
                        "ref",
                        "chat_room_id",
                        "from_seq",
                        "to_seq",
                        "complete"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "resumed",
                    "payload": {
                      "type": "RESUMED",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "ref": "c1",
                        "chat_room_id": 3,
                        "from_seq": 11,
                        "to_seq": 12,
                        "complete": true
                      }
                    }
                  }
                ]
              },
              "server.AUTH_SUCCESS": {
                "name": "AUTH_SUCCESS",
                "title": "AUTH_SUCCESS",
                "summary": "AUTH accepted.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "AUTH_SUCCESS"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "ref": {
                          "type": [
                            "string",
                            "integer",
                            "null"
                          ],
                          "maxLength": 64,
                          "description": "The `id` of the request this answers (null when it had none)"
                        },
                        "expires_at": {
                          "type": "integer",
                          "format": "int64",
                          "description": "New token expiry, unix ms"
                        }
                      },
                      "required": [
                        "ref",
                        "expires_at"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "auth_success",
                    "payload": {
                      "type": "AUTH_SUCCESS",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "ref": "c1",
                        "expires_at": 1764241800000
                      }
                    }
                  }
                ]
              },
              "server.PONG": {
                "name": "PONG",
                "title": "PONG",
                "summary": "Answer to PING.",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "PONG"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "ref": {
                          "type": [
                            "string",
                            "integer",
                            "null"
                          ],
                          "maxLength": 64,
                          "description": "The `id` of the request this answers (null when it had none)"
                        }
                      },
                      "required": [
                        "ref"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "pong",
                    "payload": {
                      "type": "PONG",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "ref": "c1"
                      }
                    }
                  }
                ]
              },
              "server.ERROR": {
                "name": "ERROR",
                "title": "ERROR",
                "summary": "A request failed, or the token expired (the connection stays open).",
                "contentType": "application/json",
                "payload": {
                  "type": "object",
                  "properties": {
                    "type": {
                      "const": "ERROR"
                    },
                    "sender_id": {
                      "type": [
                        "integer",
                        "null"
                      ],
                      "description": "The user whose action caused the event; null for the server's own replies"
                    },
                    "timestamp": {
                      "type": "integer",
                      "format": "int64",
                      "description": "unix ms when the server sent it"
                    },
                    "data": {
                      "type": "object",
                      "properties": {
                        "ref": {
                          "type": [
                            "string",
                            "integer",
                            "null"
                          ],
                          "maxLength": 64,
                          "description": "The `id` of the request this answers (null when it had none)"
                        },
                        "code": {
                          "type": "string",
                          "enum": [
                            "invalid_json",
                            "invalid_message",
                            "unknown_type",
                            "validation_failed",
                            "not_found",
                            "not_allowed",
                            "forbidden",
                            "rate_limited",
                            "invalid_token",
                            "token_expired",
                            "session_revoked",
                            "unavailable"
                          ]
                        },
                        "message": {
                          "type": "string"
                        },
                        "fields": {
                          "type": "object",
                          "additionalProperties": {
                            "type": "string"
                          }
                        }
                      },
                      "required": [
                        "ref",
                        "code",
                        "message"
                      ]
                    }
                  },
                  "required": [
                    "type",
                    "sender_id",
                    "timestamp",
                    "data"
                  ]
                },
                "examples": [
                  {
                    "name": "error",
                    "payload": {
                      "type": "ERROR",
                      "sender_id": null,
                      "timestamp": 1764240000000,
                      "data": {
                        "ref": "c1",
                        "code": "not_found",
                        "message": "No such room."
                      }
                    }
                  }
                ]
              }
            },
            "securitySchemes": {
              "bearer": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Authorization: Bearer <access token> on the handshake (native clients)."
              },
              "ticket": {
                "type": "httpApiKey",
                "name": "ticket",
                "in": "query",
                "description": "?ticket= from POST /api/v1/ws/ticket (browsers); 30 s, single use."
              }
            }
          }
        }
        """#
}
