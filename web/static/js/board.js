/**
 * The Kanban board: one column per status, cards that move by drag-and-drop or keyboard, and a
 * quick-create form per column.
 *
 * The board only draws what the `TicketStore` holds and reports intents through callbacks
 * (`onOpen`, `onMove`, `onCreate`); the caller talks to the hub. Card elements are kept per ticket
 * id and moved rather than rebuilt, so focus and an in-progress drag survive live updates.
 *
 * Keyboard: Enter opens a card; Space picks it up, ←/→ carry it across columns, Space drops, Escape
 * cancels. Without a card picked up, the arrow keys move focus between cards.
 */

import { PRIORITY_RANK, STATUSES, fillCard, statusLabel } from './cards.js';
import { announce, h } from './dom.js';

const DRAG_TYPE = 'application/x-switchboard-ticket';

export class Board {
  /** @type {Map<string, {section: HTMLElement, list: HTMLElement, count: HTMLElement, form: HTMLFormElement}>} */
  #columns = new Map();
  /** @type {Map<number, {el: HTMLElement, ticket: object}>} */
  #cards = new Map();
  #canWrite = false;
  #filter = () => true;
  #selected = null;
  #dragId = null;
  /** @type {{id: number, from: string, at: string}|null} */
  #lifted = null;
  #carrying = false;

  /**
   * @param {HTMLElement} root
   * @param {{store: import('./store.js').TicketStore, onOpen: (id: number) => void,
   *   onMove: (id: number, status: string) => void, onCreate: (status: string, title: string) => Promise<void>}} deps
   */
  constructor(root, { store, onOpen, onMove, onCreate }) {
    this.root = root;
    this.store = store;
    this.onOpen = onOpen;
    this.onMove = onMove;
    this.onCreate = onCreate;
    this.#build();
  }

