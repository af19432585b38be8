/**
 * The REST client and the login session.
 *
 * - `session` keeps the access and refresh tokens in IndexedDB and localStorage, so every tab of the
 *   hub shares one login. Refresh tokens rotate (a reused one revokes the whole login), so tabs take a
 *   Web Lock around refreshing and adopt a token another tab already rotated instead of spending it
 *   twice (see `vault` for why the lock reads IndexedDB).
 * - Access tokens are refreshed *before* they expire (a timer, and a check before every request and
 *   socket connect); a 401 still triggers one refresh-and-retry as a safety net.
 * - `api(method, path, body)` throws `ApiError` with the hub's `{code, message, fields}` on failure.
 *
 * Events on `session`: `token` (a new access token: open sockets send `{"type": "auth"}`),
 * `expired` (the login is gone: show the sign-in form).
 */

const STORAGE_KEY = 'switchboard.session';
const LOCK_NAME = 'switchboard.refresh';
/** Refresh this long before expiry (capped at a quarter of the token's life for short TTLs). */
const REFRESH_MARGIN_MS = 60_000;

/** A failed request: HTTP `status` plus the hub's error `code`, `message` and per-field messages. */
export class ApiError extends Error {
  constructor(status, code, message, fields = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }
}

/** @typedef {{access: string, refresh: string, expiresAt: number, ttl: number}} Tokens */

class Session extends EventTarget {
  /** @type {Tokens|null} */
  #tokens = null;
  /** @type {Promise<string>|null} */
  #refreshing = null;
  #timer = 0;

