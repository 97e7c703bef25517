// The chat web client. Plain ES modules, no build step. User data only ever reaches the DOM as text.
import * as API from './js/api.js';
import { Realtime } from './js/ws.js';
import { el, renderText, timeOf, dayOf, ago, size } from './js/format.js';

const $ = (id) => document.getElementById(id);
const api = API.api;
const REACTIONS = ['👍', '❤️', '😂', '😮', '😢', '🎉'];
const PAGE = 50;

const state = {
  me: null,
  rooms: new Map(),      // id -> room (REST shape, kept current)
  users: new Map(),      // id -> profile
  presence: new Map(),   // user id -> {status, last_seen_at}
  current: null,         // open room id
  views: new Map(),      // room id -> {messages: Map seq->msg, hasMore, loading, receipts: Map, typing: Map}
  pending: new Map(),    // client_msg_id -> {roomId, content, attachments, el}
  attachments: [],       // uploads ready for the next message [{public_id, name}]
  replyTo: null,         // the message the next one answers (of the open room)
  requests: { incoming: [], outgoing: [] },
  friends: [],
};
let rt = null;
let typingSentAt = 0;
let typingOn = false;
let typingStopTimer = null;

// ---------------------------------------------------------------------------------------------------------
// auth screen

function showAuth(message) {
  $('app').hidden = true;
  $('auth').hidden = false;
  authTab('login');
  $('auth-error').textContent = message || '';
  $('login-name').focus();
}

function authTab(which) {
  $('login-form').hidden = which !== 'login';
  $('register-form').hidden = which !== 'register';
  $('tab-login').setAttribute('aria-selected', String(which === 'login'));
  $('tab-register').setAttribute('aria-selected', String(which === 'register'));
  $('auth-error').textContent = '';
}

function describe(error) {
  if (error && error.fields) return Object.entries(error.fields).map(([k, v]) => `${k}: ${v}`).join('; ');
  return (error && error.message) || 'Something went wrong';
}

