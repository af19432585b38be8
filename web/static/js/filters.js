/**
 * The toolbar filters: "My tickets", assignee and text. They produce a predicate the board applies
 * on every redraw, so tickets arriving live are filtered like the rest. `/` focuses the text filter.
 */

import { byId, h } from './dom.js';

export class Filters {
  #timer = 0;

  /**
   * @param {{me: () => {id: number}, onChange: (predicate: (ticket: object) => boolean) => void}} deps
   */
  constructor({ me, onChange }) {
    this.me = me;
    this.onChange = onChange;
    this.assignee = byId('filter-assignee');
    this.text = byId('filter-text');
    this.mine = byId('filter-mine');
    this.clear = byId('filter-clear');
    this.text.addEventListener('input', () => {
      clearTimeout(this.#timer);
      this.#timer = setTimeout(() => this.apply(), 120);
    });
    this.assignee.addEventListener('change', () => this.apply());
    this.mine.addEventListener('click', () => {
      const myId = String(this.me().id);
      this.assignee.value = this.assignee.value === myId ? '' : myId;
      this.apply();
    });
    this.clear.addEventListener('click', () => {
      this.assignee.value = '';
      this.text.value = '';
      this.apply();
    });
    document.addEventListener('keydown', (event) => {
      const editing = event.target.closest?.('input, textarea, select, [contenteditable]');
      if (event.key === '/' && !editing && this.text.offsetParent !== null) {
        event.preventDefault();
        this.text.focus();
      }
    });
  }

  /** Offer the project's members in the assignee filter (keeping the choice if still possible). */
  setMembers(members) {
    const current = this.assignee.value;
    const myId = this.me().id;
    this.assignee.replaceChildren(
      h('option', { value: '' }, 'Anyone'),
      h('option', { value: 'none' }, 'Unassigned'),
      ...members.map((m) => h('option', { value: String(m.user_id) }, m.user_id === myId ? `${m.user.name} (me)` : m.user.name)),
    );
    this.assignee.value = [...this.assignee.options].some((o) => o.value === current) ? current : '';
    this.apply();
  }

  apply() {
    const assignee = this.assignee.value;
    const text = this.text.value.trim().toLowerCase();
    this.mine.setAttribute('aria-pressed', String(assignee !== '' && assignee === String(this.me()?.id)));
    this.clear.hidden = !assignee && !text;
    this.onChange((t) => {
      if (assignee === 'none' && t.assignee) return false;
      if (assignee && assignee !== 'none' && String(t.assignee?.id) !== assignee) return false;
      if (!text) return true;
      return [t.key, t.title, t.description, ...t.labels].some((s) => s.toLowerCase().includes(text));
    });
  }
}
