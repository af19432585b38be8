/**
 * The notifications bell: unread count, a list, and a toast for each new notification.
 *
 * The list and count come from `GET /api/notifications` (again whenever the socket connects, so the
 * count is right even if messages were missed); new ones arrive on `/ws/notifications/` and are
 * de-duplicated by id, so a replayed message never toasts twice.
 */

import { api } from './api.js';
import { h, timeAgo, toast } from './dom.js';

export class Notifications {
  /** @type {Map<number, object>} */
  #items = new Map();
  #unread = 0;

  /**
   * @param {{button: HTMLButtonElement, badge: HTMLElement, panel: HTMLElement, list: HTMLElement,
   *   markAll: HTMLButtonElement, onOpen: (projectId: number|null, ticketId: number|null) => void}} deps
   */
  constructor({ button, badge, panel, list, markAll, onOpen }) {
    Object.assign(this, { button, badge, panel, list, markAll, onOpen });
    button.addEventListener('click', () => this.toggle(this.panel.hidden));
    markAll.addEventListener('click', () => this.#markAll());
    const closeOnEscape = (event) => {
      if (event.key === 'Escape' && !panel.hidden) {
        event.stopPropagation();
        this.toggle(false);
        button.focus();
      }
    };
    panel.addEventListener('keydown', closeOnEscape);
    button.addEventListener('keydown', closeOnEscape);
    document.addEventListener('click', (event) => {
      if (!panel.hidden && !panel.contains(event.target) && !button.contains(event.target)) this.toggle(false);
    });
  }

  /**
   * Follow the signed-in user's `/ws/notifications/` socket (a new one after each sign-in).
   * @param {import('./socket.js').LiveSocket} socket
   */
  attach(socket) {
    this.#items.clear();
    this.#unread = 0;
    this.toggle(false);
    this.render();
    socket.addEventListener('message', (event) => {
      if (event.detail.type === 'notification') this.#arrived(event.detail.data);
      else if (event.detail.type === 'resync_required') this.load().catch(() => {});
    });
    // Whatever was missed before this (re)connection is in the REST list.
    socket.addEventListener('open', () => this.load().catch(() => {}));
  }

  get unread() {
    return this.#unread;
  }

  async load() {
    const page = await api('GET', '/api/notifications?limit=30');
    this.#items = new Map(page.items.map((n) => [n.id, n]));
    this.#unread = page.unread_count;
    this.render();
  }

  toggle(open) {
    this.panel.hidden = !open;
    this.button.setAttribute('aria-expanded', String(open));
    if (open) {
      this.render();
      // Focus lands inside the panel (so Escape closes it) even while the list is still loading
      // and "Mark all read" is disabled: then the panel itself takes it.
      const target = this.list.querySelector('button') ?? (this.markAll.disabled ? this.panel : this.markAll);
      target.focus();
    }
  }

  render() {
    const count = this.#unread;
    this.badge.textContent = count > 9 ? '9+' : String(count);
    this.badge.hidden = count === 0;
    this.button.setAttribute('aria-label', count ? `Notifications, ${count} unread` : 'Notifications');
    this.markAll.disabled = count === 0;
    if (this.panel.hidden) return;
    const items = [...this.#items.values()].sort((a, b) => b.id - a.id);
    // Re-rendering replaces the buttons: keep keyboard focus on the same notification (or in the panel)
    // instead of dropping it to the page, where Escape would no longer close the panel.
    const focused = this.list.contains(document.activeElement) ? document.activeElement.dataset.id ?? '' : null;
    this.list.replaceChildren(
      ...(items.length
        ? items.map((n) =>
            h(
              'li',
              {},
              h(
                'button',
                { type: 'button', class: `notif ${n.read ? 'read' : 'unread'}`, dataset: { id: String(n.id) }, on: { click: () => this.#open(n) } },
                h('span', { class: 'notif-dot', 'aria-hidden': 'true' }),
                h('span', { class: 'notif-text' }, h('strong', {}, n.title), detail(n) && h('span', {}, detail(n)), h('time', { datetime: n.timestamp }, timeAgo(n.timestamp))),
                n.read ? null : h('span', { class: 'sr-only' }, '(unread)'),
              ),
            ),
          )
        : [h('li', { class: 'notif-empty' }, 'You are all caught up.')]),
    );
    if (focused !== null) {
      const same = focused && this.list.querySelector(`button[data-id="${focused}"]`);
      (same || this.list.querySelector('button') || this.panel).focus();
    }
  }

  #arrived(notification) {
    if (!notification || typeof notification.id !== 'number' || this.#items.has(notification.id)) return;
    this.#items.set(notification.id, notification);
    if (!notification.read) this.#unread += 1;
    this.render();
    toast({
      title: notification.title,
      message: detail(notification),
      onClick: notification.ticket_id ? () => this.#open(notification) : undefined,
    });
  }

  async #open(notification) {
    this.toggle(false);
    this.onOpen(notification.project_id, notification.ticket_id);
    if (notification.read) return;
    notification.read = true;
    this.#unread = Math.max(0, this.#unread - 1);
    this.render();
    await api('POST', `/api/notifications/${notification.id}/read`).catch(() => {});
  }

  async #markAll() {
    await api('POST', '/api/notifications/read-all');
    for (const n of this.#items.values()) n.read = true;
    this.#unread = 0;
    this.render();
  }
}

/** The message, unless the title already says it ("Assigned to you: OPS-7 …" / "OPS-7 …"). */
function detail(notification) {
  const message = (notification.message ?? '').trim();
  return message && !notification.title.includes(message) ? message : '';
}