async function submitAuth(event, kind) {
  event.preventDefault();
  const form = event.target;
  const button = form.querySelector('button[type=submit]');
  button.disabled = true;
  $('auth-error').textContent = '';
  try {
    let body;
    if (kind === 'login') body = { login: $('login-name').value.trim(), password: $('login-password').value };
    else {
      body = { username: $('reg-username').value.trim().toLowerCase(), email: $('reg-email').value.trim(),
        password: $('reg-password').value };
      const display = $('reg-display').value.trim();
      if (display) body.display_name = display;
    }
    const user = await API.authenticate(kind, body);
    form.reset();
    await startApp(user);
  } catch (e) {
    $('auth-error').textContent = describe(e);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------------------
// app start / stop

async function startApp(user) {
  state.me = user;
  remember(user);
  $('auth').hidden = true;
  $('app').hidden = false;
  $('me-name').textContent = user.display_name || user.username;
  $('me-name').title = '@' + user.username;
  await Promise.all([loadRooms(), loadFriends()]);
  rt.start();
  const wanted = Number(sessionStorage.getItem('chat.room') || 0);
  if (wanted && state.rooms.has(wanted)) openRoom(wanted);
}

function stopApp(reason) {
  rt.stop();
  Object.assign(state, { me: null, current: null, attachments: [], friends: [] });
  state.rooms.clear(); state.views.clear(); state.pending.clear(); state.presence.clear();
  $('room-list').replaceChildren();
  $('message-list').replaceChildren();
  $('room-view').hidden = true;
  $('empty-chat').hidden = false;
  document.body.classList.remove('in-room');
  sessionStorage.removeItem('chat.room');
  showAuth(reason === 'expired' ? 'Your session ended; please log in again.' : '');
}

function remember(user) {
  if (user && user.id) state.users.set(user.id, user);
}

function nameOf(id) {
  if (state.me && id === state.me.id) return 'You';
  const u = state.users.get(id);
  return u ? (u.display_name || u.username) : `user ${id}`;
}

const fetchingUsers = new Set();
async function ensureUser(id) {
  if (!id || state.users.has(id) || fetchingUsers.has(id)) return;
  fetchingUsers.add(id);
  try { remember(await api('GET', `users/${id}`)); renderMessages(); renderSeen(); } catch { /* keep the id */ }
  fetchingUsers.delete(id);
}

// ---------------------------------------------------------------------------------------------------------
// rooms

async function loadRooms() {
  const { rooms } = await api('GET', 'rooms');
  state.rooms.clear();
  for (const room of rooms) addRoom(room);
  renderRooms();
}

function addRoom(room) {
  const old = state.rooms.get(room.id);
  if (old) room.last_seq = Math.max(room.last_seq, old.last_seq);
  state.rooms.set(room.id, room);
  if (room.peer) {
    remember(room.peer);
    if (!state.presence.has(room.peer.id)) loadPresence(room.peer.id);
  }
}

async function loadPresence(userId) {
  state.presence.set(userId, { status: 'unknown', last_seen_at: null });
  try {
    const p = await api('GET', `users/${userId}/presence`);
    state.presence.set(userId, p);
    renderRooms();
    renderHeader();
  } catch { /* not allowed to see it */ }
}

function roomName(room) {
  if (room.kind === 'direct') return room.peer ? (room.peer.display_name || room.peer.username) : 'Direct chat';
  return room.name || 'Group';
}

function presenceText(userId) {
  const p = state.presence.get(userId);
  if (!p || p.status === 'unknown') return '';
  if (p.status === 'online') return 'Active now';
  return p.last_seen_at ? `Last seen ${ago(p.last_seen_at)}` : 'Offline';
}

function preview(room) {
  const m = room.last_message;
  if (!m) return 'No messages yet';
  if (m.deleted) return 'Message deleted';
  if (m.kind === 'system') return m.content;
  const who = m.sender_id === state.me.id ? 'You: ' : (room.kind === 'group' ? nameOf(m.sender_id) + ': ' : '');
  const text = m.content || (m.attachments && m.attachments.length ? '📎 attachment' : '');
  return who + text;
}

function renderRooms() {
  const rooms = [...state.rooms.values()].sort((a, b) => b.last_activity_at - a.last_activity_at || b.id - a.id);
  const items = rooms.map((room) => {
    const unread = room.id === state.current ? 0 : room.unread_count;
    const dot = room.peer ? el('span', { class: `dot ${state.presence.get(room.peer.id)?.status || ''}`,
      title: presenceText(room.peer.id) }) : el('span', { class: 'dot group', 'aria-hidden': 'true', text: '#' });
    return el('li', null, el('button', {
      type: 'button', class: `room-item${room.id === state.current ? ' active' : ''}${unread ? ' unread' : ''}`,
      dataset: { roomId: room.id }, 'aria-current': room.id === state.current ? 'true' : null,
      onclick: () => openRoom(room.id),
    }, dot,
    el('span', { class: 'room-main' },
      el('span', { class: 'room-name', text: roomName(room) }),
      el('span', { class: 'room-preview', text: preview(room) })),
    el('span', { class: 'room-meta' },
      el('span', { class: 'room-time', text: room.last_message ? timeOf(room.last_message.created_at) : '' }),
      unread ? el('span', { class: 'badge unread-badge', text: unread > 99 ? '99+' : unread }) : null)));
  });
  if (!items.length) items.push(el('li', { class: 'hint', text: 'No conversations yet. Add a friend in the Friends tab.' }));
  $('room-list').replaceChildren(...items);
  document.title = totalUnread() ? `(${totalUnread()}) chat` : 'chat';
}

function totalUnread() {
  let n = 0;
  for (const r of state.rooms.values()) if (r.id !== state.current) n += r.unread_count;
  return n;
}

function view(roomId) {
  let v = state.views.get(roomId);
  if (!v) {
    v = { messages: new Map(), hasMore: true, loading: false, loaded: false, receipts: new Map(),
      typing: new Map(), readSent: 0, members: [], memberInfo: [] };
    state.views.set(roomId, v);
  }
  return v;
}

async function openRoom(roomId) {
  const room = state.rooms.get(roomId);
  if (!room) return;
  if (state.current && state.current !== roomId) {
    rt.send('LEAVE_ROOM', { chat_room_id: state.current });
    stopTyping();
  }
  if (state.current !== roomId) { cancelReply(); showInfo(false); }
  state.current = roomId;
  sessionStorage.setItem('chat.room', String(roomId));
  document.body.classList.add('in-room');
  $('empty-chat').hidden = true;
  $('room-view').hidden = false;
  $('message-list').replaceChildren();
  $('seen').textContent = '';
  $('typing').textContent = '';
  renderHeader();
  renderRooms();
  rt.send('JOIN_ROOM', { chat_room_id: roomId });
  const v = view(roomId);
  if (!v.loaded) {
    v.loaded = true;
    await Promise.all([loadOlder(roomId, true), loadReceipts(roomId), loadMembers(roomId)]);
  } else {
    renderMessages(true);
  }
  renderSeen();
  markRead();
  if (matchMedia('(pointer: fine)').matches) $('composer-input').focus();
}

async function loadMembers(roomId) {
  try {
    const { members } = await api('GET', `rooms/${roomId}/members`);
    for (const m of members) remember(m.user);
    const v = view(roomId);
    v.members = members.map((m) => m.user.id);
    v.memberInfo = members.map((m) => ({ user: m.user, role: m.role }));
    const room = state.rooms.get(roomId);
    if (room) {
      room.member_count = members.length;
      const me = members.find((m) => state.me && m.user.id === state.me.id);
      if (me) room.role = me.role;
    }
    if (roomId === state.current) { renderHeader(); renderMessages(); renderSeen(); }
  } catch { /* members are decoration */ }
}

async function loadReceipts(roomId) {
  try {
    const { receipts } = await api('GET', `rooms/${roomId}/receipts`);
    const v = view(roomId);
    for (const r of receipts) v.receipts.set(r.user_id, Math.max(v.receipts.get(r.user_id) || 0, r.last_read_seq));
    if (roomId === state.current) renderSeen();
  } catch { /* shown when events come */ }
}

function renderHeader() {
  const room = state.rooms.get(state.current);
  if (!room) return;
  $('room-title').textContent = roomName(room);
  const dot = $('room-presence');
  if (room.peer) {
    const p = state.presence.get(room.peer.id);
    dot.hidden = false;
    dot.className = `dot ${p ? p.status : ''}`;
    $('room-subtitle').textContent = presenceText(room.peer.id) || '@' + room.peer.username;
  } else {
    dot.hidden = true;
    const v = view(room.id);
    const names = v.members.length ? v.members.map(nameOf).join(', ') : `${room.member_count} members`;
    $('room-subtitle').textContent = room.topic ? `${room.topic} · ${names}` : names;
  }
  $('room-info-btn').hidden = room.kind !== 'group';
  if (room.kind !== 'group') showInfo(false);
  else renderInfo();
}

// ---------------------------------------------------------------------------------------------------------
// group info: name, topic, members and roles; owner/admin manage, anyone leaves

const ROLE_RANK = { owner: 0, admin: 1, member: 2 };
let infoKey = '';          // what the member lists show, to re-render them only when it changes
let confirmRemoval = null; // user id whose Remove button asks for confirmation

function myRole(room) {
  const v = view(room.id);
  const me = v.memberInfo.find((m) => state.me && m.user.id === state.me.id);
  return me ? me.role : room.role;
}

function showInfo(open) {
  const panel = $('room-info');
  panel.hidden = !open;
  $('room-info-btn').setAttribute('aria-expanded', String(open));
  infoKey = '';
  confirmRemoval = null;
  delete $('leave-btn').dataset.confirm;
  $('leave-btn').textContent = 'Leave group';
  if (!open) return;
  const room = state.rooms.get(state.current);
  if (!room) return;
  $('info-name').value = room.name || '';
  $('info-topic').value = room.topic || '';
  renderInfo();
  loadMembers(room.id);
}

function renderInfo() {
  const panel = $('room-info');
  const room = state.rooms.get(state.current);
  if (panel.hidden || !room || room.kind !== 'group') return;
  const role = myRole(room);
  const manage = role === 'owner' || role === 'admin';
  $('room-edit-form').hidden = !manage;
  $('info-about').hidden = manage;
  $('info-title').textContent = roomName(room);
  $('info-topic-text').textContent = room.topic || 'No topic';
  // keep what the user is typing; otherwise follow the live values
  if (document.activeElement !== $('info-name')) $('info-name').value = room.name || '';
  if (document.activeElement !== $('info-topic')) $('info-topic').value = room.topic || '';
  const v = view(room.id);
  const key = JSON.stringify([state.current, role, confirmRemoval, v.memberInfo.map((m) => [m.user.id, m.role, nameOf(m.user.id)]),
    state.friends.map((f) => f.user.id)]);
  if (key === infoKey) return;
  infoKey = key;
  const members = [...v.memberInfo].sort((a, b) => ROLE_RANK[a.role] - ROLE_RANK[b.role]
    || nameOf(a.user.id).localeCompare(nameOf(b.user.id)));
  $('info-count').textContent = members.length ? `(${members.length})` : '';
  $('info-members').replaceChildren(...members.map((m) => {
    const self = state.me && m.user.id === state.me.id;
    const buttons = [el('span', { class: `role ${m.role}`, text: m.role })];
    if (!self && role === 'owner' && m.role !== 'owner') {
      const next = m.role === 'admin' ? 'member' : 'admin';
      buttons.push(button(next === 'admin' ? 'Make admin' : 'Remove admin',
        () => memberCall('PATCH', room.id, m.user.id, { role: next }), 'role-btn'));
    }
    if (!self && manage && (role === 'owner' || m.role === 'member')) {
      const confirming = confirmRemoval === m.user.id;
      buttons.push(button(confirming ? 'Confirm remove' : 'Remove', () => {
        if (confirmRemoval === m.user.id) { confirmRemoval = null; memberCall('DELETE', room.id, m.user.id); }
        else { confirmRemoval = m.user.id; renderInfo(); }
      }, `remove-member-btn${confirming ? ' danger' : ''}`));
    }
    const item = person(m.user, ...buttons);
    if (self) item.querySelector('.person-name span').textContent += ' (you)';
    return item;
  }));
  const inRoom = new Set(v.members);
  const candidates = state.friends.filter((f) => !inRoom.has(f.user.id));
  $('add-members-form').hidden = !manage;
  // keep ticked boxes across re-renders
  const ticked = new Set([...$('add-members').querySelectorAll('input:checked')].map((i) => Number(i.value)));
  $('add-members').replaceChildren(el('legend', { text: 'Add friends' }), ...candidates.map((f) =>
    el('label', { class: 'check', dataset: { userId: f.user.id } },
      el('input', { type: 'checkbox', value: f.user.id, checked: ticked.has(f.user.id) }),
      ` ${f.user.display_name || f.user.username}`)));
  if (!candidates.length) $('add-members').append(el('p', { class: 'hint', text: 'All your friends are here' }));
  $('add-members-btn').hidden = !candidates.length;
}

async function memberCall(method, roomId, userId, body) {
  try {
    await api(method, `rooms/${roomId}/members/${userId}`, body);
  } catch (e) { alertBar(describe(e)); }
  await loadMembers(roomId);
}

async function saveRoomInfo(event) {
  event.preventDefault();
  const room = state.rooms.get(state.current);
  if (!room) return;
  const name = $('info-name').value.trim();
  const topic = $('info-topic').value.trim();
  const body = {};
  if (name !== (room.name || '')) body.name = name;
  if (topic !== (room.topic || '')) body.topic = topic;
  if (!Object.keys(body).length) return;
  const save = $('info-save');
  save.disabled = true;
  try {
    const updated = await api('PATCH', `rooms/${room.id}`, body);
    addRoom(updated);
    document.activeElement.blur();
    renderRooms();
    renderHeader();
  } catch (e) { alertBar(describe(e)); }
  save.disabled = false;
}

async function addMembers(event) {
  event.preventDefault();
  const roomId = state.current;
  const user_ids = [...$('add-members').querySelectorAll('input:checked')].map((i) => Number(i.value));
  if (!roomId || !user_ids.length) return;
  try {
    await api('POST', `rooms/${roomId}/members`, { user_ids });
    for (const box of $('add-members').querySelectorAll('input:checked')) box.checked = false;
  } catch (e) { alertBar(describe(e)); }
  await loadMembers(roomId);
}

async function leaveGroup() {
  const leave = $('leave-btn');
  if (!leave.dataset.confirm) { leave.dataset.confirm = '1'; leave.textContent = 'Confirm leave'; return; }
  delete leave.dataset.confirm;
  const roomId = state.current;
  if (!roomId || !state.me) return;
  try {
    await api('DELETE', `rooms/${roomId}/members/${state.me.id}`);
    forgetRoom(roomId);
  } catch (e) { alertBar(describe(e)); renderInfo(); }
}

function forgetRoom(roomId) {
  state.rooms.delete(roomId);
  state.views.delete(roomId);
  if (state.current === roomId) closeRoom();
  renderRooms();
}

/** a system message changed the room: apply what it says at once, then fetch the details */
function onRoomEvent(roomId, m) {
  const room = state.rooms.get(roomId);
  const e = m.event;
  if (!room || !e) return;
  if (e.type === 'room_renamed' && e.detail != null) room.name = e.detail;
  if (e.type === 'topic_changed') room.topic = e.detail || null;
  const gone = state.me && ['member_removed', 'member_left'].includes(e.type) && e.user_ids.includes(state.me.id);
  if (gone) { forgetRoom(roomId); return; }
  if (['members_added', 'member_removed', 'member_left', 'role_changed', 'owner_changed'].includes(e.type)) {
    const v = view(roomId);
    if (e.type === 'members_added') room.member_count += e.user_ids.filter((id) => !v.members.includes(id)).length;
    if (e.type === 'member_removed' || e.type === 'member_left') {
      v.members = v.members.filter((id) => !e.user_ids.includes(id));
      v.memberInfo = v.memberInfo.filter((x) => !e.user_ids.includes(x.user.id));
      room.member_count = Math.max(1, room.member_count - e.user_ids.length);
    }
    if (v.loaded || roomId === state.current) loadMembers(roomId);
    for (const id of e.user_ids) ensureUser(id);
  }
  if (roomId === state.current) renderHeader();
}

// ---------------------------------------------------------------------------------------------------------
// replies

function snippet(m) {
  if (!m) return '';
  if (m.deleted) return 'Message deleted';
  const text = (m.content || '').replace(/\s+/g, ' ').trim();
  if (text) return text.length > 120 ? text.slice(0, 119) + '…' : text;
  return m.attachments && m.attachments.length ? '📎 attachment' : '';
}

function findMessage(roomId, id) {
  const v = state.views.get(roomId);
  if (!v || !id) return null;
  for (const m of v.messages.values()) if (m.id === id) return m;
  return null;
}

function startReply(m) {
  state.replyTo = { roomId: m.room_id || state.current, id: m.id, sender_id: m.sender_id, text: snippet(m) };
  $('reply-name').textContent = nameOf(m.sender_id);
  $('reply-text').textContent = snippet(m);
  $('reply-bar').hidden = false;
  $('composer-input').focus();
}

function cancelReply() {
  state.replyTo = null;
  $('reply-bar').hidden = true;
  $('reply-name').textContent = '';
  $('reply-text').textContent = '';
}

function quoteNode(roomId, replyTo) {
  const original = findMessage(roomId, replyTo);
  if (!original) {
    return el('div', { class: 'quote missing', dataset: { replyTo }, text: 'Reply to an earlier message' });
  }
  return el('button', {
    type: 'button', class: 'quote', dataset: { replyTo }, title: 'Show the original message',
    onclick: () => scrollToMessage(replyTo),
  }, el('span', { class: 'quote-sender', text: nameOf(original.sender_id) }),
  el('span', { class: 'quote-text', text: snippet(original) }));
}

function scrollToMessage(id) {
  const target = $('message-list').querySelector(`.msg[data-id="${Number(id)}"]`);
  if (!target) { alertBar('The original message is not loaded'); return; }
  target.scrollIntoView({ block: 'center', behavior: 'smooth' });
  target.classList.remove('flash');
  void target.offsetWidth; // restart the animation
  target.classList.add('flash');
  setTimeout(() => target.classList.remove('flash'), 1700);
}

async function loadOlder(roomId, initial = false) {
  const v = view(roomId);
  if (v.loading || !v.hasMore) return;
  v.loading = true;
  $('history-status').textContent = 'Loading…';
  try {
    const seqs = [...v.messages.keys()];
    const before = seqs.length ? Math.min(...seqs) : 0;
    const query = before ? `?before_seq=${before}&limit=${PAGE}` : `?limit=${PAGE}`;
    const { messages, has_more } = await api('GET', `rooms/${roomId}/messages${query}`);
    v.hasMore = has_more;
    for (const m of messages) if (!v.messages.has(m.seq)) v.messages.set(m.seq, m);
    for (const m of messages) if (m.sender_id) ensureUser(m.sender_id);
    const room = state.rooms.get(roomId);
    if (room && messages.length) room.last_seq = Math.max(room.last_seq, messages[0].seq);
    if (roomId === state.current) {
      const box = $('messages');
      const fromBottom = box.scrollHeight - box.scrollTop;
      renderMessages();
      if (initial) box.scrollTop = box.scrollHeight;
      else box.scrollTop = box.scrollHeight - fromBottom;
    }
  } catch (e) {
    v.hasMore = true;
    $('history-status').textContent = 'Could not load history: ' + describe(e);
    v.loading = false;
    return;
  }
  v.loading = false;
  $('history-status').textContent = v.hasMore ? '' : 'Beginning of the conversation';
  // the first page may not fill the screen: keep loading until it scrolls
  const box = $('messages');
  if (roomId === state.current && v.hasMore && box.scrollHeight <= box.clientHeight + 10) loadOlder(roomId);
}

function nearBottom() {
  const box = $('messages');
  return box.scrollHeight - box.scrollTop - box.clientHeight < 80;
}

function renderMessages(toBottom = false) {
  if (!state.current) return;
  const box = $('messages');
  const stick = toBottom || nearBottom();
  const v = view(state.current);
  const list = [...v.messages.values()].sort((a, b) => a.seq - b.seq);
  const nodes = [];
  let lastDay = null;
  let prev = null;
  for (const m of list) {
    const day = dayOf(m.created_at);
    if (day !== lastDay) {
      nodes.push(el('div', { class: 'day', role: 'separator', text: day }));
      lastDay = day;
      prev = null;
    }
    if (m.kind === 'system') {
      nodes.push(el('div', { class: 'system msg', dataset: { seq: m.seq }, text: m.content }));
      prev = null;
      continue;
    }
    const grouped = prev && prev.sender_id === m.sender_id && m.created_at - prev.created_at < 5 * 60_000;
    nodes.push(messageNode(m, !grouped));
    prev = m;
  }
  for (const p of state.pending.values()) if (p.roomId === state.current) nodes.push(pendingNode(p));
  $('message-list').replaceChildren(...nodes);
  if (stick) box.scrollTop = box.scrollHeight;
}

function messageNode(m, header) {
  const mine = state.me && m.sender_id === state.me.id;
  const body = el('div', { class: 'msg-body' });
  if (m.deleted) body.append(el('span', { class: 'msg-text deleted', text: 'Message deleted' }));
  else {
    if (m.reply_to) body.append(quoteNode(m.room_id || state.current, m.reply_to));
    const text = el('div', { class: 'msg-text' }, renderText(m.content));
    body.append(text);
    if (m.attachments && m.attachments.length) body.append(attachmentsNode(m.attachments, m));
    if (m.edited_at) body.append(el('span', { class: 'edited', text: '(edited)' }));
  }
  const node = el('div', { class: `msg${mine ? ' mine' : ''}${header ? ' first' : ''}`, dataset: { seq: m.seq, id: m.id } });
  if (header) {
    node.append(el('div', { class: 'msg-head' },
      el('span', { class: 'sender', text: nameOf(m.sender_id) }),
      el('time', { class: 'time', datetime: new Date(m.created_at).toISOString(), text: timeOf(m.created_at) })));
  }
  node.append(body);
  if (!m.deleted) {
    if (m.reactions && m.reactions.length) {
      node.append(el('div', { class: 'reactions' }, m.reactions.map((r) => el('button', {
        type: 'button', class: `reaction${r.me ? ' me' : ''}`, 'aria-pressed': String(!!r.me),
        title: r.me ? 'Remove your reaction' : 'React', onclick: () => react(m, r.emoji, !r.me),
      }, `${r.emoji} ${r.count}`))));
    }
    const actions = el('div', { class: 'msg-actions' });
    const picker = el('div', { class: 'picker', hidden: true }, REACTIONS.map((e) => el('button', {
      type: 'button', class: 'pick', 'aria-label': `React ${e}`, text: e,
      onclick: () => { picker.hidden = true; const r = (m.reactions || []).find((x) => x.emoji === e); react(m, e, !(r && r.me)); },
    })));
    actions.append(el('button', { type: 'button', class: 'act react-btn', 'aria-label': 'Add reaction', text: '☺',
      onclick: () => { picker.hidden = !picker.hidden; } }));
    actions.append(el('button', { type: 'button', class: 'act reply-btn', text: 'Reply', onclick: () => startReply(m) }));
    if (mine) {
      actions.append(el('button', { type: 'button', class: 'act edit-btn', text: 'Edit', onclick: () => startEdit(node, m) }));
      const del = el('button', { type: 'button', class: 'act delete-btn', text: 'Delete' });
      del.addEventListener('click', () => {
        if (del.dataset.confirm) removeMessage(m);
        else { del.dataset.confirm = '1'; del.textContent = 'Confirm delete'; }
      });
      actions.append(del);
    }
    node.append(actions, picker);
  }
  return node;
}

function pendingNode(p) {
  return el('div', { class: 'msg mine first pending', dataset: { clientId: p.client_msg_id } },
    el('div', { class: 'msg-head' }, el('span', { class: 'sender', text: 'You' }), el('span', { class: 'time', text: p.failed ? 'not sent' : 'sending…' })),
    el('div', { class: 'msg-body' }, p.replyTo ? quoteNode(p.roomId, p.replyTo) : null,
      el('div', { class: 'msg-text' }, renderText(p.content))));
}

function attachmentsNode(list, m) {
  return el('div', { class: 'attachments' }, list.map((a, index) => {
    const name = a.original_filename ? `${a.original_filename}${a.format && !a.original_filename.includes('.') ? '.' + a.format : ''}` : a.public_id;
    if (a.resource_type === 'image' && ['png', 'jpg', 'jpeg', 'gif', 'webp'].includes(a.format)) {
      const img = el('img', { class: 'attachment-image', src: a.url, alt: name, loading: 'lazy' });
      if (a.width && a.height) { img.width = Math.min(a.width, 320); img.height = Math.round(img.width * a.height / a.width); }
      const link = el('a', { class: 'attachment image', href: a.url, target: '_blank', rel: 'noopener' }, img);
      // Attachment links expire (blobs.attachment_url_ttl): a page left open longer asks for fresh ones, once.
      img.addEventListener('error', () => refreshAttachment(m, index, img, link), { once: true });
      return link;
    }
    return el('a', { class: 'attachment file', href: a.url, download: name }, `📄 ${name} (${size(a.bytes || 0)})`);
  }));
}

async function refreshAttachment(m, index, img, link) {
  if (!m) return;
  try {
    const roomId = m.room_id || m.chat_room_id || state.current;
    const { messages } = await api('GET', `rooms/${roomId}/messages?before_seq=${m.seq + 1}&limit=1`);
    const fresh = messages.find((x) => x.id === m.id);
    const attachment = fresh && fresh.attachments && fresh.attachments[index];
    if (!attachment || attachment.url === img.getAttribute('src')) return;
    m.attachments = fresh.attachments;
    img.src = attachment.url;
    link.href = attachment.url;
  } catch (e) { /* the message may be gone: leave the broken image */ }
}

function startEdit(node, m) {
  const body = node.querySelector('.msg-body');
  const input = el('textarea', { class: 'edit-input', 'aria-label': 'Edit message', rows: 2 });
  input.value = m.content;
  const done = () => renderMessages();
  const save = async () => {
    const content = input.value;
    if (!content.trim() || content === m.content) { done(); return; }
    try {
      const updated = await api('PATCH', `rooms/${m.room_id}/messages/${m.id}`, { content });
      mergeMessage(updated);
    } catch (e) { alertBar(describe(e)); }
    done();
  };
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); save(); }
    if (e.key === 'Escape') { e.preventDefault(); done(); }
  });
  body.replaceChildren(input, el('div', { class: 'hint', text: 'Enter to save, Escape to cancel' }));
  input.focus();
}

