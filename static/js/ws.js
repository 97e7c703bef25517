// The realtime connection: ticket, reconnect with backoff, RESUME from the last seq per room.
import { api, refresh, accessToken, endSession, on as onApi } from './api.js';

export class Realtime {
  constructor({ onEvent, onState, resumeState }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.resumeState = resumeState; // () => {roomId: lastSeq}
    this.ws = null;
    this.attempt = 0;
    this.stopped = true;
    this.timer = null;
    this.nextId = 1;
    this.connected = false;
    this.pingTimer = null;
    onApi('tokens', () => {
      if (this.connected) this.send('AUTH', { token: accessToken() });
    });
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pingTimer);
    this.connected = false;
    if (this.ws) { const ws = this.ws; this.ws = null; ws.onclose = null; ws.close(1000); }
    this.onState('offline');
  }

  async connect() {
    if (this.stopped) return;
    this.onState('connecting');
    let ticket;
    try {
      ticket = (await api('POST', 'ws/ticket')).ticket;
    } catch (e) {
      if (e.status === 401) { this.stop(); return; }
      this.retry();
      return;
    }
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${proto}//${location.host}/ws?ticket=${encodeURIComponent(ticket)}`);
    this.ws = ws;
    ws.onmessage = (e) => {
      let msg;
      try { msg = JSON.parse(e.data); } catch { return; }
      if (msg.type === 'CONNECTED') {
        this.connected = true;
        this.attempt = 0;
        this.onState('online');
        const rooms = this.resumeState();
        if (Object.keys(rooms).length) this.send('RESUME', { rooms });
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send('PING'), 25_000);
      } else if (msg.type === 'ERROR' && msg.data && msg.data.code === 'token_expired') {
        refresh().catch(() => {});
      } else if (msg.type === 'ERROR' && msg.data && msg.data.code === 'session_revoked') {
        // Signed out (here or elsewhere): no refresh would succeed; back to the login screen.
        this.stop();
        endSession('expired');
        return;
      }
      this.onEvent(msg);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.connected = false;
      clearInterval(this.pingTimer);
      if (e.code === 4001) refresh().catch(() => {});
      this.retry();
    };
  }

  retry() {
    if (this.stopped) return;
    this.onState('offline');
    const base = Math.min(15_000, 500 * 2 ** this.attempt);
    this.attempt++;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }

  /** true when queued on an open socket */
  send(type, data) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN || !this.connected) return false;
    const id = 'c' + this.nextId++;
    this.ws.send(JSON.stringify(data === undefined ? { type, id } : { type, id, data }));
    return true;
  }
}
