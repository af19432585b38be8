/**
 * Who else is here: the project's presence socket, kept as a small model.
 *
 * It follows `presence_state`, `user_joined`, `user_left`, `viewing` and `typing` messages, tells
 * the server which ticket this tab shows (again after every reconnect, since the server forgets a
 * closed connection) and throttles our own typing signals: `is_typing: true` at most every 2 s while
 * keys are pressed, `false` after 3 s of quiet. A remote typing flag lapses on its own after 6 s in
 * case its "stopped" message was lost (the server's indicator lives ~5 s without a refresh).
 *
 * Event: `change` whenever the online list, viewers or typists may have changed.
 */

import { avatar, h } from './dom.js';

const TYPING_RESEND_MS = 2_000;
const TYPING_IDLE_MS = 3_000;
const REMOTE_TYPING_TTL_MS = 6_000;

export class Presence extends EventTarget {
  /** @type {Map<number, {user_id: number, name: string, viewing: number|null, typing: number|null}>} */
  #users = new Map();
  #viewing = null;
  #typingTicket = null;
  #typingSentAt = 0;
  #idleTimer = 0;
  /** @type {Map<number, number>} user id → timer that clears their typing flag */
  #typingExpiry = new Map();

  /**
   * @param {import('./socket.js').LiveSocket} socket the `/ws/projects/{id}/presence/` socket
   * @param {number} meId
   */
  constructor(socket, meId) {
    super();
    this.socket = socket;
    this.meId = meId;
    socket.addEventListener('message', (event) => this.#handle(event.detail));
    socket.addEventListener('open', () => {
      if (this.#viewing !== null) socket.send({ type: 'viewing', ticket_id: this.#viewing });
    });
    socket.addEventListener('status', (event) => {
      if (event.detail.status !== 'live' && this.#users.size) {
        this.#users.clear(); // stale while disconnected; presence_state refills it on reconnect
        this.#changed();
      }
    });
  }

  /** Other people online in the project, by name. */
  others() {
    return [...this.#users.values()].filter((u) => u.user_id !== this.meId).sort((a, b) => a.name.localeCompare(b.name));
  }

  viewersOf(ticketId) {
    return this.others().filter((u) => u.viewing === ticketId);
  }

  typistsOf(ticketId) {
    return this.others().filter((u) => u.typing === ticketId);
  }

  /** This tab now shows `ticketId` (or no ticket). */
  setViewing(ticketId) {
    if (this.#viewing === ticketId) return;
    if (this.#typingTicket !== null) this.stopTyping();
    this.#viewing = ticketId;
    this.socket.send({ type: 'viewing', ticket_id: ticketId });
  }

  /** Call on every keystroke in a comment box. */
  typing(ticketId) {
    const now = Date.now();
    if (this.#typingTicket !== ticketId || now - this.#typingSentAt > TYPING_RESEND_MS) {
      if (this.socket.send({ type: 'typing', ticket_id: ticketId, is_typing: true })) this.#typingSentAt = now;
      this.#typingTicket = ticketId;
    }
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE_MS);
  }

  /** The comment was sent, the box emptied or left. */
  stopTyping() {
    clearTimeout(this.#idleTimer);
    if (this.#typingTicket === null) return;
    this.socket.send({ type: 'typing', ticket_id: this.#typingTicket, is_typing: false });
    this.#typingTicket = null;
    this.#typingSentAt = 0;
  }

  /** Draw the avatar stack of who else is online into `container`. */
  renderOnline(container) {
    const others = this.others();
    const shown = others.slice(0, 4);
    const items = [
      ...shown.map((u) =>
        h('li', { class: 'presence-user', dataset: { userId: String(u.user_id) } }, avatar(u, { title: `${u.name} is online` }), h('span', { class: 'sr-only' }, u.name)),
      ),
    ];
    if (others.length > shown.length) {
      items.push(h('li', { class: 'presence-more', title: others.slice(4).map((u) => u.name).join(', ') }, `+${others.length - shown.length}`));
    }
    container.replaceChildren(...items);
    container.setAttribute('aria-label', others.length ? `Online now: ${others.map((u) => u.name).join(', ')}` : 'Nobody else is online');
  }

  #handle(message) {
    switch (message.type) {
      case 'presence_state':
        this.#users = new Map((message.users ?? []).map((u) => [u.user_id, normalise(u)]));
        break;
      case 'user_joined': {
        const user = normalise(message.user ?? {});
        if (user.user_id !== undefined) this.#users.set(user.user_id, user);
        break;
      }
      case 'user_left':
        this.#users.delete(message.user_id);
        break;
      case 'viewing': {
        const user = this.#users.get(message.user_id);
        if (user) user.viewing = message.ticket_id ?? null;
        break;
      }
      case 'typing':
        this.#remoteTyping(message.user_id, message.ticket_id, Boolean(message.is_typing));
        break;
      default:
        return;
    }
    this.#changed();
  }

  #remoteTyping(userId, ticketId, isTyping) {
    const user = this.#users.get(userId);
    if (!user) return;
    clearTimeout(this.#typingExpiry.get(userId));
    user.typing = isTyping ? ticketId : null;
    if (isTyping) {
      this.#typingExpiry.set(userId, setTimeout(() => {
        if (user.typing === ticketId) {
          user.typing = null;
          this.#changed();
        }
      }, REMOTE_TYPING_TTL_MS));
    }
  }

  #changed() {
    this.dispatchEvent(new Event('change'));
  }
}

function normalise(user) {
  return {
    user_id: user.user_id ?? user.id,
    name: user.name ?? 'Someone',
    viewing: user.viewing ?? null,
    typing: typeof user.typing === 'number' ? user.typing : null,
  };
}