async function removeMessage(m) {
  try {
    await api('DELETE', `rooms/${m.room_id}/messages/${m.id}`);
    mergeMessage({ ...m, deleted: true, content: '', reactions: [], attachments: [] });
  } catch (e) { alertBar(describe(e)); }
}

async function react(m, emoji, add) {
  try {
    await api(add ? 'PUT' : 'DELETE', `rooms/${m.room_id}/messages/${m.id}/reactions/${encodeURIComponent(emoji)}`);
    const list = (m.reactions || []).map((r) => ({ ...r }));
    const r = list.find((x) => x.emoji === emoji);
    if (add && !(r && r.me)) { if (r) { r.count++; r.me = true; } else list.push({ emoji, count: 1, me: true }); }
    if (!add && r && r.me) { r.count--; r.me = false; }
    m.reactions = list.filter((x) => x.count > 0);
    renderMessages();
  } catch (e) { alertBar(describe(e)); }
}

function mergeMessage(updated) {
  const roomId = updated.room_id || updated.chat_room_id;
  const v = state.views.get(roomId);
  if (v && v.messages.has(updated.seq)) {
    const old = v.messages.get(updated.seq);
    const mine = new Map((old.reactions || []).map((r) => [r.emoji, r.me]));
    updated.reactions = (updated.reactions || []).map((r) => ({ ...r, me: r.me ?? mine.get(r.emoji) ?? false }));
    v.messages.set(updated.seq, { ...old, ...updated });
    if (roomId === state.current) renderMessages();
  }
  const room = state.rooms.get(roomId);
  if (room && room.last_message && room.last_message.seq === updated.seq) {
    room.last_message = { ...room.last_message, ...updated };
    renderRooms();
  }
}