  /** Members may move and create; viewers only look. */
  setWritable(canWrite) {
    this.#canWrite = canWrite;
    this.root.classList.toggle('read-only', !canWrite);
    for (const { section } of this.#columns.values()) {
      section.querySelector('.add-btn').hidden = !canWrite;
    }
    for (const { el } of this.#cards.values()) el.draggable = canWrite;
    if (!canWrite) for (const { form } of this.#columns.values()) form.hidden = true;
  }

  /** Show only tickets for which `predicate(ticket)` is true (and keep doing so as they change). */
  setFilter(predicate) {
    this.#filter = predicate;
    this.render();
  }

  /** Mark the card whose ticket is open in the drawer (or none). */
  setSelected(id) {
    this.#selected = id;
    for (const [cardId, { el }] of this.#cards) el.classList.toggle('selected', cardId === id);
  }

  /** Forget every card (project switch). */
  reset() {
    this.#cards.clear();
    for (const { list, form } of this.#columns.values()) {
      list.replaceChildren();
      form.hidden = true;
    }
  }

  /** Redraw from the store; `changed` ids that came from elsewhere flash briefly. */
  render(changed = [], { flash = false } = {}) {
    if (this.#lifted) return; // the keyboard user is carrying a card; redraw when they drop it
    const active = document.activeElement;
    const byStatus = new Map(STATUSES.map((s) => [s.id, []]));
    for (const ticket of this.store.all()) {
      if (!this.#filter(ticket)) continue;
      byStatus.get(ticket.status)?.push(ticket);
    }
    const keep = new Set();
    for (const [status, tickets] of byStatus) {
      tickets.sort((a, b) => PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority] || b.id - a.id);
      const column = this.#columns.get(status);
      const els = tickets.map((ticket) => {
        keep.add(ticket.id);
        return this.#card(ticket);
      });
      els.forEach((el, i) => {
        if (column.list.children[i] !== el) column.list.insertBefore(el, column.list.children[i] ?? null);
      });
      while (column.list.children.length > els.length) column.list.lastElementChild.remove();
      column.count.textContent = String(tickets.length);
    }
    for (const id of this.#cards.keys()) if (!keep.has(id) && !this.store.get(id)) this.#cards.delete(id);
    if (active instanceof HTMLElement && active.isConnected && document.activeElement !== active) {
      active.focus({ preventScroll: true });
    }
    if (flash) {
      for (const id of changed) {
        const el = this.#cards.get(id)?.el;
        if (!el?.isConnected) continue;
        el.classList.remove('flash');
        void el.offsetWidth; // restart the animation
        el.classList.add('flash');
      }
    }
  }

  /** Focus a ticket's card, if it is on the board. */
  focusCard(id) {
    const el = this.#cards.get(Number(id))?.el;
    if (el?.isConnected) el.focus();
    return Boolean(el?.isConnected);
  }

  /** Focus the board's (visually hidden) heading, e.g. after the focused card was deleted. */
  focusHeading() {
    const heading = this.root.querySelector('h1');
    if (!heading) return;
    heading.tabIndex = -1;
    heading.focus();
  }

  #build() {
    // The page's level-one heading, for screen readers (the project picker names the board visually).
    this.root.replaceChildren(h('h1', { class: 'sr-only' }, 'Board'));
    for (const { id, label } of STATUSES) {
      const titleId = `col-${id}-title`;
      const count = h('span', { class: 'count', 'aria-label': 'tickets' }, '0');
      const input = h('input', {
        type: 'text',
        class: 'quick-input',
        name: 'title',
        maxLength: 200,
        placeholder: 'Ticket title…',
        'aria-label': `Title of a new ${label} ticket`,
        autocomplete: 'off',
      });
      const error = h('p', { class: 'form-error', role: 'alert' });
      const form = h(
        'form',
        { class: 'quick-create', hidden: true },
        input,
        error,
        h(
          'div',
          { class: 'quick-actions' },
          h('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, 'Create'),
          h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => this.#closeForm(id) } }, 'Cancel'),
        ),
      );
      form.addEventListener('submit', (event) => this.#submitForm(event, id, input, error));
      input.addEventListener('keydown', (event) => {
        if (event.key === 'Escape') {
          event.stopPropagation();
          this.#closeForm(id);
        }
      });
      // Not an <ol>: each card is a button (role), and a list may only hold list items.
      const list = h('div', { class: 'cards' });
      const section = h(
        'section',
        { class: 'column', dataset: { status: id }, 'aria-labelledby': titleId },
        h(
          'header',
          { class: 'column-head' },
          h('span', { class: `status-dot status-${id}`, 'aria-hidden': 'true' }),
          h('h2', { id: titleId }, label),
          count,
          h(
            'button',
            {
              type: 'button',
              class: 'icon-btn add-btn',
              'aria-label': `Create ticket in ${label}`,
              title: `Create ticket in ${label}`,
              on: { click: () => this.#openForm(id) },
            },
            '+',
          ),
        ),
        form,
        list,
        h('p', { class: 'column-empty' }, 'No tickets'),
      );
      this.#wireDrop(section, id);
      this.#columns.set(id, { section, list, count, form });
      this.root.append(section);
    }
  }

  #openForm(status) {
    const { form } = this.#columns.get(status);
    form.hidden = false;
    form.querySelector('input').focus();
  }

  #closeForm(status) {
    const { form, section } = this.#columns.get(status);
    form.reset();
    form.querySelector('.form-error').textContent = '';
    form.hidden = true;
    section.querySelector('.add-btn').focus();
  }

  async #submitForm(event, status, input, error) {
    event.preventDefault();
    const title = input.value.trim();
    if (!title) return;
    input.disabled = true;
    error.textContent = '';
    try {
      await this.onCreate(status, title);
      input.value = ''; // keep the form open for the next one, like Linear and Trello do
    } catch (failure) {
      error.textContent = failure.fields?.title ?? failure.message;
    } finally {
      input.disabled = false;
      input.focus();
    }
  }

  #card(ticket) {
    const cached = this.#cards.get(ticket.id);
    if (cached && cached.ticket === ticket) return cached.el;
    const el = cached?.el ?? this.#newCard(ticket.id);
    fillCard(el, ticket);
    el.classList.toggle('selected', ticket.id === this.#selected);
    this.#cards.set(ticket.id, { el, ticket });
    return el;
  }

  #newCard(id) {
    const el = h('div', {
      class: 'card',
      tabindex: '0',
      role: 'button',
      'aria-roledescription': 'ticket card',
      'aria-describedby': 'card-help',
      dataset: { id: String(id) },
    });
    el.draggable = this.#canWrite;
    el.addEventListener('click', () => this.onOpen(id));
    el.addEventListener('keydown', (event) => this.#onKey(event, id, el));
    el.addEventListener('blur', () => {
      if (this.#lifted?.id === id && !this.#carrying) this.#cancelLift(false);
    });
    el.addEventListener('dragstart', (event) => {
      if (!this.#canWrite) return event.preventDefault();
      this.#dragId = id;
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData(DRAG_TYPE, String(id));
      event.dataTransfer.setData('text/plain', this.store.get(id)?.key ?? String(id));
      requestAnimationFrame(() => el.classList.add('dragging'));
      this.root.classList.add('dragging-active');
    });
    el.addEventListener('dragend', () => {
      this.#dragId = null;
      el.classList.remove('dragging');
      this.root.classList.remove('dragging-active');
      for (const { section } of this.#columns.values()) section.classList.remove('drop-target');
    });
    return el;
  }

  #wireDrop(section, status) {
    section.addEventListener('dragover', (event) => {
      if (this.#dragId === null || !this.#canWrite) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      for (const { section: other } of this.#columns.values()) other.classList.toggle('drop-target', other === section);
    });
    section.addEventListener('dragleave', (event) => {
      if (!section.contains(event.relatedTarget)) section.classList.remove('drop-target');
    });
    section.addEventListener('drop', (event) => {
      event.preventDefault();
      section.classList.remove('drop-target');
      const id = this.#dragId ?? Number(event.dataTransfer.getData(DRAG_TYPE));
      this.#dragId = null;
      const ticket = id ? this.store.get(id) : null;
      if (ticket && this.#canWrite && ticket.status !== status) this.onMove(ticket.id, status);
    });
  }

  #onKey(event, id, el) {
    const key = event.key;
    if (this.#lifted) {
      if (key === 'ArrowLeft' || key === 'ArrowRight') this.#carry(key === 'ArrowLeft' ? -1 : 1, el);
      else if (key === ' ' || key === 'Enter') this.#drop();
      else if (key === 'Escape') this.#cancelLift(true);
      else if (key !== 'Tab') return;
      if (key !== 'Tab') event.preventDefault();
      return;
    }
    if (key === 'Enter') {
      event.preventDefault();
      this.onOpen(id);
    } else if (key === ' ') {
      event.preventDefault();
      if (!this.#canWrite) {
        announce('You can view this project but not move tickets.');
        return;
      }
      const status = this.store.get(id)?.status;
      this.#lifted = { id, from: status, at: status };
      el.classList.add('lifted');
      this.#columns.get(status).section.classList.add('drop-target');
      announce(`Picked up ${this.store.get(id)?.key}. Use the left and right arrow keys to choose a column, Space to drop, Escape to cancel.`);
    } else if (key.startsWith('Arrow')) {
      event.preventDefault();
      this.#moveFocus(el, key);
    }
  }

  #carry(step, el) {
    const order = STATUSES.map((s) => s.id);
    const next = order[order.indexOf(this.#lifted.at) + step];
    if (!next) return;
    this.#columns.get(this.#lifted.at).section.classList.remove('drop-target');
    this.#lifted.at = next;
    const { section, list } = this.#columns.get(next);
    section.classList.add('drop-target');
    this.#carrying = true;
    list.prepend(el);
    el.focus();
    this.#carrying = false;
    el.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    announce(`${statusLabel(next)}. Press Space to drop here, Escape to cancel.`);
  }

  #drop() {
    const { id, from, at } = this.#lifted;
    this.#endLift();
    if (at !== from) {
      announce(`Moved ${this.store.get(id)?.key} to ${statusLabel(at)}.`);
      this.onMove(id, at);
    } else {
      announce('Dropped in the same column.');
    }
    this.render();
    this.focusCard(id);
  }

  #cancelLift(refocus) {
    const { id } = this.#lifted;
    this.#endLift();
    announce('Move cancelled.');
    this.render();
    if (refocus) this.focusCard(id);
  }

  #endLift() {
    const { id, at } = this.#lifted;
    this.#lifted = null;
    this.#cards.get(id)?.el.classList.remove('lifted');
    this.#columns.get(at)?.section.classList.remove('drop-target');
  }

  #moveFocus(el, key) {
    const list = el.parentElement;
    if (key === 'ArrowUp') return el.previousElementSibling?.focus();
    if (key === 'ArrowDown') return el.nextElementSibling?.focus();
    const index = [...list.children].indexOf(el);
    const order = STATUSES.map((s) => s.id);
    let at = order.indexOf(el.dataset.status);
    const step = key === 'ArrowLeft' ? -1 : 1;
    for (at += step; at >= 0 && at < order.length; at += step) {
      const cards = this.#columns.get(order[at]).list.children;
      if (cards.length) return cards[Math.min(index, cards.length - 1)].focus();
    }
    return undefined;
  }
}
