/// The OpenAPI 3.1 document of every REST route, served at `GET /openapi.json` (Swagger UI renders it at
/// `/swagger/index.html`). It is the single source of truth for the API's description: edit the JSON here when a
/// route changes. `OpenAPITests` fails when a registered route is missing from it, or it lists one that does not
/// exist; `make swagger` writes it to docs/openapi.json and validates it.
enum OpenAPIDocument {
    static let json = #"""
        {
          "openapi": "3.1.0",
          "info": {
            "title": "chat",
            "version": "1.0.0",
            "summary": "Self-hosted realtime chat server: REST API",
            "description": "REST API of `chat`. JSON in and out; ids are integers; times are unix milliseconds.\n\nAuthenticate with `Authorization: Bearer <access token>` (RS256 JWT from `/api/v1/auth/login`, 15 minutes; refresh with `/api/v1/auth/refresh`). Every failure is `{\"error\":{\"code\",\"message\",\"fields\"?}}` (the Cloudinary-compatible routes answer Cloudinary's `{\"error\":{\"message\"}}`). Besides the statuses listed per operation, any request can get the HTTP layer's errors in the same shape: 400 malformed request, 405 with `Allow`, 408 slow request, 413 body over `http.max_body`, 414, 431, 500, 501, 503 (over `server.max_connections` or `http.response_timeout`), 505. Authenticated routes share a per-user budget (`rate_limit.api_per_minute`, 429).\n\nThe realtime protocol on `GET /ws` is described by the AsyncAPI 3.0 document at `/asyncapi.json`. Files from `server.static_dir` are served for any other GET."
          },
          "servers": [
            {
              "url": "/",
              "description": "This server"
            }
          ],
          "security": [
            {
              "bearerAuth": []
            }
          ],
          "tags": [
            {
              "name": "auth"
            },
            {
              "name": "users"
            },
            {
              "name": "friends"
            },
            {
              "name": "blocks"
            },
            {
              "name": "rooms"
            },
            {
              "name": "members"
            },
            {
              "name": "messages"
            },
            {
              "name": "reactions"
            },
            {
              "name": "receipts"
            },
            {
              "name": "unread"
            },
            {
              "name": "search"
            },
            {
              "name": "uploads"
            },
            {
              "name": "realtime"
            },
            {
              "name": "cloudinary"
            },
            {
              "name": "health"
            },
            {
              "name": "docs"
            }
          ],
          "paths": {
            "/healthz": {
              "get": {
                "operationId": "health",
                "summary": "Liveness",
                "tags": [
                  "health"
                ],
                "responses": {
                  "200": {
                    "description": "The process is alive.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Status"
                        },
                        "example": {
                          "status": "ok"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/readyz": {
              "get": {
                "operationId": "ready",
                "summary": "Readiness: the database accepts a write",
                "tags": [
                  "health"
                ],
                "responses": {
                  "200": {
                    "description": "Ready.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Status"
                        },
                        "example": {
                          "status": "ready"
                        }
                      }
                    }
                  },
                  "503": {
                    "description": "The database does not accept writes (`not_ready`).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "not_ready",
                            "message": "The database did not answer a write within 2000 ms."
                          }
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/openapi.json": {
              "get": {
                "operationId": "openapi",
                "summary": "This OpenAPI document",
                "tags": [
                  "docs"
                ],
                "responses": {
                  "200": {
                    "description": "OpenAPI 3.1 document",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/asyncapi.json": {
              "get": {
                "operationId": "asyncapi",
                "summary": "The AsyncAPI 3.0 document of the `/ws` protocol",
                "tags": [
                  "docs"
                ],
                "responses": {
                  "200": {
                    "description": "AsyncAPI 3.0 document",
                    "content": {
                      "application/json": {
                        "schema": {
                          "type": "object"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/swagger": {
              "get": {
                "operationId": "swaggerRedirect",
                "summary": "Redirect to Swagger UI",
                "tags": [
                  "docs"
                ],
                "responses": {
                  "302": {
                    "description": "To `/swagger/index.html`",
                    "headers": {
                      "Location": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/swagger/index.html": {
              "get": {
                "operationId": "swaggerUI",
                "summary": "Swagger UI for this document",
                "tags": [
                  "docs"
                ],
                "responses": {
                  "200": {
                    "description": "HTML page loading Swagger UI from `docs.swagger_ui_url` or `/swagger/assets/`",
                    "content": {
                      "text/html": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/swagger/swagger-init.js": {
              "get": {
                "operationId": "swaggerInit",
                "summary": "Swagger UI start-up script",
                "tags": [
                  "docs"
                ],
                "responses": {
                  "200": {
                    "description": "JavaScript",
                    "content": {
                      "text/javascript": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/swagger/assets/{rest}": {
              "get": {
                "operationId": "swaggerAssets",
                "summary": "Swagger UI files from `docs.swagger_ui_dir`",
                "tags": [
                  "docs"
                ],
                "description": "404 when `docs.swagger_ui_dir` is not set.",
                "parameters": [
                  {
                    "name": "rest",
                    "in": "path",
                    "required": true,
                    "description": "File path inside the directory (may contain `/`)",
                    "schema": {
                      "type": "string"
                    },
                    "example": "swagger-ui.css"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The file",
                    "content": {
                      "*/*": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      }
                    }
                  },
                  "304": {
                    "description": "Not modified (`If-None-Match` / `If-Modified-Since`)"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  }
                },
                "security": []
              }
            },
            "/api/v1/auth/register": {
              "post": {
                "operationId": "register",
                "summary": "Create an account",
                "tags": [
                  "auth"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/RegisterRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Created and signed in.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Authenticated"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "409": {
                    "description": "`username_taken` or `email_taken`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "username_taken",
                            "message": "That username is taken."
                          }
                        }
                      }
                    }
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                },
                "security": []
              }
            },
            "/api/v1/auth/login": {
              "post": {
                "operationId": "login",
                "summary": "Sign in",
                "tags": [
                  "auth"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/LoginRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Signed in.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Authenticated"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "description": "`invalid_credentials`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "invalid_credentials",
                            "message": "Wrong login or password."
                          }
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "`account_disabled`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "account_disabled",
                            "message": "This account is disabled."
                          }
                        }
                      }
                    }
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                },
                "security": []
              }
            },
            "/api/v1/auth/refresh": {
              "post": {
                "operationId": "refresh",
                "summary": "Exchange a refresh token for a new pair",
                "tags": [
                  "auth"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/RefreshRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "New tokens; the old refresh token is spent.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Authenticated"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "description": "`invalid_refresh_token`, or `refresh_token_reused` (the whole session is ended).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "refresh_token_reused",
                            "message": "This refresh token was already used; the session has been ended for safety."
                          }
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "`account_disabled`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "account_disabled",
                            "message": "This account is disabled."
                          }
                        }
                      }
                    }
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                },
                "security": []
              }
            },
            "/api/v1/auth/logout": {
              "post": {
                "operationId": "logout",
                "summary": "End this session (and this access token at once)",
                "tags": [
                  "auth"
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/auth/logout-all": {
              "post": {
                "operationId": "logoutAll",
                "summary": "End every session",
                "tags": [
                  "auth"
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/auth/sessions": {
              "get": {
                "operationId": "listSessions",
                "summary": "Your sessions",
                "tags": [
                  "auth"
                ],
                "responses": {
                  "200": {
                    "description": "Sessions.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Sessions"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/auth/sessions/{id}": {
              "delete": {
                "operationId": "revokeSession",
                "summary": "End one of your sessions",
                "tags": [
                  "auth"
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "Session id",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/users/me": {
              "get": {
                "operationId": "getMe",
                "summary": "Your account",
                "tags": [
                  "users"
                ],
                "responses": {
                  "200": {
                    "description": "Your account.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Me"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "patch": {
                "operationId": "updateMe",
                "summary": "Update your profile",
                "tags": [
                  "users"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ProfileUpdate"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Updated.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Me"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "delete": {
                "operationId": "deleteMe",
                "summary": "Delete (anonymise) your account",
                "tags": [
                  "users"
                ],
                "description": "Needs the password; a wrong one is 401 `invalid_credentials`. Messages stay, shown as \"Deleted user\".",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PasswordConfirmation"
                      }
                    }
                  }
                },
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/users/me/password": {
              "put": {
                "operationId": "changePassword",
                "summary": "Change your password (ends every other session)",
                "tags": [
                  "users"
                ],
                "description": "A wrong `current_password` is 401 `invalid_credentials`.",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/PasswordChange"
                      }
                    }
                  }
                },
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/users/{id}": {
              "get": {
                "operationId": "getUser",
                "summary": "A public profile",
                "tags": [
                  "users"
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "User id",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1
                    },
                    "example": 3
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The profile.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Profile"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/users": {
              "get": {
                "operationId": "searchUsers",
                "summary": "Search users by username or display-name prefix",
                "tags": [
                  "users"
                ],
                "parameters": [
                  {
                    "name": "q",
                    "in": "query",
                    "required": false,
                    "description": "Prefix",
                    "schema": {
                      "type": "string"
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "1–100, default 20",
                    "schema": {
                      "type": "integer",
                      "minimum": 1,
                      "maximum": 100,
                      "default": 20
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "A page of users.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/UserPage"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/users/{id}/presence": {
              "get": {
                "operationId": "getPresence",
                "summary": "Online status of yourself, a friend or a co-member",
                "tags": [
                  "users"
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "User id",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1
                    },
                    "example": 3
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Presence.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Presence"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/.well-known/jwks.json": {
              "get": {
                "operationId": "jwks",
                "summary": "Public keys of the access tokens (RFC 7517)",
                "tags": [
                  "auth"
                ],
                "responses": {
                  "200": {
                    "description": "The key set.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/JWKSet"
                        }
                      }
                    },
                    "headers": {
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            },
            "/api/v1/friends/requests": {
              "post": {
                "operationId": "sendFriendRequest",
                "summary": "Ask a user to be friends",
                "tags": [
                  "friends"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/UserRef"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "They had already asked you: you are friends now.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/AcceptedFriend"
                        }
                      }
                    }
                  },
                  "201": {
                    "description": "Request sent.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/FriendRequest"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "get": {
                "operationId": "listFriendRequests",
                "summary": "Pending friend requests",
                "tags": [
                  "friends"
                ],
                "parameters": [
                  {
                    "name": "direction",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "string",
                      "enum": [
                        "incoming",
                        "outgoing"
                      ],
                      "default": "incoming"
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Requests.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/FriendRequests"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/friends/requests/{id}/accept": {
              "post": {
                "operationId": "acceptFriendRequest",
                "summary": "Accept a request sent to you",
                "tags": [
                  "friends"
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "Friend request id",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1
                    },
                    "example": 3
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Friends.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/AcceptedFriend"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/friends/requests/{id}/reject": {
              "post": {
                "operationId": "rejectFriendRequest",
                "summary": "Reject a request sent to you",
                "tags": [
                  "friends"
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "Friend request id",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1
                    },
                    "example": 3
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/friends/requests/{id}": {
              "delete": {
                "operationId": "cancelFriendRequest",
                "summary": "Cancel a request you sent",
                "tags": [
                  "friends"
                ],
                "parameters": [
                  {
                    "name": "id",
                    "in": "path",
                    "required": true,
                    "description": "Friend request id",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 1
                    },
                    "example": 3
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/friends": {
              "get": {
                "operationId": "listFriends",
                "summary": "Your friends",
                "tags": [
                  "friends"
                ],
                "responses": {
                  "200": {
                    "description": "Friends.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Friends"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/friends/{user_id}": {
              "delete": {
                "operationId": "unfriend",
                "summary": "Stop being friends",
                "tags": [
                  "friends"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/UserID"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/blocks/{user_id}": {
              "post": {
                "operationId": "blockUser",
                "summary": "Block a user",
                "tags": [
                  "blocks"
                ],
                "description": "A blocked user cannot ask you or message you, and sees you as not found. Blocking yourself is 422.",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/UserID"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "delete": {
                "operationId": "unblockUser",
                "summary": "Unblock a user",
                "tags": [
                  "blocks"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/UserID"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/blocks": {
              "get": {
                "operationId": "listBlocks",
                "summary": "Users you blocked",
                "tags": [
                  "blocks"
                ],
                "responses": {
                  "200": {
                    "description": "Blocks.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Blocks"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/direct": {
              "post": {
                "operationId": "openDirectRoom",
                "summary": "The direct room with a user (created on first use)",
                "tags": [
                  "rooms"
                ],
                "description": "Between friends (`chat.dm_policy = friends`) or anyone (`anyone`).",
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/UserRef"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Already existed.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Room"
                        }
                      }
                    }
                  },
                  "201": {
                    "description": "Created.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Room"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms": {
              "post": {
                "operationId": "createRoom",
                "summary": "Create a group",
                "tags": [
                  "rooms"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/CreateRoom"
                      }
                    }
                  }
                },
                "responses": {
                  "201": {
                    "description": "Created; you are its owner.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Room"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "get": {
                "operationId": "listRooms",
                "summary": "Your rooms, most recent activity first",
                "tags": [
                  "rooms"
                ],
                "responses": {
                  "200": {
                    "description": "Rooms.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Rooms"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}": {
              "get": {
                "operationId": "getRoom",
                "summary": "A room you are in",
                "tags": [
                  "rooms"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The room.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Room"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "patch": {
                "operationId": "updateRoom",
                "summary": "Rename or change the topic (owner, admin)",
                "tags": [
                  "rooms"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/UpdateRoom"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Updated.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Room"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "delete": {
                "operationId": "deleteRoom",
                "summary": "Delete a group (owner)",
                "tags": [
                  "rooms"
                ],
                "description": "A direct room cannot be deleted (422).",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}/members": {
              "get": {
                "operationId": "listMembers",
                "summary": "Members and roles",
                "tags": [
                  "members"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Members.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Members"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "post": {
                "operationId": "addMembers",
                "summary": "Add members (owner, admin)",
                "tags": [
                  "members"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/AddMembers"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The members now.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Members"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/Conflict"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}/members/{user_id}": {
              "delete": {
                "operationId": "removeMember",
                "summary": "Remove a member (owner, admin), or leave (yourself)",
                "tags": [
                  "members"
                ],
                "description": "Leaving hands ownership to the oldest admin, else the oldest member.",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  },
                  {
                    "$ref": "#/components/parameters/MemberID"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "patch": {
                "operationId": "setMemberRole",
                "summary": "Change a member's role (owner)",
                "tags": [
                  "members"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  },
                  {
                    "$ref": "#/components/parameters/MemberID"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/RoleChange"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The member.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Member"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}/messages": {
              "post": {
                "operationId": "sendMessage",
                "summary": "Send a message",
                "tags": [
                  "messages"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/SendMessage"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The same `client_msg_id` was sent before: the original.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Message"
                        }
                      }
                    }
                  },
                  "201": {
                    "description": "Stored, with its `seq`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Message"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "get": {
                "operationId": "listMessages",
                "summary": "History",
                "tags": [
                  "messages"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  },
                  {
                    "name": "before_seq",
                    "in": "query",
                    "required": false,
                    "description": "Messages before this seq, newest first (not with `after_seq`: 422)",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 0
                    }
                  },
                  {
                    "name": "after_seq",
                    "in": "query",
                    "required": false,
                    "description": "Messages after this seq, oldest first",
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 0
                    }
                  },
                  {
                    "name": "limit",
                    "in": "query",
                    "required": false,
                    "description": "Clamped to 1–`chat.history_page_max` (200); default 50",
                    "schema": {
                      "type": "integer",
                      "default": 50
                    }
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Newest first, or oldest first after `after_seq`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/History"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}/messages/{msg_id}": {
              "patch": {
                "operationId": "editMessage",
                "summary": "Edit your message",
                "tags": [
                  "messages"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  },
                  {
                    "$ref": "#/components/parameters/MessageID"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/EditMessage"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Edited.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Message"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "delete": {
                "operationId": "deleteMessage",
                "summary": "Delete a message (sender, owner or admin)",
                "tags": [
                  "messages"
                ],
                "description": "A tombstone keeps the seq.",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  },
                  {
                    "$ref": "#/components/parameters/MessageID"
                  }
                ],
                "responses": {
                  "204": {
                    "description": "Done; no body."
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}/messages/{msg_id}/reactions/{emoji}": {
              "put": {
                "operationId": "addReaction",
                "summary": "React",
                "tags": [
                  "reactions"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  },
                  {
                    "$ref": "#/components/parameters/MessageID"
                  },
                  {
                    "name": "emoji",
                    "in": "path",
                    "required": true,
                    "description": "The emoji (percent-encoded)",
                    "schema": {
                      "type": "string"
                    },
                    "example": "👍"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The message with its reactions.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Message"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              },
              "delete": {
                "operationId": "removeReaction",
                "summary": "Take a reaction back",
                "tags": [
                  "reactions"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  },
                  {
                    "$ref": "#/components/parameters/MessageID"
                  },
                  {
                    "name": "emoji",
                    "in": "path",
                    "required": true,
                    "description": "The emoji (percent-encoded)",
                    "schema": {
                      "type": "string"
                    },
                    "example": "👍"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The message with its reactions.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Message"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/Forbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}/read": {
              "post": {
                "operationId": "markRead",
                "summary": "Move your read position forward",
                "tags": [
                  "receipts"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/ReadRequest"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Your position.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/ReadPosition"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/rooms/{id}/receipts": {
              "get": {
                "operationId": "listReceipts",
                "summary": "Members' read positions",
                "tags": [
                  "receipts"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/RoomID"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Receipts.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Receipts"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/BadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/unread": {
              "get": {
                "operationId": "unread",
                "summary": "Unread counts of your rooms",
                "tags": [
                  "unread"
                ],
                "responses": {
                  "200": {
                    "description": "Unread counts.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Unread"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/search/messages": {
              "get": {
                "operationId": "searchMessages",
                "summary": "Full-text search over your rooms",
                "tags": [
                  "search"
                ],
                "parameters": [
                  {
                    "name": "q",
                    "in": "query",
                    "required": true,
                    "description": "Words, taken literally (1–1000 characters; missing or empty is 422)",
                    "schema": {
                      "type": "string",
                      "minLength": 1,
                      "maxLength": 1000
                    },
                    "example": "hello"
                  },
                  {
                    "name": "room_id",
                    "in": "query",
                    "required": false,
                    "schema": {
                      "type": "integer",
                      "format": "int64",
                      "minimum": 0
                    }
                  },
                  {
                    "$ref": "#/components/parameters/Limit"
                  },
                  {
                    "$ref": "#/components/parameters/Cursor"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "Results, best first.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/SearchResults"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/NotFound"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/uploads": {
              "post": {
                "operationId": "upload",
                "summary": "Upload a file for attachments or an avatar",
                "tags": [
                  "uploads"
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "multipart/form-data": {
                      "schema": {
                        "$ref": "#/components/schemas/UploadForm"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "Stored as an `authenticated` asset you own.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Upload"
                        }
                      }
                    }
                  },
                  "400": {
                    "description": "`invalid_upload` (not multipart, no file, bad data URI…) or a malformed multipart body.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "invalid_upload",
                            "message": "Missing required parameter - file"
                          }
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "413": {
                    "description": "Over `blobs.user_quota` or the size limit (`too_large`).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "too_large",
                            "message": "File size too large. Maximum is 20971520 bytes"
                          }
                        }
                      }
                    }
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/api/v1/ws/ticket": {
              "post": {
                "operationId": "wsTicket",
                "summary": "A single-use ticket for `GET /ws?ticket=` (browsers)",
                "tags": [
                  "realtime"
                ],
                "responses": {
                  "201": {
                    "description": "Valid `realtime.ticket_ttl` (30 s), for one connection.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Ticket"
                        }
                      }
                    }
                  },
                  "401": {
                    "$ref": "#/components/responses/Unauthorized"
                  },
                  "429": {
                    "$ref": "#/components/responses/RateLimited"
                  }
                }
              }
            },
            "/ws": {
              "get": {
                "operationId": "websocket",
                "summary": "The realtime WebSocket",
                "tags": [
                  "realtime"
                ],
                "description": "Upgrade to WebSocket (RFC 6455, version 13) with `Authorization: Bearer <access token>` or `?ticket=`. Messages both ways are described by the AsyncAPI 3.0 document at [`/asyncapi.json`](/asyncapi.json).",
                "parameters": [
                  {
                    "name": "ticket",
                    "in": "query",
                    "required": false,
                    "description": "From `POST /api/v1/ws/ticket` (instead of the Authorization header)",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "responses": {
                  "101": {
                    "description": "Switching Protocols: the WebSocket is open. The protocol is the AsyncAPI document at `/asyncapi.json` (docs/realtime-protocol.md)."
                  },
                  "400": {
                    "description": "Malformed handshake (`invalid_websocket_handshake`).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "invalid_websocket_handshake",
                            "message": "Sec-WebSocket-Key is missing or invalid."
                          }
                        }
                      }
                    }
                  },
                  "401": {
                    "description": "`unauthorized` (no credentials), `invalid_token`, `invalid_ticket`, `token_in_url` (`?token=`/`?access_token=` are always refused).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "invalid_ticket",
                            "message": "The ticket is unknown, used or expired; get a new one from POST /api/v1/ws/ticket."
                          }
                        }
                      }
                    },
                    "headers": {
                      "WWW-Authenticate": {
                        "description": "`Bearer` (RFC 6750)",
                        "schema": {
                          "type": "string"
                        }
                      }
                    }
                  },
                  "403": {
                    "description": "`origin_not_allowed`: a browser `Origin` that is neither this server nor in `cors.allowed_origins`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "origin_not_allowed",
                            "message": "WebSocket connections from this origin are refused."
                          }
                        }
                      }
                    }
                  },
                  "426": {
                    "description": "Not a WebSocket request (`upgrade_required`), or a version other than 13 (`unsupported_websocket_version`).",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "upgrade_required",
                            "message": "This endpoint only speaks WebSocket."
                          }
                        }
                      }
                    }
                  }
                },
                "security": [
                  {
                    "bearerAuth": []
                  },
                  {
                    "wsTicket": []
                  }
                ]
              }
            },
            "/v1_1/{cloud}/{resource_type}/upload": {
              "post": {
                "operationId": "cloudinaryUpload",
                "summary": "Cloudinary Upload API: upload (or one chunk of `upload_large`)",
                "tags": [
                  "cloudinary"
                ],
                "description": "Signed (`api_key`, `timestamp`, `signature`), HTTP Basic `api_key:api_secret`, or an unsigned `upload_preset`. See docs/blobs.md.",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Cloud"
                  },
                  {
                    "$ref": "#/components/parameters/ResourceType"
                  },
                  {
                    "name": "Content-Range",
                    "in": "header",
                    "required": false,
                    "description": "`bytes a-b/total`: one chunk of a chunked upload",
                    "schema": {
                      "type": "string",
                      "pattern": "^bytes [0-9]+-[0-9]+/[0-9]+$"
                    }
                  },
                  {
                    "name": "X-Unique-Upload-Id",
                    "in": "header",
                    "required": false,
                    "description": "Identifies a chunked upload",
                    "schema": {
                      "type": "string"
                    }
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "multipart/form-data": {
                      "schema": {
                        "$ref": "#/components/schemas/CloudinaryUploadForm"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "The stored asset, or for an intermediate chunk its progress.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "oneOf": [
                            {
                              "$ref": "#/components/schemas/Upload"
                            },
                            {
                              "$ref": "#/components/schemas/ChunkProgress"
                            }
                          ]
                        },
                        "example": {
                          "asset_id": "3a1f0c1e2d3b4a5968778695a4b3c2d1",
                          "public_id": "vacation/beach",
                          "version": 1764240000,
                          "version_id": "0c1e2d3b4a5968778695a4b3c2d1e0f",
                          "signature": "5b2f6c3a1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b",
                          "width": 640,
                          "height": 480,
                          "format": "png",
                          "resource_type": "image",
                          "created_at": "2026-11-27T13:00:00Z",
                          "tags": [],
                          "bytes": 120345,
                          "type": "upload",
                          "etag": "d41d8cd98f00b204e9800998ecf8427e",
                          "placeholder": false,
                          "url": "http://127.0.0.1:8080/local/image/upload/v1764240000/vacation/beach.png",
                          "secure_url": "https://127.0.0.1:8080/local/image/upload/v1764240000/vacation/beach.png",
                          "folder": "vacation",
                          "original_filename": "beach",
                          "api_key": "614335564976464"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/CloudinaryBadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/CloudinaryUnauthorized"
                  },
                  "403": {
                    "$ref": "#/components/responses/CloudinaryForbidden"
                  },
                  "404": {
                    "$ref": "#/components/responses/CloudinaryNotFound"
                  },
                  "409": {
                    "$ref": "#/components/responses/CloudinaryConflict"
                  },
                  "413": {
                    "description": "Body over the largest upload size.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "payload_too_large",
                            "message": "The request body is too large."
                          }
                        }
                      }
                    }
                  }
                },
                "security": [
                  {},
                  {
                    "cloudinaryBasic": []
                  }
                ]
              }
            },
            "/v1_1/{cloud}/{resource_type}/destroy": {
              "post": {
                "operationId": "cloudinaryDestroy",
                "summary": "Cloudinary Upload API: destroy an asset",
                "tags": [
                  "cloudinary"
                ],
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Cloud"
                  },
                  {
                    "$ref": "#/components/parameters/ResourceType"
                  }
                ],
                "requestBody": {
                  "required": true,
                  "content": {
                    "multipart/form-data": {
                      "schema": {
                        "$ref": "#/components/schemas/CloudinaryDestroyForm"
                      }
                    },
                    "application/x-www-form-urlencoded": {
                      "schema": {
                        "$ref": "#/components/schemas/CloudinaryDestroyForm"
                      }
                    },
                    "application/json": {
                      "schema": {
                        "$ref": "#/components/schemas/CloudinaryDestroyForm"
                      }
                    }
                  }
                },
                "responses": {
                  "200": {
                    "description": "`ok`, or `not found`.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/DestroyResult"
                        }
                      }
                    }
                  },
                  "400": {
                    "$ref": "#/components/responses/CloudinaryBadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/CloudinaryUnauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/CloudinaryNotFound"
                  },
                  "415": {
                    "$ref": "#/components/responses/UnsupportedMediaType"
                  },
                  "422": {
                    "$ref": "#/components/responses/ValidationFailed"
                  }
                },
                "security": [
                  {},
                  {
                    "cloudinaryBasic": []
                  }
                ]
              }
            },
            "/{cloud}/{resource_type}/{type}/{rest}": {
              "get": {
                "operationId": "deliver",
                "summary": "Delivery of an asset",
                "tags": [
                  "cloudinary"
                ],
                "description": "Paths whose first segment is not the cloud name fall through to the static files (`server.static_dir`). Transformations are not rendered (400).",
                "parameters": [
                  {
                    "$ref": "#/components/parameters/Cloud"
                  },
                  {
                    "name": "resource_type",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "enum": [
                        "image",
                        "video",
                        "raw"
                      ]
                    }
                  },
                  {
                    "name": "type",
                    "in": "path",
                    "required": true,
                    "schema": {
                      "type": "string",
                      "enum": [
                        "upload",
                        "authenticated"
                      ]
                    }
                  },
                  {
                    "name": "rest",
                    "in": "path",
                    "required": true,
                    "description": "`[s--SIG--/][v<version>/]<public_id>[.<format>]` (may contain `/`)",
                    "schema": {
                      "type": "string"
                    },
                    "example": "v1764240000/vacation/beach.png"
                  }
                ],
                "responses": {
                  "200": {
                    "description": "The file (`Content-Disposition: attachment` for raw files; `immutable` caching for versioned URLs).",
                    "headers": {
                      "ETag": {
                        "schema": {
                          "type": "string"
                        }
                      },
                      "Cache-Control": {
                        "schema": {
                          "type": "string"
                        }
                      }
                    },
                    "content": {
                      "*/*": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      }
                    }
                  },
                  "206": {
                    "description": "A byte range",
                    "content": {
                      "*/*": {
                        "schema": {
                          "type": "string",
                          "format": "binary"
                        }
                      }
                    }
                  },
                  "304": {
                    "description": "Not modified"
                  },
                  "400": {
                    "$ref": "#/components/responses/CloudinaryBadRequest"
                  },
                  "401": {
                    "$ref": "#/components/responses/CloudinaryUnauthorized"
                  },
                  "404": {
                    "$ref": "#/components/responses/CloudinaryNotFound"
                  },
                  "416": {
                    "description": "Range not satisfiable.",
                    "content": {
                      "application/json": {
                        "schema": {
                          "$ref": "#/components/schemas/Error"
                        },
                        "example": {
                          "error": {
                            "code": "range_not_satisfiable",
                            "message": "The range is outside the file."
                          }
                        }
                      }
                    }
                  }
                },
                "security": []
              }
            }
          },
          "components": {
            "securitySchemes": {
              "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "Access token from `POST /api/v1/auth/login`, `register` or `refresh`."
              },
              "wsTicket": {
                "type": "apiKey",
                "in": "query",
                "name": "ticket",
                "description": "`GET /ws` only: a ticket from `POST /api/v1/ws/ticket`."
              },
              "cloudinaryBasic": {
                "type": "http",
                "scheme": "basic",
                "description": "Cloudinary routes: `api_key:api_secret` (`chat blobs credentials`)."
              }
            },
            "schemas": {
              "Error": {
                "type": "object",
                "properties": {
                  "error": {
                    "type": "object",
                    "properties": {
                      "code": {
                        "type": "string",
                        "pattern": "^[a-z][a-z0-9_]*$",
                        "description": "Machine-readable code, e.g. `validation_failed`, `not_found`, `invalid_token`."
                      },
                      "message": {
                        "type": "string",
                        "description": "Human-readable explanation."
                      },
                      "fields": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "string"
                        },
                        "description": "Per-field problems (validation failures only)."
                      }
                    },
                    "required": [
                      "code",
                      "message"
                    ]
                  }
                },
                "required": [
                  "error"
                ],
                "description": "Every API failure: `{\"error\":{\"code\",\"message\",\"fields\"?}}`.",
                "example": {
                  "error": {
                    "code": "validation_failed",
                    "message": "Some fields are invalid.",
                    "fields": {
                      "username": "must be 3 to 32 characters"
                    }
                  }
                }
              },
              "CloudinaryError": {
                "type": "object",
                "properties": {
                  "error": {
                    "type": "object",
                    "properties": {
                      "message": {
                        "type": "string",
                        "description": "Cloudinary's error text, e.g. `Invalid Signature …` or `Stale request …`."
                      },
                      "code": {
                        "type": "string",
                        "description": "Present when the failure happened before the Cloudinary handler (HTTP-level errors such as a malformed multipart body)."
                      }
                    },
                    "required": [
                      "message"
                    ]
                  }
                },
                "required": [
                  "error"
                ],
                "description": "Failures of the Cloudinary-compatible routes, shaped as Cloudinary's: `{\"error\":{\"message\"}}`.",
                "example": {
                  "error": {
                    "message": "Invalid Signature 0f3e…. String to sign - 'public_id=x&timestamp=1764240000'."
                  }
                }
              },
              "Me": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "username": {
                    "type": "string"
                  },
                  "email": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "null for a deleted account"
                  },
                  "display_name": {
                    "type": "string"
                  },
                  "bio": {
                    "type": "string"
                  },
                  "avatar_url": {
                    "type": "string",
                    "description": "Absolute URL, or empty"
                  },
                  "is_admin": {
                    "type": "boolean"
                  },
                  "created_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Account creation (unix milliseconds)"
                  },
                  "updated_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Last profile change (unix milliseconds)"
                  }
                },
                "required": [
                  "id",
                  "username",
                  "email",
                  "display_name",
                  "bio",
                  "avatar_url",
                  "is_admin",
                  "created_at",
                  "updated_at"
                ],
                "description": "Your own account.",
                "example": {
                  "id": 7,
                  "username": "ann",
                  "email": "ann@example.com",
                  "display_name": "Ann",
                  "bio": "",
                  "avatar_url": "",
                  "is_admin": false,
                  "created_at": 1764240000000,
                  "updated_at": 1764240000000
                }
              },
              "Profile": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "username": {
                    "type": "string",
                    "description": "`deleted-<id>` for a deleted account"
                  },
                  "display_name": {
                    "type": "string"
                  },
                  "bio": {
                    "type": "string"
                  },
                  "avatar_url": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Account creation (unix milliseconds)"
                  },
                  "deleted": {
                    "type": "boolean"
                  }
                },
                "required": [
                  "id",
                  "username",
                  "display_name",
                  "bio",
                  "avatar_url",
                  "created_at",
                  "deleted"
                ],
                "description": "A user as others see them.",
                "example": {
                  "id": 7,
                  "username": "ann",
                  "display_name": "Ann",
                  "bio": "",
                  "avatar_url": "",
                  "created_at": 1764240000000,
                  "deleted": false
                }
              },
              "Tokens": {
                "type": "object",
                "properties": {
                  "access_token": {
                    "type": "string",
                    "description": "JWT (RS256), send as `Authorization: Bearer <token>`"
                  },
                  "token_type": {
                    "type": "string",
                    "enum": [
                      "Bearer"
                    ]
                  },
                  "expires_in": {
                    "type": "integer",
                    "description": "Seconds until the access token expires"
                  },
                  "refresh_token": {
                    "type": "string",
                    "description": "Opaque; spend it once at `POST /api/v1/auth/refresh`"
                  },
                  "refresh_expires_in": {
                    "type": "integer",
                    "description": "Seconds until the refresh token expires"
                  },
                  "session_id": {
                    "type": "string"
                  }
                },
                "required": [
                  "access_token",
                  "token_type",
                  "expires_in",
                  "refresh_token",
                  "refresh_expires_in",
                  "session_id"
                ],
                "example": {
                  "access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJl",
                  "token_type": "Bearer",
                  "expires_in": 900,
                  "refresh_token": "9h0J2fQyq3lq0m0Yp6bC0Qm2kq5W5lQ0lKJ3bq1yv6A",
                  "refresh_expires_in": 2592000,
                  "session_id": "3f1c2d9a8b7e6f50"
                }
              },
              "Authenticated": {
                "type": "object",
                "properties": {
                  "user": {
                    "$ref": "#/components/schemas/Me"
                  },
                  "tokens": {
                    "$ref": "#/components/schemas/Tokens"
                  }
                },
                "required": [
                  "user",
                  "tokens"
                ],
                "example": {
                  "user": {
                    "id": 7,
                    "username": "ann",
                    "email": "ann@example.com",
                    "display_name": "Ann",
                    "bio": "",
                    "avatar_url": "",
                    "is_admin": false,
                    "created_at": 1764240000000,
                    "updated_at": 1764240000000
                  },
                  "tokens": {
                    "access_token": "eyJhbGciOiJSUzI1NiIsImtpZCI6Ii4uLiJ9.eyJzdWIiOiI3In0.c2lnbmF0dXJl",
                    "token_type": "Bearer",
                    "expires_in": 900,
                    "refresh_token": "9h0J2fQyq3lq0m0Yp6bC0Qm2kq5W5lQ0lKJ3bq1yv6A",
                    "refresh_expires_in": 2592000,
                    "session_id": "3f1c2d9a8b7e6f50"
                  }
                }
              },
              "Session": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "string"
                  },
                  "device": {
                    "type": "string",
                    "description": "User-Agent of the client that signed in"
                  },
                  "ip": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Sign-in (unix milliseconds)"
                  },
                  "last_used_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Last refresh (unix milliseconds)"
                  },
                  "current": {
                    "type": "boolean",
                    "description": "This request's session"
                  }
                },
                "required": [
                  "id",
                  "device",
                  "ip",
                  "created_at",
                  "last_used_at",
                  "current"
                ]
              },
              "Sessions": {
                "type": "object",
                "properties": {
                  "sessions": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Session"
                    }
                  }
                },
                "required": [
                  "sessions"
                ]
              },
              "UserPage": {
                "type": "object",
                "properties": {
                  "users": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Profile"
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "Pass as `cursor` for the next page; null on the last page"
                  }
                },
                "required": [
                  "users",
                  "next_cursor"
                ],
                "example": {
                  "users": [
                    {
                      "id": 7,
                      "username": "ann",
                      "display_name": "Ann",
                      "bio": "",
                      "avatar_url": "",
                      "created_at": 1764240000000,
                      "deleted": false
                    }
                  ],
                  "next_cursor": null
                }
              },
              "JWK": {
                "type": "object",
                "properties": {
                  "kty": {
                    "type": "string",
                    "enum": [
                      "RSA"
                    ]
                  },
                  "use": {
                    "type": "string"
                  },
                  "alg": {
                    "type": "string"
                  },
                  "kid": {
                    "type": "string"
                  },
                  "n": {
                    "type": "string",
                    "description": "Modulus (base64url)"
                  },
                  "e": {
                    "type": "string",
                    "description": "Exponent (base64url)"
                  }
                },
                "required": [
                  "kty",
                  "kid",
                  "n",
                  "e"
                ]
              },
              "JWKSet": {
                "type": "object",
                "properties": {
                  "keys": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/JWK"
                    }
                  }
                },
                "required": [
                  "keys"
                ],
                "description": "RFC 7517 key set: the public keys that verify access tokens."
              },
              "FriendRequest": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "from": {
                    "$ref": "#/components/schemas/Profile"
                  },
                  "to": {
                    "$ref": "#/components/schemas/Profile"
                  },
                  "created_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Sent (unix milliseconds)"
                  }
                },
                "required": [
                  "id",
                  "from",
                  "to",
                  "created_at"
                ],
                "example": {
                  "id": 5,
                  "from": {
                    "id": 7,
                    "username": "ann",
                    "display_name": "Ann",
                    "bio": "",
                    "avatar_url": "",
                    "created_at": 1764240000000,
                    "deleted": false
                  },
                  "to": {
                    "id": 8,
                    "username": "bob",
                    "display_name": "Bob",
                    "bio": "",
                    "avatar_url": "",
                    "created_at": 1764240000000,
                    "deleted": false
                  },
                  "created_at": 1764240000000
                }
              },
              "FriendRequests": {
                "type": "object",
                "properties": {
                  "requests": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/FriendRequest"
                    }
                  }
                },
                "required": [
                  "requests"
                ]
              },
              "Friend": {
                "type": "object",
                "properties": {
                  "user": {
                    "$ref": "#/components/schemas/Profile"
                  },
                  "since": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Friends since (unix milliseconds)"
                  }
                },
                "required": [
                  "user",
                  "since"
                ]
              },
              "AcceptedFriend": {
                "type": "object",
                "properties": {
                  "friend": {
                    "$ref": "#/components/schemas/Friend"
                  }
                },
                "required": [
                  "friend"
                ],
                "description": "The request was accepted (or both sides asked): you are friends."
              },
              "Friends": {
                "type": "object",
                "properties": {
                  "friends": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Friend"
                    }
                  }
                },
                "required": [
                  "friends"
                ]
              },
              "Block": {
                "type": "object",
                "properties": {
                  "user": {
                    "$ref": "#/components/schemas/Profile"
                  },
                  "created_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Blocked at (unix milliseconds)"
                  }
                },
                "required": [
                  "user",
                  "created_at"
                ]
              },
              "Blocks": {
                "type": "object",
                "properties": {
                  "blocks": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Block"
                    }
                  }
                },
                "required": [
                  "blocks"
                ]
              },
              "Reaction": {
                "type": "object",
                "properties": {
                  "emoji": {
                    "type": "string"
                  },
                  "count": {
                    "type": "integer",
                    "minimum": 1
                  },
                  "me": {
                    "type": "boolean",
                    "description": "You reacted with it"
                  }
                },
                "required": [
                  "emoji",
                  "count",
                  "me"
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
                    ],
                    "description": "What happened"
                  },
                  "actor_id": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "format": "int64"
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
                    ],
                    "description": "New name, topic or role"
                  }
                },
                "required": [
                  "type",
                  "actor_id",
                  "user_ids",
                  "detail"
                ],
                "description": "What a system message records."
              },
              "Attachment": {
                "type": "object",
                "properties": {
                  "public_id": {
                    "type": "string"
                  },
                  "resource_type": {
                    "type": "string",
                    "enum": [
                      "image",
                      "video",
                      "raw"
                    ]
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
                    "description": "Signed delivery path on this server, e.g. `/local/image/authenticated/s--AbCd1234--/v1764240000/abc.png`"
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
                  "seq": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Per-room sequence number, gap-free"
                  },
                  "sender_id": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "format": "int64",
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
                    "type": "string",
                    "description": "\"\" once deleted"
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
                    ],
                    "format": "int64"
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
                    "description": "Sent (unix milliseconds)"
                  },
                  "edited_at": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "format": "int64"
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
                "description": "A message; `event` only on system messages.",
                "example": {
                  "id": 42,
                  "room_id": 3,
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
                  "reactions": [
                    {
                      "emoji": "👍",
                      "count": 1,
                      "me": true
                    }
                  ]
                }
              },
              "Room": {
                "type": "object",
                "properties": {
                  "id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "kind": {
                    "type": "string",
                    "enum": [
                      "direct",
                      "group"
                    ]
                  },
                  "name": {
                    "type": "string",
                    "description": "\"\" for direct rooms"
                  },
                  "topic": {
                    "type": "string"
                  },
                  "created_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Created (unix milliseconds)"
                  },
                  "last_activity_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Newest message (unix milliseconds)"
                  },
                  "member_count": {
                    "type": "integer"
                  },
                  "role": {
                    "type": "string",
                    "enum": [
                      "owner",
                      "admin",
                      "member"
                    ],
                    "description": "Your role"
                  },
                  "last_seq": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "last_read_seq": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "unread_count": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "last_message": {
                    "oneOf": [
                      {
                        "$ref": "#/components/schemas/Message"
                      },
                      {
                        "type": "null"
                      }
                    ]
                  },
                  "peer": {
                    "oneOf": [
                      {
                        "$ref": "#/components/schemas/Profile"
                      },
                      {
                        "type": "null"
                      }
                    ],
                    "description": "The other member of a direct room"
                  }
                },
                "required": [
                  "id",
                  "kind",
                  "name",
                  "topic",
                  "created_at",
                  "last_activity_at",
                  "member_count",
                  "role",
                  "last_seq",
                  "last_read_seq",
                  "unread_count",
                  "last_message",
                  "peer"
                ],
                "example": {
                  "id": 3,
                  "kind": "group",
                  "name": "Team",
                  "topic": "Daily chat",
                  "created_at": 1764240000000,
                  "last_activity_at": 1764240000000,
                  "member_count": 3,
                  "role": "owner",
                  "last_seq": 12,
                  "last_read_seq": 12,
                  "unread_count": 0,
                  "last_message": {
                    "id": 42,
                    "room_id": 3,
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
                    "reactions": [
                      {
                        "emoji": "👍",
                        "count": 1,
                        "me": true
                      }
                    ]
                  },
                  "peer": null
                }
              },
              "Rooms": {
                "type": "object",
                "properties": {
                  "rooms": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Room"
                    }
                  }
                },
                "required": [
                  "rooms"
                ]
              },
              "Member": {
                "type": "object",
                "properties": {
                  "user": {
                    "$ref": "#/components/schemas/Profile"
                  },
                  "role": {
                    "type": "string",
                    "enum": [
                      "owner",
                      "admin",
                      "member"
                    ]
                  },
                  "joined_at": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Joined (unix milliseconds)"
                  },
                  "last_read_seq": {
                    "type": "integer",
                    "format": "int64"
                  }
                },
                "required": [
                  "user",
                  "role",
                  "joined_at",
                  "last_read_seq"
                ]
              },
              "Members": {
                "type": "object",
                "properties": {
                  "members": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Member"
                    }
                  }
                },
                "required": [
                  "members"
                ]
              },
              "History": {
                "type": "object",
                "properties": {
                  "messages": {
                    "type": "array",
                    "items": {
                      "$ref": "#/components/schemas/Message"
                    }
                  },
                  "has_more": {
                    "type": "boolean"
                  }
                },
                "required": [
                  "messages",
                  "has_more"
                ],
                "example": {
                  "messages": [
                    {
                      "id": 42,
                      "room_id": 3,
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
                      "reactions": [
                        {
                          "emoji": "👍",
                          "count": 1,
                          "me": true
                        }
                      ]
                    }
                  ],
                  "has_more": false
                }
              },
              "ReadPosition": {
                "type": "object",
                "properties": {
                  "room_id": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "last_read_seq": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "unread_count": {
                    "type": "integer",
                    "format": "int64"
                  }
                },
                "required": [
                  "room_id",
                  "last_read_seq",
                  "unread_count"
                ],
                "example": {
                  "room_id": 3,
                  "last_read_seq": 12,
                  "unread_count": 0
                }
              },
              "Receipts": {
                "type": "object",
                "properties": {
                  "receipts": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "user_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "last_read_seq": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "user_id",
                        "last_read_seq"
                      ]
                    }
                  }
                },
                "required": [
                  "receipts"
                ]
              },
              "Unread": {
                "type": "object",
                "properties": {
                  "rooms": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "room_id": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "unread_count": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "last_read_seq": {
                          "type": "integer",
                          "format": "int64"
                        },
                        "last_seq": {
                          "type": "integer",
                          "format": "int64"
                        }
                      },
                      "required": [
                        "room_id",
                        "unread_count",
                        "last_read_seq",
                        "last_seq"
                      ]
                    }
                  },
                  "total": {
                    "type": "integer",
                    "format": "int64"
                  }
                },
                "required": [
                  "rooms",
                  "total"
                ],
                "example": {
                  "rooms": [
                    {
                      "room_id": 3,
                      "unread_count": 2,
                      "last_read_seq": 10,
                      "last_seq": 12
                    }
                  ],
                  "total": 2
                }
              },
              "SearchResults": {
                "type": "object",
                "properties": {
                  "results": {
                    "type": "array",
                    "items": {
                      "type": "object",
                      "properties": {
                        "message": {
                          "$ref": "#/components/schemas/Message"
                        },
                        "snippet": {
                          "type": "string",
                          "description": "HTML-escaped text with `<mark>` around matches"
                        }
                      },
                      "required": [
                        "message",
                        "snippet"
                      ]
                    }
                  },
                  "next_cursor": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                },
                "required": [
                  "results",
                  "next_cursor"
                ]
              },
              "Presence": {
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
                    "format": "int64",
                    "description": "unix ms; null while online or never seen"
                  }
                },
                "required": [
                  "user_id",
                  "status",
                  "last_seen_at"
                ],
                "example": {
                  "user_id": 8,
                  "status": "offline",
                  "last_seen_at": 1764240000000
                }
              },
              "Ticket": {
                "type": "object",
                "properties": {
                  "ticket": {
                    "type": "string",
                    "description": "Single-use; `GET /ws?ticket=…`"
                  },
                  "expires_in": {
                    "type": "integer",
                    "description": "Seconds"
                  }
                },
                "required": [
                  "ticket",
                  "expires_in"
                ],
                "example": {
                  "ticket": "kq3b2uO1l8m2W8Y9nB0vS7yJc8QpE4rT6uI1oP0aZ2x",
                  "expires_in": 30
                }
              },
              "Status": {
                "type": "object",
                "properties": {
                  "status": {
                    "type": "string",
                    "enum": [
                      "ok",
                      "ready"
                    ]
                  }
                },
                "required": [
                  "status"
                ]
              },
              "Upload": {
                "type": "object",
                "properties": {
                  "asset_id": {
                    "type": "string"
                  },
                  "public_id": {
                    "type": "string"
                  },
                  "version": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "version_id": {
                    "type": "string"
                  },
                  "signature": {
                    "type": "string",
                    "description": "SHA-1, as Cloudinary's"
                  },
                  "width": {
                    "type": "integer"
                  },
                  "height": {
                    "type": "integer"
                  },
                  "format": {
                    "type": "string"
                  },
                  "resource_type": {
                    "type": "string",
                    "enum": [
                      "image",
                      "video",
                      "raw"
                    ]
                  },
                  "created_at": {
                    "type": "string",
                    "format": "date-time"
                  },
                  "tags": {
                    "type": "array",
                    "items": {
                      "type": "string"
                    }
                  },
                  "bytes": {
                    "type": "integer",
                    "format": "int64"
                  },
                  "type": {
                    "type": "string",
                    "enum": [
                      "upload",
                      "authenticated"
                    ]
                  },
                  "etag": {
                    "type": "string",
                    "description": "MD5 of the bytes"
                  },
                  "placeholder": {
                    "type": "boolean"
                  },
                  "url": {
                    "type": "string"
                  },
                  "secure_url": {
                    "type": "string"
                  },
                  "folder": {
                    "type": "string"
                  },
                  "original_filename": {
                    "type": "string"
                  },
                  "api_key": {
                    "type": "string"
                  },
                  "context": {
                    "type": "object",
                    "properties": {
                      "custom": {
                        "type": "object",
                        "additionalProperties": {
                          "type": "string"
                        }
                      }
                    },
                    "required": [
                      "custom"
                    ]
                  },
                  "existing": {
                    "type": "boolean",
                    "description": "`overwrite=false` found an asset: nothing was stored"
                  },
                  "overwritten": {
                    "type": "boolean"
                  }
                },
                "required": [
                  "asset_id",
                  "public_id",
                  "version",
                  "version_id",
                  "signature",
                  "resource_type",
                  "created_at",
                  "tags",
                  "bytes",
                  "type",
                  "etag",
                  "placeholder",
                  "url",
                  "secure_url",
                  "folder",
                  "api_key"
                ],
                "description": "Cloudinary's upload answer (`width`/`height` for images and videos with known sizes, `format` except for raw files).",
                "example": {
                  "asset_id": "3a1f0c1e2d3b4a5968778695a4b3c2d1",
                  "public_id": "vacation/beach",
                  "version": 1764240000,
                  "version_id": "0c1e2d3b4a5968778695a4b3c2d1e0f",
                  "signature": "5b2f6c3a1e0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b",
                  "width": 640,
                  "height": 480,
                  "format": "png",
                  "resource_type": "image",
                  "created_at": "2026-11-27T13:00:00Z",
                  "tags": [],
                  "bytes": 120345,
                  "type": "upload",
                  "etag": "d41d8cd98f00b204e9800998ecf8427e",
                  "placeholder": false,
                  "url": "http://127.0.0.1:8080/local/image/upload/v1764240000/vacation/beach.png",
                  "secure_url": "https://127.0.0.1:8080/local/image/upload/v1764240000/vacation/beach.png",
                  "folder": "vacation",
                  "original_filename": "beach",
                  "api_key": "614335564976464"
                }
              },
              "ChunkProgress": {
                "type": "object",
                "properties": {
                  "done": {
                    "type": "boolean",
                    "enum": [
                      false
                    ]
                  },
                  "bytes": {
                    "type": "integer",
                    "format": "int64",
                    "description": "Bytes received so far"
                  },
                  "public_id": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "resource_type": {
                    "type": "string"
                  }
                },
                "required": [
                  "done",
                  "bytes",
                  "public_id",
                  "resource_type"
                ],
                "description": "An intermediate chunk of `upload_large` was stored."
              },
              "DestroyResult": {
                "type": "object",
                "properties": {
                  "result": {
                    "type": "string",
                    "enum": [
                      "ok",
                      "not found"
                    ]
                  }
                },
                "required": [
                  "result"
                ],
                "example": {
                  "result": "ok"
                }
              },
              "RegisterRequest": {
                "type": "object",
                "properties": {
                  "username": {
                    "type": "string",
                    "pattern": "^[A-Za-z0-9_.-]{3,32}$",
                    "description": "3–32 of `[a-z0-9_.-]`, stored lower-case"
                  },
                  "email": {
                    "type": "string",
                    "format": "email"
                  },
                  "password": {
                    "type": "string",
                    "minLength": 8,
                    "maxLength": 128,
                    "description": "8–128 bytes, not the username"
                  },
                  "display_name": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                },
                "required": [
                  "username",
                  "email",
                  "password"
                ],
                "example": {
                  "username": "ann",
                  "email": "ann@example.com",
                  "password": "correct horse battery",
                  "display_name": "Ann"
                }
              },
              "LoginRequest": {
                "type": "object",
                "properties": {
                  "login": {
                    "type": "string",
                    "minLength": 1,
                    "description": "Username or email"
                  },
                  "password": {
                    "type": "string",
                    "minLength": 1
                  }
                },
                "required": [
                  "login",
                  "password"
                ],
                "example": {
                  "login": "ann",
                  "password": "correct horse battery"
                }
              },
              "RefreshRequest": {
                "type": "object",
                "properties": {
                  "refresh_token": {
                    "type": "string"
                  }
                },
                "required": [
                  "refresh_token"
                ]
              },
              "ProfileUpdate": {
                "type": "object",
                "properties": {
                  "display_name": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "bio": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "avatar_url": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "avatar_public_id": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "One of your image uploads (`POST /api/v1/uploads`); becomes public, its URL the `avatar_url`"
                  }
                },
                "required": [],
                "example": {
                  "display_name": "Ann B.",
                  "bio": "Hello!"
                }
              },
              "PasswordChange": {
                "type": "object",
                "properties": {
                  "current_password": {
                    "type": "string"
                  },
                  "new_password": {
                    "type": "string"
                  }
                },
                "required": [
                  "current_password",
                  "new_password"
                ]
              },
              "PasswordConfirmation": {
                "type": "object",
                "properties": {
                  "password": {
                    "type": "string"
                  }
                },
                "required": [
                  "password"
                ]
              },
              "UserRef": {
                "type": "object",
                "properties": {
                  "user_id": {
                    "type": "integer",
                    "format": "int64",
                    "minimum": 1
                  }
                },
                "required": [
                  "user_id"
                ],
                "example": {
                  "user_id": 8
                }
              },
              "CreateRoom": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": "string"
                  },
                  "topic": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "member_ids": {
                    "type": [
                      "array",
                      "null"
                    ],
                    "items": {
                      "type": "integer",
                      "format": "int64"
                    }
                  }
                },
                "required": [
                  "name"
                ],
                "example": {
                  "name": "Team",
                  "topic": "Daily chat",
                  "member_ids": [
                    8,
                    9
                  ]
                }
              },
              "UpdateRoom": {
                "type": "object",
                "properties": {
                  "name": {
                    "type": [
                      "string",
                      "null"
                    ]
                  },
                  "topic": {
                    "type": [
                      "string",
                      "null"
                    ]
                  }
                },
                "required": [],
                "example": {
                  "name": "Team (new)"
                }
              },
              "AddMembers": {
                "type": "object",
                "properties": {
                  "user_ids": {
                    "type": "array",
                    "items": {
                      "type": "integer",
                      "format": "int64"
                    }
                  }
                },
                "required": [
                  "user_ids"
                ],
                "example": {
                  "user_ids": [
                    10
                  ]
                }
              },
              "RoleChange": {
                "type": "object",
                "properties": {
                  "role": {
                    "type": "string",
                    "enum": [
                      "admin",
                      "member"
                    ]
                  }
                },
                "required": [
                  "role"
                ],
                "example": {
                  "role": "admin"
                }
              },
              "SendMessage": {
                "type": "object",
                "properties": {
                  "content": {
                    "type": "string"
                  },
                  "mime_type": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "default": "text/plain"
                  },
                  "client_msg_id": {
                    "type": [
                      "string",
                      "null"
                    ],
                    "description": "Idempotency key: the same one again returns the original (200)"
                  },
                  "reply_to": {
                    "type": [
                      "integer",
                      "null"
                    ],
                    "format": "int64",
                    "description": "Id of a message of the same room"
                  },
                  "attachments": {
                    "type": [
                      "array",
                      "null"
                    ],
                    "items": {
                      "type": "string"
                    },
                    "maxItems": 10,
                    "description": "Public ids of your own uploads"
                  }
                },
                "required": [
                  "content"
                ],
                "example": {
                  "content": "hello",
                  "client_msg_id": "c-1"
                }
              },
              "EditMessage": {
                "type": "object",
                "properties": {
                  "content": {
                    "type": "string"
                  }
                },
                "required": [
                  "content"
                ],
                "example": {
                  "content": "hello (edited)"
                }
              },
              "ReadRequest": {
                "type": "object",
                "properties": {
                  "seq": {
                    "type": "integer",
                    "format": "int64",
                    "minimum": 0
                  }
                },
                "required": [
                  "seq"
                ],
                "example": {
                  "seq": 12
                }
              },
              "UploadForm": {
                "type": "object",
                "properties": {
                  "file": {
                    "type": "string",
                    "format": "binary"
                  }
                },
                "required": [
                  "file"
                ],
                "description": "`multipart/form-data` with one `file` part."
              },
              "CloudinaryUploadForm": {
                "type": "object",
                "properties": {
                  "file": {
                    "type": "string",
                    "format": "binary",
                    "description": "A file part, a `data:<mime>;base64,…` URI, or an http(s) URL when `blobs.remote_fetch` is on (off by default)"
                  },
                  "api_key": {
                    "type": "string"
                  },
                  "timestamp": {
                    "type": "string",
                    "description": "Unix seconds"
                  },
                  "signature": {
                    "type": "string",
                    "description": "Hex SHA-1 or SHA-256 of the sorted `k=v&…` parameters + secret"
                  },
                  "upload_preset": {
                    "type": "string"
                  },
                  "public_id": {
                    "type": "string"
                  },
                  "folder": {
                    "type": "string"
                  },
                  "use_filename": {
                    "type": "string"
                  },
                  "unique_filename": {
                    "type": "string"
                  },
                  "overwrite": {
                    "type": "string"
                  },
                  "tags": {
                    "type": "string"
                  },
                  "type": {
                    "type": "string",
                    "enum": [
                      "upload",
                      "authenticated"
                    ]
                  },
                  "context": {
                    "type": "string"
                  },
                  "format": {
                    "type": "string"
                  },
                  "return_delete_token": {
                    "type": "string"
                  }
                },
                "required": [
                  "file"
                ],
                "description": "Cloudinary's upload parameters (others are accepted and ignored)."
              },
              "CloudinaryDestroyForm": {
                "type": "object",
                "properties": {
                  "public_id": {
                    "type": "string"
                  },
                  "type": {
                    "type": "string",
                    "enum": [
                      "upload",
                      "authenticated"
                    ]
                  },
                  "invalidate": {
                    "type": "string"
                  },
                  "api_key": {
                    "type": "string"
                  },
                  "timestamp": {
                    "type": "string"
                  },
                  "signature": {
                    "type": "string"
                  }
                },
                "required": [
                  "public_id"
                ]
              }
            },
            "responses": {
              "BadRequest": {
                "description": "Malformed request: the body is not JSON (`invalid_json`) or a path id is not a positive integer (`invalid_id`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "invalid_id",
                        "message": "id must be a positive integer."
                      }
                    }
                  }
                }
              },
              "Unauthorized": {
                "description": "No, bad, expired or revoked access token (`unauthorized`, `invalid_token`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "invalid_token",
                        "message": "The access token is not valid: expired."
                      }
                    }
                  }
                },
                "headers": {
                  "WWW-Authenticate": {
                    "description": "`Bearer` (RFC 6750)",
                    "schema": {
                      "type": "string"
                    }
                  }
                }
              },
              "Forbidden": {
                "description": "Not allowed: your role in the room (`forbidden`), a block between you and the user (`not_allowed`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "forbidden",
                        "message": "Your role in this room does not allow that."
                      }
                    }
                  }
                }
              },
              "NotFound": {
                "description": "No such resource, or one you may not see (rooms you are not in, users who blocked you).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "not_found",
                        "message": "No such resource."
                      }
                    }
                  }
                }
              },
              "Conflict": {
                "description": "Conflicts with the current state (`already_friends`, `request_pending`, `blocked`, `room_full`, `username_taken`, `email_taken`).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "already_friends",
                        "message": "You are already friends."
                      }
                    }
                  }
                }
              },
              "UnsupportedMediaType": {
                "description": "The body must be `application/json`.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "unsupported_media_type",
                        "message": "Send the body as application/json."
                      }
                    }
                  }
                }
              },
              "ValidationFailed": {
                "description": "Invalid fields (`validation_failed`, `invalid_body`), each named in `fields`.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "validation_failed",
                        "message": "Some fields are invalid."
                      }
                    }
                  }
                }
              },
              "RateLimited": {
                "description": "Over a rate limit (`rate_limited`); retry after `Retry-After` seconds.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/Error"
                    },
                    "example": {
                      "error": {
                        "code": "rate_limited",
                        "message": "Too many requests; try again in 3 s."
                      }
                    }
                  }
                },
                "headers": {
                  "Retry-After": {
                    "description": "Seconds",
                    "schema": {
                      "type": "integer"
                    }
                  }
                }
              },
              "CloudinaryBadRequest": {
                "description": "Bad request (Cloudinary's 400): missing or invalid parameter, invalid image, transformation not supported…",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/CloudinaryError"
                    },
                    "example": {
                      "error": {
                        "message": "Missing required parameter - file"
                      }
                    }
                  }
                }
              },
              "CloudinaryUnauthorized": {
                "description": "Bad or missing credentials: `Invalid Signature …`, `Stale request …`, unknown api_key.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/CloudinaryError"
                    },
                    "example": {
                      "error": {
                        "message": "Invalid Signature"
                      }
                    }
                  }
                }
              },
              "CloudinaryForbidden": {
                "description": "Not allowed (e.g. a preset that does not allow this format).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/CloudinaryError"
                    },
                    "example": {
                      "error": {
                        "message": "Upload preset does not allow this format"
                      }
                    }
                  }
                }
              },
              "CloudinaryNotFound": {
                "description": "Unknown cloud name, or no such asset.",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/CloudinaryError"
                    },
                    "example": {
                      "error": {
                        "message": "Unknown cloud name other"
                      }
                    }
                  }
                }
              },
              "CloudinaryConflict": {
                "description": "Conflict (Cloudinary's 409).",
                "content": {
                  "application/json": {
                    "schema": {
                      "$ref": "#/components/schemas/CloudinaryError"
                    },
                    "example": {
                      "error": {
                        "message": "Resource already exists"
                      }
                    }
                  }
                }
              }
            },
            "parameters": {
              "RoomID": {
                "name": "id",
                "in": "path",
                "required": true,
                "description": "Room id",
                "schema": {
                  "type": "integer",
                  "format": "int64",
                  "minimum": 1
                },
                "example": 3
              },
              "MessageID": {
                "name": "msg_id",
                "in": "path",
                "required": true,
                "description": "Message id",
                "schema": {
                  "type": "integer",
                  "format": "int64",
                  "minimum": 1
                },
                "example": 3
              },
              "MemberID": {
                "name": "user_id",
                "in": "path",
                "required": true,
                "description": "Member's user id",
                "schema": {
                  "type": "integer",
                  "format": "int64",
                  "minimum": 1
                },
                "example": 3
              },
              "UserID": {
                "name": "user_id",
                "in": "path",
                "required": true,
                "description": "User id",
                "schema": {
                  "type": "integer",
                  "format": "int64",
                  "minimum": 1
                },
                "example": 3
              },
              "Limit": {
                "name": "limit",
                "in": "query",
                "required": false,
                "description": "Page size (clamped to the route's bounds)",
                "schema": {
                  "type": "integer"
                }
              },
              "Cursor": {
                "name": "cursor",
                "in": "query",
                "required": false,
                "description": "`next_cursor` of the previous page",
                "schema": {
                  "type": "string"
                }
              },
              "Cloud": {
                "name": "cloud",
                "in": "path",
                "required": true,
                "description": "The cloud name (`blobs.cloud_name`, default `local`); another is 404",
                "schema": {
                  "type": "string"
                },
                "example": "local"
              },
              "ResourceType": {
                "name": "resource_type",
                "in": "path",
                "required": true,
                "schema": {
                  "type": "string",
                  "enum": [
                    "image",
                    "video",
                    "raw",
                    "auto"
                  ]
                }
              }
            }
          }
        }
        """#
}