function renderSeen() {
  const room = state.rooms.get(state.current);
  if (!room || !state.me) return;
  const v = view(room.id);
  const mine = [...v.messages.values()].filter((m) => m.sender_id === state.me.id && m.kind !== 'system');
  let text = '';
  if (mine.length) {
    const lastOwn = Math.max(...mine.map((m) => m.seq));
    const readers = [...v.receipts.entries()].filter(([uid, seq]) => uid !== state.me.id && seq >= lastOwn).map(([uid]) => uid);
    if (readers.length) text = 'Seen by ' + readers.map(nameOf).join(', ');
  }
  $('seen').textContent = text;
}

// ---------------------------------------------------------------------------------------------------------
// reading and unread

function markRead() {
  const room = state.rooms.get(state.current);
  if (!room || document.visibilityState !== 'visible') return;
  const v = view(room.id);
  const seq = Math.max(room.last_seq, ...v.messages.keys());
  room.unread_count = 0;
  if (seq > v.readSent && seq > (room.last_read_seq || 0)) {
    v.readSent = seq;
    room.last_read_seq = seq;
    if (!rt.send('READ_RECEIPT', { chat_room_id: room.id, seq })) {
      api('POST', `rooms/${room.id}/read`, { seq }).catch(() => { v.readSent = 0; });
    }
  }
  renderRooms();
}

