/**
 * The toolbar filters: "My tickets", assignee, label, priority and text. They produce a predicate the
 * board applies on every redraw, so tickets arriving live are filtered like the rest. `/` focuses the
 * text filter.
 *
 * The filter state lives in the URL (the board route's query: `#/p/3?label=bug&priority=high&assignee=me&q=pager`),
 * so a filtered board can be shared and the back button restores the previous filter. The router owns
 * the hash: it hands every route's query to `setQuery(params)`, and the user's changes go out through
 * `onQuery(params, {replace})` — `replace` while a text search is being typed (one history entry per
 * search, not per keystroke), a new entry for every discrete pick.
 *
 * Query keys: `label` (exact label), `priority` (low|medium|high|urgent), `assignee` (`me`, `none` or a
 * user id), `q` (text in the key, title, description or labels).
 */

import { PRIORITIES } from './cards.js';
import { byId, h } from './dom.js';

export const FILTER_KEYS = ['label', 'priority', 'assignee', 'q'];
const PRIORITY_IDS = new Set(PRIORITIES.map((p) => p.id));
const EMPTY = Object.freeze({ label: '', priority: '', assignee: '', q: '' });

export class Filters {
  #timer = 0;
  #labelTimer = 0;
  /** @type {{label: string, priority: string, assignee: string, q: string}} */
  #state = { ...EMPTY };
  /** Whether the search being typed already has its own history entry (the rest of it replaces it). */
  #typing = false;
  #members = [];
  /** Whether the board got a predicate yet (a first `setQuery` with no filters must still apply). */
  #applied = false;

