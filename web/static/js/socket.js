/**
 * A WebSocket that stays connected: `LiveSocket`.
 *
 * - Authenticates in the `Sec-WebSocket-Protocol` header (`["switchboard", "bearer.<token>"]`),
 *   never in the URL, and re-authenticates an open socket (`{"type": "auth"}`) whenever the session
 *   rotates its access token, so the server does not close it at expiry.
 * - Reconnects forever with capped exponential backoff and jitter; `retryNow()` skips the wait.
 *   Close codes: 4001 → refresh the token, then reconnect; 4003 → give up (`denied`);
 *   1012 (restart), 4008 (fell behind) and anything else → reconnect.
 * - With `resume: true` it reconnects with `?last_event_id=N` (the highest `event_id` seen) so the
 *   server replays what was missed. It drops messages whose `event_id` it has already delivered.
 * - Sends `{"type": "ping"}` every 25 s, answers the hub's pings, and reconnects when the server has
 *   been silent too long.
 *
 * Events: `status` (detail: {status, attempt, retryAt}) with status one of connecting, live,
 * reconnecting, offline, denied, closed; `open` (detail: {reconnect, resumed}); `message` (detail: the
 * parsed server message).
 */

import { ApiError, session } from './api.js';

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const PING_EVERY_MS = 25_000;
const SILENCE_LIMIT_MS = 60_000;
/** After this many failed attempts in a row the status reads "offline" rather than "reconnecting". */
const OFFLINE_AFTER_ATTEMPTS = 4;
const SEEN_LIMIT = 2000;