// ---------------------------------------------------------------------------------------------------------
// realtime events

function onRealtime(msg) {
  const d = msg.data || {};
  switch (msg.type) {
    case 'CONNECTED':
      if (state.current) rt.send('JOIN_ROOM', { chat_room_id: state.current });
      resendPending();
      // rooms added while away
      for (const id of d.rooms || []) if (!state.rooms.has(id)) fetchRoom(id);
      break;
    case 'NEW_MESSAGE': onNewMessage(d); break;
    case 'ACK': onAck(d); break;
    case 'MESSAGE_UPDATED': mergeMessage(d); break;
    case 'MESSAGE_DELETED': {
      const v = state.views.get(d.chat_room_id);
      const old = v && v.messages.get(d.seq);
      mergeMessage({ ...(old || {}), room_id: d.chat_room_id, seq: d.seq, id: d.message_id, deleted: true, content: '', reactions: [], attachments: [] });
      break;
    }
    case 'REACTION': {
      const v = state.views.get(d.chat_room_id);
      if (!v) break;
      for (const m of v.messages.values()) {
        if (m.id !== d.message_id) continue;
        const mine = new Map((m.reactions || []).map((r) => [r.emoji, r.me]));
        if (state.me && d.user_id === state.me.id) mine.set(d.emoji, d.added);
        m.reactions = d.reactions.map((r) => ({ ...r, me: mine.get(r.emoji) || false }));
        if (d.chat_room_id === state.current) renderMessages();
      }
      break;
    }
    case 'TYPING': {
      if (!state.me || d.user_id === state.me.id) break;
      const v = view(d.chat_room_id);
      clearTimeout(v.typing.get(d.user_id));
      if (d.is_typing) v.typing.set(d.user_id, setTimeout(() => { v.typing.delete(d.user_id); renderTyping(); }, 8000));
      else v.typing.delete(d.user_id);
      ensureUser(d.user_id);
      renderTyping();
      break;
    }
    case 'READ_RECEIPT': {
      const v = view(d.chat_room_id);
      v.receipts.set(d.user_id, Math.max(v.receipts.get(d.user_id) || 0, d.seq));
      const room = state.rooms.get(d.chat_room_id);
      if (room && state.me && d.user_id === state.me.id) {
        room.last_read_seq = Math.max(room.last_read_seq, d.seq);
        room.unread_count = Math.max(0, room.last_seq - room.last_read_seq);
        renderRooms();
      }
      if (d.chat_room_id === state.current) renderSeen();
      break;
    }
    case 'PRESENCE':
      state.presence.set(d.user_id, { status: d.status, last_seen_at: d.last_seen_at });
      renderRooms();
      renderHeader();
      break;
    case 'USER_LEFT': {
      const v = state.views.get(d.chat_room_id);
      if (v && v.typing.has(d.user_id)) { v.typing.delete(d.user_id); renderTyping(); }
      break;
    }
    case 'FRIEND_REQUEST': case 'FRIEND_REQUEST_ACCEPTED': case 'FRIEND_REQUEST_CANCELLED': case 'FRIEND_REMOVED':
      loadFriends();
      break;
    case 'ROOM_ADDED': fetchRoom(d.chat_room_id); break;
    case 'ROOM_REMOVED': forgetRoom(d.chat_room_id); break;
    case 'RESUMED':
      if (!d.complete) catchUp(d.chat_room_id, d.to_seq);
      break;
    case 'ERROR':
      if (d.code && !['token_expired', 'rate_limited'].includes(d.code)) alertBar(d.message || d.code);
      break;
    default: break;
  }
}

