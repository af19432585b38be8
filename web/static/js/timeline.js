/**
 * The drawer's "Activity" tab: what happened to a ticket, newest first, from
 * `GET /api/tickets/{id}/events?before=N&limit=M` ("Alice changed status Todo → In Progress · 2m ago ·
 * via Slack"). "Load older" pages back with `next_before`; `refresh()` (a live change to the ticket)
 * fetches the newest page again and merges it with what is already shown. Nothing is fetched while the
 * tab is hidden: it is marked stale and loads when shown.
 */

import { api } from './api.js';
import { priorityLabel, statusLabel } from './cards.js';
import { avatar, h, timeAgo, toast } from './dom.js';

const PAGE = 20;

/** How an event's `origin` is named to people. */
export const ORIGIN_NAMES = {
  web: 'web',
  api: 'API',
  slack: 'Slack',
  discord: 'Discord',
  github: 'GitHub',
  alertmanager: 'Alertmanager',
  integration: 'integration',
};

export class Timeline {
  /** @type {Map<number, object>} */
  #events = new Map();
  #ticketId = null;
  #nextBefore = null;
  #visible = false;
  #stale = true;
  #seq = 0;
  #timer = 0;

  /**
   * @param {{list: HTMLElement, older: HTMLButtonElement, getMembers: () => Array<object>}} deps
   */
  constructor({ list, older, getMembers }) {
    this.list = list;
    this.older = older;
    this.getMembers = getMembers;
    older.addEventListener('click', () => this.#loadOlder());
  }

  /** Show the history of `ticketId` (loaded now if the tab is visible, else when it is shown). */
  setTicket(ticketId) {
    if (ticketId === this.#ticketId) return;
    this.#ticketId = ticketId;
    this.#events.clear();
    this.#nextBefore = null;
    this.#seq += 1;
    this.list.replaceChildren();
    this.older.hidden = true;
    this.#stale = true;
    if (this.#visible) this.#loadNewest();
  }

  /** The tab was shown or hidden. */
  setVisible(visible) {
    this.#visible = visible;
    if (visible && this.#stale) this.#loadNewest();
  }

  /** The ticket changed (a live event or our own edit): fetch the newest events again, soon. */
  refresh() {
    this.#stale = true;
    if (!this.#visible || this.#ticketId === null) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#loadNewest(), 250);
  }

  async #loadNewest() {
    const id = this.#ticketId;
    if (id === null) return;
    this.#stale = false;
    const seq = ++this.#seq;
    this.list.setAttribute('aria-busy', 'true');
    try {
      const page = await api('GET', `/api/tickets/${id}/events?limit=${PAGE}`);
      if (seq !== this.#seq) return;
      const first = this.#events.size === 0;
      for (const event of page.items) this.#events.set(event.id, event);
      if (first) this.#nextBefore = page.next_before ?? null;
      this.#render();
    } catch (error) {
      if (seq === this.#seq && error.status !== 404) toast({ kind: 'error', title: 'Could not load the activity', message: error.message });
    } finally {
      if (seq === this.#seq) this.list.setAttribute('aria-busy', 'false');
    }
  }

  async #loadOlder() {
    const id = this.#ticketId;
    if (id === null || this.#nextBefore === null) return;
    const seq = this.#seq;
    this.older.disabled = true;
    try {
      const page = await api('GET', `/api/tickets/${id}/events?before=${this.#nextBefore}&limit=${PAGE}`);
      if (seq !== this.#seq) return;
      for (const event of page.items) this.#events.set(event.id, event);
      this.#nextBefore = page.next_before ?? null;
      const firstNew = page.items[0]?.id;
      this.#render();
      if (firstNew !== undefined) this.list.querySelector(`[data-id="${firstNew}"]`)?.focus();
    } catch (error) {
      toast({ kind: 'error', title: 'Could not load older activity', message: error.message });
    } finally {
      this.older.disabled = false;
    }
  }

  #render() {
    const events = [...this.#events.values()].sort((a, b) => b.id - a.id);
    this.list.replaceChildren(...events.map((event) => this.#item(event)));
    if (!events.length) this.list.append(h('li', { class: 'muted timeline-empty' }, 'No activity yet.'));
    this.older.hidden = this.#nextBefore === null;
  }

  #item(event) {
    const origin = event.origin ? ORIGIN_NAMES[event.origin] ?? event.origin : null;
    const who = event.actor?.name ?? (origin && origin !== 'web' && origin !== 'API' ? origin : 'Someone');
    return h(
      'li',
      { class: 'timeline-event', dataset: { id: String(event.id), type: event.type }, tabindex: '-1' },
      event.actor ? avatar(event.actor, { size: 'xs' }) : h('span', { class: 'avatar avatar-xs avatar-empty', 'aria-hidden': 'true' }),
      h(
        'div',
        { class: 'timeline-main' },
        h('p', { class: 'timeline-text' }, h('strong', {}, who), ' ', this.#describe(event)),
        h(
          'p',
          { class: 'timeline-meta' },
          h('time', { datetime: event.created_at, title: new Date(event.created_at).toLocaleString() }, timeAgo(event.created_at)),
          origin ? [' · ', h('span', { class: 'origin', dataset: { origin: event.origin } }, `via ${origin}`)] : null,
        ),
      ),
    );
  }

  /** What an event did, as words (and `→` arrows between old and new values). */
  #describe(event) {
    const changes = event.changes ?? {};
    switch (event.type) {
      case 'ticket.created':
        return 'created the ticket';
      case 'ticket.deleted':
        return 'deleted the ticket';
      case 'ticket.status_changed':
        return fromTo('changed status', changes.status, statusLabel);
      case 'ticket.assigned':
        return this.#assigned(changes.assignee_id ?? [null, null]);
      case 'ticket.watchers_changed':
        return changes.watchers?.[1] === false ? 'stopped watching' : 'started watching';
      case 'ticket.updated':
        return joinParts(Object.entries(changes).map(([field, change]) => describeField(field, change)));
      case 'comment.created':
        return ['commented: ', h('q', { class: 'timeline-quote' }, excerpt(event.comment?.excerpt ?? event.comment?.body ?? ''))];
      case 'comment.updated':
        return 'edited a comment';
      case 'comment.deleted':
        return 'deleted a comment';
      default:
        return event.type;
    }
  }

  #assigned([from, to]) {
    const name = (id) => {
      if (id === null || id === undefined) return null;
      return this.getMembers().find((m) => m.user_id === id)?.user.name ?? `user #${id}`;
    };
    if (to === null || to === undefined) return from ? `unassigned ${name(from)}` : 'unassigned the ticket';
    if (from === null || from === undefined) return `assigned it to ${name(to)}`;
    return fromTo('changed the assignee', [from, to], name);
  }
}

function fromTo(verb, change, show = (v) => v) {
  if (!Array.isArray(change)) return verb;
  const [from, to] = change;
  return [`${verb} `, h('span', { class: 'tl-old' }, String(show(from) ?? 'none')), ' → ', h('span', { class: 'tl-new' }, String(show(to) ?? 'none'))];
}

function describeField(field, change) {
  const [from, to] = Array.isArray(change) ? change : [undefined, undefined];
  switch (field) {
    case 'title':
      return ['renamed it ', h('q', {}, String(from ?? '')), ' → ', h('q', {}, String(to ?? ''))];
    case 'priority':
      return fromTo('changed priority', change, priorityLabel);
    case 'description':
      return 'edited the description';
    case 'labels': {
      const before = new Set(from ?? []);
      const after = new Set(to ?? []);
      const added = [...after].filter((l) => !before.has(l));
      const removed = [...before].filter((l) => !after.has(l));
      const parts = [];
      if (added.length) parts.push([`added ${added.length > 1 ? 'labels' : 'label'} `, labelList(added)]);
      if (removed.length) parts.push([`removed ${removed.length > 1 ? 'labels' : 'label'} `, labelList(removed)]);
      return parts.length ? joinParts(parts) : 'changed the labels';
    }
    default:
      return `changed ${field.replace(/_/g, ' ')}`;
  }
}

function labelList(labels) {
  return labels.flatMap((l, i) => [i ? ', ' : '', h('span', { class: 'label' }, l)]);
}

function joinParts(parts) {
  if (!parts.length) return 'edited the ticket';
  return parts.flatMap((part, i) => (i ? ['; ', part] : [part]));
}

function excerpt(text) {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 120 ? `${flat.slice(0, 117)}…` : flat;
}