  constructor() {
    super();
    this.#tokens = readStored();
    window.addEventListener('storage', (event) => {
      if (event.key !== STORAGE_KEY) return;
      const stored = readStored();
      if (!stored) {
        if (this.#tokens) this.#expire();
      } else if (stored.access !== this.#tokens?.access) {
        this.#tokens = stored; // another tab refreshed: use its token, keep our timer honest
        this.#schedule();
        this.dispatchEvent(new CustomEvent('token', { detail: stored.access }));
      }
    });
    document.addEventListener('visibilitychange', () => {
      // Timers in background tabs are throttled; catch up as soon as the tab is seen again.
      if (document.visibilityState === 'visible' && this.#tokens && this.#dueSoon()) this.refresh().catch(() => {});
    });
    if (this.#tokens) this.#schedule();
  }

  get signedIn() {
    return this.#tokens !== null;
  }

  /** Exchange email and password for tokens. Throws ApiError (401 for a wrong password). */
  async login(email, password) {
    const body = await send('POST', '/api/auth/login', { email, password });
    await this.#store(body);
  }

  /**
   * Create an account (with an invite token: also when sign-up is closed, and it joins that project),
   * then sign in as it. Throws ApiError: 422 with `fields`, 409 for a taken email, 403, 404/410, 429.
   */
  async register({ name, email, password, invite }) {
    await send('POST', '/api/auth/register', { name, email, password, ...(invite ? { invite } : {}) });
    await this.login(email, password);
  }

  /** Revoke this login on the server (best effort) and forget it here. */
  async logout() {
    const tokens = this.#tokens;
    this.#clear();
    if (tokens) {
      await send('POST', '/api/auth/logout', { refresh_token: tokens.refresh }, tokens.access).catch(() => {});
    }
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken() {
    if (!this.#tokens) throw new ApiError(401, 'unauthenticated', 'not signed in');
    if (this.#dueSoon()) return this.refresh();
    return this.#tokens.access;
  }

  /**
   * Rotate the refresh token now (single-flight within the tab, locked across tabs).
   * Resolves to the new access token; rejects with ApiError(401) when the login is gone.
   */
  refresh() {
    this.#refreshing ??= this.#refreshLocked().finally(() => { this.#refreshing = null; });
    return this.#refreshing;
  }

  async #refreshLocked() {
    const spent = this.#tokens?.refresh;
    const work = async () => {
      const stored = await vault.read();
      if (stored && stored.refresh !== spent && stored.expiresAt - Date.now() > 5_000) {
        this.#tokens = stored; // another tab rotated it while we waited for the lock
        this.#schedule();
        this.dispatchEvent(new CustomEvent('token', { detail: stored.access }));
        return stored.access;
      }
      if (!stored) throw new ApiError(401, 'unauthenticated', 'signed out');
      try {
        await this.#store(await send('POST', '/api/auth/refresh', { refresh_token: stored.refresh }));
      } catch (error) {
        if (error instanceof ApiError && (error.status === 401 || error.status === 422)) this.#expire();
        else this.#schedule(10_000); // offline or server restarting: try again soon
        throw error;
      }
      return this.#tokens.access;
    };
    return navigator.locks ? navigator.locks.request(LOCK_NAME, work) : work();
  }

  #dueSoon() {
    return this.#tokens.expiresAt - Date.now() < this.#margin();
  }

  #margin() {
    return Math.min(REFRESH_MARGIN_MS, this.#tokens.ttl / 4);
  }

  async #store(body) {
    const ttl = body.expires_in * 1000;
    this.#tokens = { access: body.access_token, refresh: body.refresh_token, expiresAt: Date.now() + ttl, ttl };
    await vault.write(this.#tokens); // before the lock is released: the next tab must see it
    localStorage.setItem(STORAGE_KEY, JSON.stringify(this.#tokens));
    this.#schedule();
    this.dispatchEvent(new CustomEvent('token', { detail: this.#tokens.access }));
  }

  #schedule(delay) {
    clearTimeout(this.#timer);
    if (!this.#tokens) return;
    const due = delay ?? Math.max(1_000, this.#tokens.expiresAt - Date.now() - this.#margin());
    this.#timer = setTimeout(() => this.refresh().catch(() => {}), due);
  }

  #clear() {
    clearTimeout(this.#timer);
    this.#tokens = null;
    vault.write(null);
    localStorage.removeItem(STORAGE_KEY);
  }

  #expire() {
    this.#clear();
    this.dispatchEvent(new Event('expired'));
  }
}

/**
 * The tokens as the refresh lock sees them. localStorage reaches other tabs asynchronously, so a tab
 * that gets the lock right after another tab rotated the token could still read the spent one and
 * spend it again (which revokes the login). IndexedDB commits are visible to every tab at once, so
 * inside the lock the tokens are read from there; localStorage stays as the synchronous start-up
 * copy and, through its `storage` event, the notice to other tabs.
 */
const vault = {
  db: null,
  open() {
    this.db ??= new Promise((resolve, reject) => {
      const request = indexedDB.open('switchboard', 1);
      request.onupgradeneeded = () => request.result.createObjectStore('session');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    return this.db;
  },
  async run(mode, action) {
    const db = await this.open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction('session', mode);
      const request = action(tx.objectStore('session'));
      tx.oncomplete = () => resolve(request.result);
      tx.onerror = () => reject(tx.error);
    });
  },
  async read() {
    try {
      return (await this.run('readonly', (store) => store.get('tokens'))) ?? readStored();
    } catch {
      return readStored(); // no IndexedDB (some private modes): best effort
    }
  },
  async write(tokens) {
    try {
      await this.run('readwrite', (store) => (tokens ? store.put(tokens, 'tokens') : store.delete('tokens')));
    } catch {
      // localStorage still holds them
    }
  },
};

function readStored() {
  try {
    const value = JSON.parse(localStorage.getItem(STORAGE_KEY) || 'null');
    return value && value.access && value.refresh ? value : null;
  } catch {
    return null;
  }
}

async function send(method, path, body, token) {
  // X-Switchboard-Client: the hub records changes made here with the origin `web` (not `api`).
  const headers = { Accept: 'application/json', 'X-Switchboard-Client': 'web' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network_error', 'The hub cannot be reached. Check your connection.');
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error ?? {};
    const failure = new ApiError(response.status, error.code ?? 'error', error.message ?? response.statusText, error.fields ?? {});
    failure.retryAfter = Number(response.headers.get('Retry-After')) || 0; // seconds, on a 429
    throw failure;
  }
  return data;
}

/** The one login of this browser profile. */
export const session = new Session();

/**
 * Call the hub's REST API as the signed-in user.
 * @param {'GET'|'POST'|'PATCH'|'PUT'|'DELETE'} method
 * @param {string} path e.g. `/api/projects/1/tickets`
 * @param {object} [body] sent as JSON
 */
export async function api(method, path, body) {
  try {
    return await send(method, path, body, await session.accessToken());
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || !session.signedIn) throw error;
    return send(method, path, body, await session.refresh());
  }
}

/** A REST call without signing in (public endpoints such as `GET /api/invites/{token}`). */
export function publicApi(method, path, body) {
  return send(method, path, body);
}

/** Every item of a paginated list (`{items, next_cursor}`), up to `max`. */
export async function listAll(path, max = 2000) {
  const items = [];
  let cursor = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor && items.length < max);
  return items;
}

/** `GET /healthz` without auth; `{}` when the hub cannot be reached. */
export async function health() {
  try {
    const response = await fetch('/healthz', { headers: { Accept: 'application/json' } });
    return response.ok ? await response.json() : {};
  } catch {
    return {};
  }
}