async function fetchRoom(id) {
  try { addRoom(await api('GET', `rooms/${id}`)); renderRooms(); } catch { /* gone again */ }
}

async function catchUp(roomId, afterSeq) {
  let after = afterSeq;
  for (let i = 0; i < 50; i++) {
    const { messages, has_more } = await api('GET', `rooms/${roomId}/messages?after_seq=${after}&limit=200`);
    for (const m of messages) onNewMessage({ ...m, chat_room_id: roomId });
    if (!has_more || !messages.length) break;
    after = messages[messages.length - 1].seq;
  }
}

function onNewMessage(m) {
  const roomId = m.chat_room_id || m.room_id;
  const room = state.rooms.get(roomId);
  if (!room) { fetchRoom(roomId); return; }
  const v = state.views.get(roomId);
  const fresh = m.seq > room.last_seq;
  if (v && v.loaded) {
    if (v.messages.has(m.seq)) return; // duplicate: already shown
    v.messages.set(m.seq, m);
    if (m.client_msg_id && state.pending.has(m.client_msg_id)) state.pending.delete(m.client_msg_id);
  }
  if (m.sender_id) ensureUser(m.sender_id);
  if (!fresh) { if (roomId === state.current) renderMessages(); return; }
  room.last_seq = m.seq;
  if (m.kind === 'system' && m.event) { onRoomEvent(roomId, m); if (!state.rooms.has(roomId)) return; }
  if (!room.last_message || room.last_message.seq < m.seq) room.last_message = m;
  room.last_activity_at = Math.max(room.last_activity_at, m.created_at);
  const own = state.me && m.sender_id === state.me.id;
  if (own) room.last_read_seq = Math.max(room.last_read_seq, m.seq);
  else if (m.kind !== 'system' || roomId !== state.current) room.unread_count = room.last_seq - room.last_read_seq;
  if (roomId === state.current) {
    if (m.sender_id) { const t = view(roomId).typing; clearTimeout(t.get(m.sender_id)); t.delete(m.sender_id); renderTyping(); }
    renderMessages();
    renderSeen();
    markRead();
  }
  renderRooms();
}

function renderTyping() {
  if (!state.current) return;
  const ids = [...view(state.current).typing.keys()];
  const names = ids.map(nameOf);
  $('typing').textContent = !names.length ? '' : names.length === 1 ? `${names[0]} is typing…`
    : `${names.slice(0, -1).join(', ')} and ${names.at(-1)} are typing…`;
}

// ---------------------------------------------------------------------------------------------------------
// sending

function newClientId() {
  return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random().toString(16).slice(2));
}

async function sendMessage() {
  const input = $('composer-input');
  const room = state.rooms.get(state.current);
  if (!room) return;
  const ready = state.attachments.filter((a) => a.public_id);
  if (state.attachments.some((a) => !a.public_id && !a.error)) { alertBar('Wait for the upload to finish'); return; }
  let content = input.value;
  if (!content.trim() && !ready.length) return;
  if (!content.trim()) content = ready.map((a) => a.name).join(', ');
  const p = { client_msg_id: newClientId(), roomId: room.id, content, attachments: ready.map((a) => a.public_id),
    replyTo: state.replyTo && state.replyTo.roomId === room.id ? state.replyTo.id : null };
  state.pending.set(p.client_msg_id, p);
  cancelReply();
  input.value = '';
  autosize();
  state.attachments = [];
  renderUploads();
  stopTyping();
  renderMessages(true);
  transmit(p);
}

