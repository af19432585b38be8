/**
 * The connection indicator in the top bar: one state for all of the page's sockets (the worst of
 * them: offline > reconnecting > connecting > live), a countdown to the next attempt while offline,
 * and a "Retry now" button that skips every socket's backoff wait.
 */

import { byId } from './dom.js';

const TEXT = {
  live: 'Live',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
  denied: 'No access',
};
const WORST_FIRST = ['denied', 'offline', 'reconnecting', 'connecting', 'live'];

export class ConnectionIndicator {
  /** @type {Set<import('./socket.js').LiveSocket>} */
  #sockets = new Set();
  #countdown = 0;
  constructor() {
    this.el = byId('connection');
    this.label = byId('connection-text');
    this.retry = byId('retry');
    this.retry.addEventListener('click', () => {
      for (const socket of this.#sockets) socket.retryNow();
    });
  }

  /** Follow a socket until it is stopped. */
  watch(socket) {
    this.#sockets.add(socket);
    const update = (event) => {
      if (event.detail.status === 'closed') {
        socket.removeEventListener('status', update);
        this.#sockets.delete(socket);
      }
      this.render();
    };
    socket.addEventListener('status', update);
    this.render();
  }

  render() {
    const statuses = [...this.#sockets].map((s) => s.status).filter((s) => s !== 'closed');
    const worst = WORST_FIRST.find((s) => statuses.includes(s)) ?? 'connecting';
    const retryAt = Math.max(0, ...[...this.#sockets].filter((s) => s.status === worst).map((s) => s.retryAt));
    this.el.dataset.state = worst;
    const tick = () => {
      const seconds = Math.ceil((retryAt - Date.now()) / 1000);
      this.label.textContent = worst === 'offline' && seconds > 0 ? `Offline · retry in ${seconds}s` : TEXT[worst];
    };
    tick();
    clearInterval(this.#countdown);
    if (worst === 'offline') this.#countdown = setInterval(tick, 1000);
    this.retry.hidden = worst !== 'offline' && worst !== 'reconnecting';
  }
}
