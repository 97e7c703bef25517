// gohub: the yardstick for bench/ws.sh, a minimal WebSocket broadcast hub on gorilla/websocket, modelled on
// gorilla's chat example (one hub goroutine, a read pump and a write pump per client, one frame per message).
// Clients pick a room with the query string (`/ws?room=N`, default 0); every text frame a client sends is
// broadcast to every client in the same room, the sender included (its copy plays the part of chat's ACK).
// No authentication, no persistence.
//
// Build (GOPATH mode, Debian's golang-github-gorilla-websocket-dev):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go build -o /tmp/gohub bench/gohub/main.go
//	/tmp/gohub -addr 127.0.0.1:9000
package main

import (
	"flag"
	"log"
	"net/http"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait      = 10 * time.Second
	pongWait       = 60 * time.Second
	pingPeriod     = (pongWait * 9) / 10
	maxMessageSize = 64 * 1024
	sendQueue      = 256
)

type message struct {
	room string
	data []byte
}

type client struct {
	hub  *hub
	room string
	conn *websocket.Conn
	send chan []byte
}

// hub owns the rooms; only its goroutine touches them.
type hub struct {
	rooms      map[string]map[*client]bool
	broadcast  chan message
	register   chan *client
	unregister chan *client
}

func newHub() *hub {
	return &hub{
		rooms:      make(map[string]map[*client]bool),
		broadcast:  make(chan message, 1024),
		register:   make(chan *client, 1024),
		unregister: make(chan *client, 1024),
	}
}

func (h *hub) run() {
	for {
		select {
		case c := <-h.register:
			members := h.rooms[c.room]
			if members == nil {
				members = make(map[*client]bool)
				h.rooms[c.room] = members
			}
			members[c] = true
		case c := <-h.unregister:
			if members := h.rooms[c.room]; members[c] {
				delete(members, c)
				close(c.send)
				if len(members) == 0 {
					delete(h.rooms, c.room)
				}
			}
		case m := <-h.broadcast:
			members := h.rooms[m.room]
			for c := range members {
				select {
				case c.send <- m.data:
				default: // slow consumer: drop it, as the example does
					close(c.send)
					delete(members, c)
				}
			}
		}
	}
}

// readPump forwards every frame the client sends to the hub.
func (c *client) readPump() {
	defer func() {
		c.hub.unregister <- c
		c.conn.Close()
	}()
	c.conn.SetReadLimit(maxMessageSize)
	c.conn.SetReadDeadline(time.Now().Add(pongWait))
	c.conn.SetPongHandler(func(string) error { c.conn.SetReadDeadline(time.Now().Add(pongWait)); return nil })
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		c.conn.SetReadDeadline(time.Now().Add(pongWait))
		c.hub.broadcast <- message{room: c.room, data: data}
	}
}

// writePump writes one frame per message, and pings.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.conn.Close()
	}()
	for {
		select {
		case data, ok := <-c.send:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.conn.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			if err := c.conn.WriteMessage(websocket.TextMessage, data); err != nil {
				return
			}
		case <-ticker.C:
			c.conn.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.conn.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 4096,
	CheckOrigin:     func(*http.Request) bool { return true },
}

func serveWS(h *hub, w http.ResponseWriter, r *http.Request) {
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{hub: h, room: r.URL.Query().Get("room"), conn: conn, send: make(chan []byte, sendQueue)}
	h.register <- c
	go c.writePump()
	go c.readPump()
}

func main() {
	addr := flag.String("addr", "127.0.0.1:9000", "listen address")
	flag.Parse()
	h := newHub()
	go h.run()
	http.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) { serveWS(h, w, r) })
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	log.Fatal(http.ListenAndServe(*addr, nil))
}