function transmit(p) {
  const data = { chat_room_id: p.roomId, content: p.content, client_msg_id: p.client_msg_id };
  if (p.attachments.length) data.attachments = p.attachments;
  if (p.replyTo) data.reply_to = p.replyTo;
  if (rt.send('SEND_MESSAGE', data)) return;
  // no socket: REST does the same, idempotently
  api('POST', `rooms/${p.roomId}/messages`, { content: p.content, client_msg_id: p.client_msg_id,
    ...(p.attachments.length ? { attachments: p.attachments } : {}), ...(p.replyTo ? { reply_to: p.replyTo } : {}) })
    .then((m) => { state.pending.delete(p.client_msg_id); onNewMessage({ ...m, chat_room_id: p.roomId }); })
    .catch((e) => { p.failed = true; alertBar(describe(e)); renderMessages(); });
}

function resendPending() {
  for (const p of state.pending.values()) transmit(p);
}

function onAck(d) {
  const p = state.pending.get(d.client_msg_id);
  if (!p) return;
  state.pending.delete(d.client_msg_id);
  // the sending connection gets no NEW_MESSAGE: fetch the stored message (with its attachments' urls)
  const local = { id: d.message_id, room_id: p.roomId, seq: d.seq, sender_id: state.me.id, kind: 'user',
    content: p.content, mime_type: 'text/plain', client_msg_id: p.client_msg_id, reply_to: p.replyTo || null, attachments: [],
    created_at: Date.now(), edited_at: null, deleted: false, reactions: [] };
  if (p.attachments.length) {
    api('GET', `rooms/${p.roomId}/messages?after_seq=${d.seq - 1}&limit=1`).then(({ messages }) => {
      const stored = messages.find((m) => m.seq === d.seq);
      if (stored) mergeMessage(stored);
    }).catch(() => {});
  }
  onNewMessage({ ...local, chat_room_id: p.roomId });
}

function onComposerInput() {
  autosize();
  if (!state.current) return;
  const text = $('composer-input').value;
  if (!text.trim()) { stopTyping(); return; }
  const now = Date.now();
  if (!typingOn || now - typingSentAt > 3000) {
    if (rt.send('TYPING', { chat_room_id: state.current, is_typing: true })) { typingOn = true; typingSentAt = now; }
  }
  clearTimeout(typingStopTimer);
  typingStopTimer = setTimeout(stopTyping, 5000);
}

function stopTyping() {
  clearTimeout(typingStopTimer);
  if (typingOn && state.current) rt.send('TYPING', { chat_room_id: state.current, is_typing: false });
  typingOn = false;
}

function autosize() {
  const input = $('composer-input');
  input.rows = Math.min(6, Math.max(1, input.value.split('\n').length));
}

// ---------------------------------------------------------------------------------------------------------
// uploads

function addFiles(files) {
  for (const file of files) {
    const item = { name: file.name, progress: 0, public_id: null, error: null };
    state.attachments.push(item);
    API.upload(file, (fraction) => { item.progress = fraction; renderUploads(); })
      .then((answer) => { item.public_id = answer.public_id; item.progress = 1; renderUploads(); })
      .catch((e) => { item.error = describe(e); renderUploads(); });
  }
  renderUploads();
}

function renderUploads() {
  $('uploads').replaceChildren(...state.attachments.map((a) => el('div', { class: `upload${a.error ? ' failed' : ''}${a.public_id ? ' done' : ''}` },
    el('span', { class: 'upload-name', text: a.name }),
    a.error ? el('span', { class: 'error', text: a.error })
      : el('progress', { max: 100, value: Math.round(a.progress * 100), 'aria-label': `Uploading ${a.name}` }),
    el('button', { type: 'button', class: 'act', 'aria-label': `Remove ${a.name}`, text: '✕',
      onclick: () => { state.attachments = state.attachments.filter((x) => x !== a); renderUploads(); } }))));
}

// ---------------------------------------------------------------------------------------------------------
// friends and groups

async function loadFriends() {
  try {
    const [friends, incoming, outgoing] = await Promise.all([
      api('GET', 'friends'), api('GET', 'friends/requests?direction=incoming'), api('GET', 'friends/requests?direction=outgoing')]);
    state.friends = friends.friends;
    state.requests = { incoming: incoming.requests, outgoing: outgoing.requests };
    for (const f of state.friends) remember(f.user);
    renderFriends();
    renderInfo();
  } catch (e) { alertBar(describe(e)); }
}

function person(user, ...buttons) {
  return el('li', { class: 'person', dataset: { userId: user.id } },
    el('span', { class: `dot ${state.presence.get(user.id)?.status || ''}` }),
    el('span', { class: 'person-name' }, el('span', { text: user.display_name || user.username }),
      el('span', { class: 'username', text: '@' + user.username })),
    el('span', { class: 'person-actions' }, buttons));
}

function button(text, onclick, cls = '') {
  return el('button', { type: 'button', class: cls, text, onclick });
}

function renderFriends() {
  const { incoming, outgoing } = state.requests;
  $('incoming-requests').replaceChildren(...incoming.map((r) => person(r.from,
    button('Accept', () => act('POST', `friends/requests/${r.id}/accept`), 'accept-btn primary'),
    button('Reject', () => act('POST', `friends/requests/${r.id}/reject`), 'reject-btn'))));
  if (!incoming.length) $('incoming-requests').append(el('li', { class: 'hint', text: 'No requests' }));
  $('outgoing-requests').replaceChildren(...outgoing.map((r) => person(r.to,
    button('Cancel', () => act('DELETE', `friends/requests/${r.id}`), 'cancel-btn'))));
  $('friend-list').replaceChildren(...state.friends.map((f) => person(f.user,
    button('Message', () => openDirect(f.user.id), 'message-btn primary'),
    button('Unfriend', () => act('DELETE', `friends/${f.user.id}`), 'unfriend-btn'),
    button('Block', () => act('POST', `blocks/${f.user.id}`), 'block-btn'))));
  if (!state.friends.length) $('friend-list').append(el('li', { class: 'hint', text: 'No friends yet: search for people above' }));
  const badge = $('req-badge');
  badge.hidden = !incoming.length;
  badge.textContent = String(incoming.length);
}

async function act(method, path) {
  try { await api(method, path); } catch (e) { alertBar(describe(e)); }
  await loadFriends();
}

