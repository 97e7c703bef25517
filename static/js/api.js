// REST client: tokens in sessionStorage, refresh before expiry, one refresh at a time.
const KEY = 'chat.session';
const listeners = { tokens: [], logout: [] };
let session = null;
let refreshing = null;
let refreshTimer = null;

export class ApiError extends Error {
  constructor(status, code, message, fields) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

export function on(event, fn) { listeners[event].push(fn); }
function emit(event, value) { for (const fn of listeners[event]) fn(value); }

export function loadSession() {
  try { session = JSON.parse(sessionStorage.getItem(KEY) || 'null'); } catch { session = null; }
  if (session && !(session.refresh_token && session.refresh_expires_at > Date.now())) session = null;
  if (session) schedule();
  return session;
}

export function currentSession() { return session; }
export function accessToken() { return session && session.access_token; }

function store(tokens, user) {
  const now = Date.now();
  session = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: now + tokens.expires_in * 1000,
    refresh_expires_at: now + (tokens.refresh_expires_in || 30 * 86400) * 1000,
    user: user || (session && session.user),
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  schedule();
  emit('tokens', session);
}

export function setUser(user) {
  if (!session) return;
  session.user = user;
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

function schedule() {
  clearTimeout(refreshTimer);
  if (!session) return;
  // refresh a minute before expiry (or at 80% of a short lifetime)
  const left = session.expires_at - Date.now();
  const delay = Math.max(1000, left > 120_000 ? left - 60_000 : left * 0.8);
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, delay);
}

export function clearSession() {
  clearTimeout(refreshTimer);
  session = null;
  sessionStorage.removeItem(KEY);
}

export function refresh() {
  if (refreshing) return refreshing;
  if (!session) return Promise.reject(new ApiError(401, 'unauthorized', 'not logged in'));
  const token = session.refresh_token;
  refreshing = (async () => {
    try {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: token }),
      });
      const data = await res.json().catch(() => null);
      if (!res.ok) {
        if (res.status === 401 || res.status === 403) { clearSession(); emit('logout', 'expired'); }
        throw new ApiError(res.status, data?.error?.code, data?.error?.message);
      }
      store(data.tokens, data.user);
      return session;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

async function ensureFresh() {
  if (session && session.expires_at - Date.now() < 20_000) await refresh();
}

async function parse(res) {
  const text = await res.text();
  let data = null;
  if (text) { try { data = JSON.parse(text); } catch { data = null; } }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    throw new ApiError(res.status, e.code, e.message, e.fields);
  }
  return data;
}

export async function api(method, path, body, retried = false) {
  await ensureFresh();
  const headers = {};
  if (session) headers.Authorization = 'Bearer ' + session.access_token;
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch('/api/v1/' + path, init);
  if (res.status === 401 && session && !retried && !path.startsWith('auth/')) {
    await refresh();
    return api(method, path, body, true);
  }
  return parse(res);
}

export async function authenticate(kind, body) {
  const data = await api('POST', 'auth/' + kind, body);
  store(data.tokens, data.user);
  return data.user;
}

/** The server ended this session (signed out elsewhere, revoked): forget it locally, no request. */
export function endSession(reason) {
  if (!session) return;
  clearSession();
  emit('logout', reason);
}

export async function logout() {
  try { if (session) await api('POST', 'auth/logout'); } catch { /* the session ends locally anyway */ }
  clearSession();
  emit('logout', 'user');
}

/** multipart upload with progress; resolves with the upload answer (public_id, …) */
export async function upload(file, onProgress) {
  await ensureFresh();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/api/v1/uploads');
    xhr.setRequestHeader('Authorization', 'Bearer ' + session.access_token);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); };
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else {
        const e = data && data.error ? data.error : {};
        reject(new ApiError(xhr.status, e.code, e.message || `upload failed (${xhr.status})`));
      }
    };
    xhr.onerror = () => reject(new ApiError(0, 'network', 'network error'));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