/**
 * Delay before reconnect attempt `attempt` (0-based): exponential, capped, with "equal jitter" so
 * a hub restart does not make every browser reconnect in the same millisecond.
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

export class LiveSocket extends EventTarget {
  /** @type {WebSocket|null} */
  #ws = null;
  #attempt = 0;
  #opened = false;
  #stopped = true;
  #retryTimer = 0;
  #pingTimer = 0;
  #connecting = false;
  #lastHeard = 0;
  #seen = new Set();
  #onToken = (event) => this.send({ type: 'auth', token: event.detail });
  #onOnline = () => this.retryNow();
  #onOffline = () => this.#setStatus('offline');

  /**
   * @param {string} path e.g. `/ws/projects/1/tickets/`
   * @param {{resume?: boolean, name?: string}} [options]
   */
  constructor(path, { resume = false, name = path } = {}) {
    super();
    this.path = path;
    this.name = name;
    this.resume = resume;
    /** Highest `event_id` received; sent as `last_event_id` when reconnecting. */
    this.lastEventId = null;
    this.status = 'closed';
    this.retryAt = 0;
  }

  start() {
    if (!this.#stopped) return;
    this.#stopped = false;
    session.addEventListener('token', this.#onToken);
    window.addEventListener('online', this.#onOnline);
    window.addEventListener('offline', this.#onOffline);
    this.#connect();
  }

  /** Close for good (project switch, sign-out). */
  stop() {
    this.#stopped = true;
    session.removeEventListener('token', this.#onToken);
    window.removeEventListener('online', this.#onOnline);
    window.removeEventListener('offline', this.#onOffline);
    clearTimeout(this.#retryTimer);
    this.#drop(1000);
    this.#setStatus('closed');
  }

  /** Reconnect immediately instead of waiting for the backoff timer. */
  retryNow() {
    if (this.#stopped || this.status === 'live' || this.status === 'denied') return;
    if (this.#connecting || (this.#ws && this.#ws.readyState === WebSocket.CONNECTING)) return;
    clearTimeout(this.#retryTimer);
    this.#connect();
  }

  /** Send a JSON message; returns false (and sends nothing) while not connected. */
  send(message) {
    if (!this.#ws || this.#ws.readyState !== WebSocket.OPEN) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  get connected() {
    return this.status === 'live';
  }

  async #connect() {
    clearTimeout(this.#retryTimer);
    this.#setStatus(this.#opened || this.#attempt > 0 ? this.#troubleStatus() : 'connecting');
    let token;
    this.#connecting = true;
    try {
      token = await session.accessToken();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return this.stop(); // signed out
      return this.#scheduleRetry();
    } finally {
      this.#connecting = false;
    }
    if (this.#stopped) return;
    const url = new URL(this.path, window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const resumed = this.resume && this.lastEventId !== null;
    if (resumed) url.searchParams.set('last_event_id', String(this.lastEventId));
    const ws = new WebSocket(url, ['switchboard', `bearer.${token}`]);
    this.#ws = ws;
    ws.addEventListener('open', () => {
      if (this.#ws !== ws) return; // dropped while connecting: #drop closes it now that it is open
      const reconnect = this.#opened;
      this.#opened = true;
      this.#attempt = 0;
      this.#lastHeard = Date.now();
      this.#startPings();
      this.#setStatus('live');
      this.dispatchEvent(new CustomEvent('open', { detail: { reconnect, resumed } }));
    });
    ws.addEventListener('message', (event) => {
      if (this.#ws === ws) this.#receive(event.data);
    });
    ws.addEventListener('close', (event) => {
      if (this.#ws !== ws) return; // a socket we already gave up on
      this.#ws = null;
      clearInterval(this.#pingTimer);
      this.#closed(event.code);
    });
  }

  #receive(raw) {
    this.#lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    if (!message || typeof message !== 'object' || message.type === 'pong') return;
    if (message.type === 'ping') {
      this.send({ type: 'pong' }); // the hub closes sockets that stop answering (4002)
      return;
    }
    if (message.type === 'ready') {
      // The hub says from which event on this socket is live (after any replay): resume from here
      // even if no event has arrived yet.
      const at = message.last_event_id;
      if (typeof at === 'number' && (this.lastEventId === null || at > this.lastEventId)) this.lastEventId = at;
      return;
    }
    const id = message.event_id;
    if (typeof id === 'number') {
      if (this.#seen.has(id)) return;
      this.#seen.add(id);
      if (this.#seen.size > SEEN_LIMIT) this.#seen.delete(this.#seen.values().next().value);
      if (this.lastEventId === null || id > this.lastEventId) this.lastEventId = id;
    }
    this.dispatchEvent(new CustomEvent('message', { detail: message }));
  }

  async #closed(code) {
    if (this.#stopped) return;
    if (code === 4003) {
      this.#setStatus('denied');
      return;
    }
    if (code === 4001) {
      try {
        await session.refresh();
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return this.stop();
      }
      if (this.#attempt === 0) {
        this.#attempt = 1; // retry at once, but back off if the new token is refused too
        return this.#connect();
      }
    }
    this.#scheduleRetry();
  }

  #scheduleRetry() {
    if (this.#stopped) return;
    const delay = backoffDelay(this.#attempt);
    this.#attempt += 1;
    this.retryAt = Date.now() + delay;
    this.#setStatus(this.#troubleStatus());
    clearTimeout(this.#retryTimer);
    this.#retryTimer = setTimeout(() => this.#connect(), delay);
  }

  #troubleStatus() {
    return !navigator.onLine || this.#attempt >= OFFLINE_AFTER_ATTEMPTS ? 'offline' : 'reconnecting';
  }

  #startPings() {
    clearInterval(this.#pingTimer);
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastHeard > SILENCE_LIMIT_MS) {
        this.#drop(4000); // half-open connection: nobody is listening any more
        this.#scheduleRetry();
        return;
      }
      this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  #drop(code) {
    clearInterval(this.#pingTimer);
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState === WebSocket.CONNECTING) {
      // Closing mid-handshake makes the browser log an error (e.g. signing out right after signing
      // in); close it as soon as it opens instead.
      ws.addEventListener('open', () => ws.close(code), { once: true });
    } else if (ws && ws.readyState === WebSocket.OPEN) {
      try {
        ws.close(code);
      } catch {
        // already closing
      }
    }
  }

  #setStatus(status) {
    if (status === this.status && status !== 'reconnecting' && status !== 'offline') return;
    this.status = status;
    this.dispatchEvent(new CustomEvent('status', { detail: { status, attempt: this.#attempt, retryAt: this.retryAt } }));
  }
}