async function searchUsers(event) {
  event.preventDefault();
  const q = $('user-search').value.trim();
  if (!q) { $('user-results').replaceChildren(); return; }
  try {
    const { users } = await api('GET', `users?q=${encodeURIComponent(q)}&limit=20`);
    const friendIds = new Set(state.friends.map((f) => f.user.id));
    const asked = new Set(state.requests.outgoing.map((r) => r.to.id));
    const items = users.filter((u) => u.id !== state.me.id).map((u) => person(u,
      friendIds.has(u.id) ? button('Message', () => openDirect(u.id), 'message-btn primary')
        : asked.has(u.id) ? el('span', { class: 'hint', text: 'Requested' })
          : button('Add friend', async () => {
            try { await api('POST', 'friends/requests', { user_id: u.id }); } catch (e) { alertBar(describe(e)); }
            await loadFriends();
            searchUsers(event);
          }, 'add-friend-btn primary')));
    if (!items.length) items.push(el('li', { class: 'hint', text: 'Nobody found' }));
    $('user-results').replaceChildren(...items);
  } catch (e) { alertBar(describe(e)); }
}

async function openDirect(userId) {
  try {
    const room = await api('POST', 'rooms/direct', { user_id: userId });
    addRoom(room);
    tab('rooms');
    openRoom(room.id);
  } catch (e) { alertBar(describe(e)); }
}

function showGroupForm() {
  $('group-members').replaceChildren(el('legend', { text: 'Members' }), ...state.friends.map((f) =>
    el('label', { class: 'check' }, el('input', { type: 'checkbox', value: f.user.id }), ` ${f.user.display_name || f.user.username}`)));
  if (!state.friends.length) $('group-members').append(el('p', { class: 'hint', text: 'Add friends to invite them' }));
  $('rooms-panel').hidden = true;
  $('group-panel').hidden = false;
  $('group-name').focus();
}

async function createGroup(event) {
  event.preventDefault();
  const member_ids = [...$('group-members').querySelectorAll('input:checked')].map((i) => Number(i.value));
  const body = { name: $('group-name').value.trim(), member_ids };
  const topic = $('group-topic').value.trim();
  if (topic) body.topic = topic;
  try {
    const room = await api('POST', 'rooms', body);
    addRoom(room);
    $('group-form').reset();
    tab('rooms');
    openRoom(room.id);
  } catch (e) { alertBar(describe(e)); }
}

function tab(which) {
  $('rooms-panel').hidden = which !== 'rooms';
  $('friends-panel').hidden = which !== 'friends';
  $('group-panel').hidden = true;
  $('tab-rooms').setAttribute('aria-selected', String(which === 'rooms'));
  $('tab-friends').setAttribute('aria-selected', String(which === 'friends'));
  if (which === 'friends') loadFriends();
}

function closeRoom() {
  if (state.current) rt.send('LEAVE_ROOM', { chat_room_id: state.current });
  stopTyping();
  cancelReply();
  showInfo(false);
  state.current = null;
  sessionStorage.removeItem('chat.room');
  document.body.classList.remove('in-room');
  $('room-view').hidden = true;
  $('empty-chat').hidden = false;
  renderRooms();
}

let alertTimer = null;
function alertBar(text) {
  let bar = $('alert-bar');
  if (!bar) { bar = el('div', { id: 'alert-bar', class: 'alert', role: 'status' }); document.body.append(bar); }
  bar.textContent = text;
  bar.hidden = false;
  clearTimeout(alertTimer);
  alertTimer = setTimeout(() => { bar.hidden = true; }, 5000);
}

// ---------------------------------------------------------------------------------------------------------
// wiring

function init() {
  rt = new Realtime({
    onEvent: onRealtime,
    onState: (s) => { const c = $('conn-status'); c.className = `conn ${s}`; c.title = s; c.dataset.state = s; },
    resumeState: () => Object.fromEntries([...state.rooms.values()].map((r) => [String(r.id), r.last_seq])),
  });
  API.on('logout', (reason) => stopApp(reason));
  // for the browser tests and debugging from the console: drop the socket to exercise reconnect + RESUME
  window.chatDebug = Object.freeze({ dropSocket: () => { if (rt.ws) rt.ws.close(4000, 'debug drop'); } });
  $('tab-login').addEventListener('click', () => authTab('login'));
  $('tab-register').addEventListener('click', () => authTab('register'));
  $('login-form').addEventListener('submit', (e) => submitAuth(e, 'login'));
  $('register-form').addEventListener('submit', (e) => submitAuth(e, 'register'));
  $('logout-btn').addEventListener('click', () => API.logout());
  $('tab-rooms').addEventListener('click', () => tab('rooms'));
  $('tab-friends').addEventListener('click', () => tab('friends'));
  $('user-search-form').addEventListener('submit', searchUsers);
  $('new-group-btn').addEventListener('click', showGroupForm);
  $('group-cancel').addEventListener('click', () => tab('rooms'));
  $('group-form').addEventListener('submit', createGroup);
  $('back-btn').addEventListener('click', closeRoom);
  $('composer').addEventListener('submit', (e) => { e.preventDefault(); sendMessage(); });
  $('composer-input').addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); }
    if (e.key === 'Escape' && state.replyTo) { e.preventDefault(); e.stopPropagation(); cancelReply(); }
  });
  $('reply-cancel').addEventListener('click', () => { cancelReply(); $('composer-input').focus(); });
  $('room-info-btn').addEventListener('click', () => showInfo($('room-info').hidden));
  $('info-close').addEventListener('click', () => showInfo(false));
  $('room-edit-form').addEventListener('submit', saveRoomInfo);
  $('add-members-form').addEventListener('submit', addMembers);
  $('leave-btn').addEventListener('click', leaveGroup);
  $('composer-input').addEventListener('input', onComposerInput);
  $('file-input').addEventListener('change', (e) => { addFiles([...e.target.files]); e.target.value = ''; });
  $('messages').addEventListener('scroll', () => { if ($('messages').scrollTop < 80 && state.current) loadOlder(state.current); });
  document.addEventListener('visibilitychange', markRead);
  window.addEventListener('focus', markRead);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.current && document.activeElement === $('composer-input') && matchMedia('(max-width: 700px)').matches) closeRoom();
  });
  setInterval(() => { if (state.me) { renderHeader(); } }, 30_000);

  const saved = API.loadSession();
  if (saved && saved.user) {
    api('GET', 'users/me').then((user) => { API.setUser(user); return startApp(user); })
      .catch(() => { API.clearSession(); showAuth(); });
  } else {
    showAuth();
  }
}

init();