  /**
   * @param {{me: () => ({id: number}|null), onChange: (predicate: (ticket: object) => boolean) => void,
   *   onQuery?: (params: URLSearchParams, opts: {replace: boolean}) => void,
   *   store?: import('./store.js').TicketStore}} deps
   */
  constructor({ me, onChange, onQuery = () => {}, store = null }) {
    this.me = me;
    this.onChange = onChange;
    this.onQuery = onQuery;
    this.store = store;
    this.assignee = byId('filter-assignee');
    this.label = byId('filter-label');
    this.priority = byId('filter-priority');
    this.text = byId('filter-text');
    this.mine = byId('filter-mine');
    this.clear = byId('filter-clear');
    this.priority.replaceChildren(h('option', { value: '' }, 'Any priority'), ...PRIORITIES.map((p) => h('option', { value: p.id }, p.label)));
    this.#fillLabels();
    this.text.addEventListener('input', () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => {
        if (this.#userChange({ q: this.text.value.trim() }, this.#typing)) this.#typing = true;
      }, 200);
    });
    this.text.addEventListener('blur', () => {
      this.#typing = false;
    });
    this.assignee.addEventListener('change', () => this.#userChange({ assignee: this.assignee.value }));
    this.label.addEventListener('change', () => this.#userChange({ label: this.label.value }));
    this.priority.addEventListener('change', () => this.#userChange({ priority: this.priority.value }));
    this.mine.addEventListener('click', () => this.#userChange({ assignee: this.#state.assignee === 'me' ? '' : 'me' }));
    this.clear.addEventListener('click', () => {
      clearTimeout(this.#timer);
      this.#userChange({ ...EMPTY });
      this.mine.focus(); // the button just hid itself: keep focus in the toolbar
    });
    store?.addEventListener('change', () => {
      clearTimeout(this.#labelTimer);
      this.#labelTimer = setTimeout(() => this.#fillLabels(), 50);
    });
    document.addEventListener('keydown', (event) => {
      const editing = event.target.closest?.('input, textarea, select, [contenteditable], dialog');
      if (event.key === '/' && !editing && this.text.offsetParent !== null) {
        event.preventDefault();
        this.text.focus();
      }
    });
  }

  /** The filter state as a URL query (only the keys that filter something, in a stable order). */
  query() {
    const params = new URLSearchParams();
    for (const key of FILTER_KEYS) if (this.#state[key]) params.set(key, this.#state[key]);
    return params;
  }

  /** Adopt the filters of a route's query (the router calls this on every board route). */
  setQuery(params) {
    const next = parse(params ?? new URLSearchParams(), this.me()?.id);
    const same = FILTER_KEYS.every((key) => next[key] === this.#state[key]);
    if (same && this.#applied) return;
    clearTimeout(this.#timer);
    this.#state = next;
    this.#typing = false;
    this.#render();
    this.apply();
  }

  /** Offer the project's members in the assignee filter. */
  setMembers(members) {
    this.#members = members;
    this.#render();
    this.apply();
  }

  /** Hand the board the predicate of the current state. */
  apply() {
    this.#applied = true;
    const { label, priority, assignee } = this.#state;
    const text = this.#state.q.toLowerCase();
    const myId = this.me()?.id;
    this.mine.setAttribute('aria-pressed', String(assignee === 'me'));
    this.clear.hidden = FILTER_KEYS.every((key) => !this.#state[key]);
    this.onChange((t) => {
      if (label && !t.labels.includes(label)) return false;
      if (priority && t.priority !== priority) return false;
      if (assignee === 'none' && t.assignee) return false;
      if (assignee === 'me' && t.assignee?.id !== myId) return false;
      if (assignee && assignee !== 'none' && assignee !== 'me' && String(t.assignee?.id) !== assignee) return false;
      if (!text) return true;
      return [t.key, t.title, t.description, ...t.labels].some((s) => s.toLowerCase().includes(text));
    });
  }

  #userChange(changes, replace = false) {
    const next = { ...this.#state, ...changes };
    if (FILTER_KEYS.every((key) => next[key] === this.#state[key])) return false;
    this.#state = next;
    this.#render({ keepText: 'q' in changes && Object.keys(changes).length === 1 });
    this.apply();
    this.onQuery(this.query(), { replace });
    return true;
  }

  /** Show the state in the controls (keeping what the user is typing in the text box). */
  #render({ keepText = false } = {}) {
    const { assignee, label, priority, q } = this.#state;
    const myId = this.me()?.id;
    const options = [h('option', { value: '' }, 'Anyone'), h('option', { value: 'none' }, 'Unassigned')];
    const ids = new Set();
    for (const m of this.#members) {
      ids.add(String(m.user_id));
      options.push(h('option', { value: m.user_id === myId ? 'me' : String(m.user_id) }, m.user_id === myId ? `${m.user.name} (me)` : m.user.name));
    }
    if (assignee === 'me' && !this.#members.some((m) => m.user_id === myId)) options.push(h('option', { value: 'me' }, 'Me'));
    if (assignee && !['me', 'none'].includes(assignee) && !ids.has(assignee)) options.push(h('option', { value: assignee }, `User #${assignee}`));
    this.assignee.replaceChildren(...options);
    this.assignee.value = assignee;
    this.#fillLabels();
    this.priority.value = priority;
    if (!keepText && this.text.value.trim() !== q) this.text.value = q;
    this.label.classList.toggle('active', Boolean(label));
    this.priority.classList.toggle('active', Boolean(priority));
    this.assignee.classList.toggle('active', Boolean(assignee));
  }

  /** The label picker offers every label on the board (and the one filtered by, even if unused now). */
  #fillLabels() {
    const names = new Set(this.store?.all().flatMap((t) => t.labels) ?? []);
    if (this.#state.label) names.add(this.#state.label);
    const sorted = [...names].sort((a, b) => a.localeCompare(b));
    const current = [...this.label.options].slice(1).map((o) => o.value);
    if (current.length !== sorted.length || current.some((name, i) => name !== sorted[i])) {
      this.label.replaceChildren(h('option', { value: '' }, 'Any label'), ...sorted.map((name) => h('option', { value: name }, name)));
    }
    this.label.value = this.#state.label;
  }
}

/** The filter state a query names; unknown priorities are dropped, `assignee=<my id>` reads as `me`. */
function parse(params, myId) {
  const get = (key) => (params.get(key) ?? '').trim();
  let assignee = get('assignee');
  if (assignee && assignee !== 'me' && assignee !== 'none' && !/^\d+$/.test(assignee)) assignee = '';
  if (myId !== undefined && assignee === String(myId)) assignee = 'me';
  const priority = PRIORITY_IDS.has(get('priority')) ? get('priority') : '';
  return { label: get('label').slice(0, 50), priority, assignee, q: get('q').slice(0, 200) };
}
