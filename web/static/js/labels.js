/**
 * The drawer's label editor: the ticket's labels as chips (each with a remove button) and an input
 * that suggests the project's labels — an ARIA combobox whose listbox is followed with
 * `aria-activedescendant`, so focus stays in the input.
 *
 * Keyboard: type to filter the suggestions; ↓/↑ choose one; Enter adds the chosen suggestion (or the
 * typed text); Escape closes the list; Backspace in the empty input removes the last label.
 * Every change calls `onChange(labels)` with the whole new list (the drawer saves it with the
 * ticket's version). Without write access only the chips are shown.
 */

import { announce, h } from './dom.js';

const MAX_SUGGESTIONS = 8;
const MAX_LABELS = 20;
const MAX_LENGTH = 50;
let counter = 0;

export class LabelEditor {
  /** @type {string[]} */
  #labels = [];
  #writable = false;
  /** @type {string[]} */
  #options = [];
  #active = -1;
  #updateSeq = 0;

  /**
   * @param {HTMLElement} root an empty element to fill
   * @param {{suggestions: () => Promise<string[]>|string[], onChange: (labels: string[]) => void,
   *   labelledBy?: string}} deps
   */
  constructor(root, { suggestions, onChange, labelledBy }) {
    this.root = root;
    this.suggestions = suggestions;
    this.onChange = onChange;
    const id = `labels-${++counter}`;
    this.listId = `${id}-list`;
    this.chips = h('ul', { class: 'label-chips', ...(labelledBy ? { 'aria-labelledby': labelledBy } : { 'aria-label': 'Labels' }) });
    this.input = h('input', {
      type: 'text',
      class: 'label-input',
      role: 'combobox',
      'aria-label': 'Add a label',
      'aria-autocomplete': 'list',
      'aria-expanded': 'false',
      'aria-controls': this.listId,
      autocomplete: 'off',
      maxLength: MAX_LENGTH,
      placeholder: 'Add a label…',
    });
    this.listbox = h('ul', { id: this.listId, class: 'label-options', role: 'listbox', 'aria-label': 'Label suggestions', hidden: true });
    this.box = h('div', { class: 'label-combo' }, this.input, this.listbox);
    root.replaceChildren(this.chips, this.box);
    this.#wire();
  }

  /** Show `labels`; `writable` shows the remove buttons and the input. */
  set(labels, writable) {
    const same = labels.length === this.#labels.length && labels.every((l, i) => l === this.#labels[i]);
    this.#labels = [...labels];
    if (!same || writable !== this.#writable) {
      this.#writable = writable;
      this.#drawChips();
    }
    this.box.hidden = !writable;
    if (!writable) this.#close();
  }

  /** Forget the input (another ticket was opened). */
  reset() {
    this.input.value = '';
    this.#close();
  }

  #wire() {
    this.input.addEventListener('input', () => this.#update());
    this.input.addEventListener('focus', () => this.#update());
    this.input.addEventListener('blur', () => setTimeout(() => {
      if (document.activeElement !== this.input) this.#close();
    }, 120));
    this.input.addEventListener('keydown', (event) => this.#onKey(event));
  }

  #onKey(event) {
    const open = !this.listbox.hidden;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        event.preventDefault();
        const step = event.key === 'ArrowDown' ? 1 : -1;
        if (!open) {
          this.#update({ show: true, step });
          return;
        }
        const n = this.#options.length;
        this.#active = this.#active < 0 ? (step > 0 ? 0 : n - 1) : (this.#active + step + n) % n;
        this.#drawOptions();
        return;
      }
      case 'Enter': {
        event.preventDefault();
        const chosen = open && this.#active >= 0 ? this.#options[this.#active] : this.input.value.trim();
        if (chosen) this.#add(chosen);
        return;
      }
      case 'Escape':
        if (open) {
          event.preventDefault(); // close the list, not the drawer
          event.stopPropagation();
          this.#close();
        }
        return;
      case 'Backspace':
        if (this.input.value === '' && this.#labels.length) {
          event.preventDefault();
          this.#remove(this.#labels.at(-1));
        }
        return;
      default:
    }
  }

  /** Recompute the suggestions; `show` opens the list even for an empty input, `step` (±1) also
   * highlights the first (or last) one. */
  async #update({ show = false, step = 0 } = {}) {
    const query = this.input.value.trim().toLowerCase();
    const seq = ++this.#updateSeq;
    const all = await this.suggestions();
    if (seq !== this.#updateSeq || document.activeElement !== this.input) return undefined; // typed on meanwhile
    const taken = new Set(this.#labels);
    this.#options = all
      .filter((name) => !taken.has(name) && (!query || name.toLowerCase().includes(query)))
      .sort((a, b) => Number(!a.toLowerCase().startsWith(query)) - Number(!b.toLowerCase().startsWith(query)) || a.localeCompare(b))
      .slice(0, MAX_SUGGESTIONS);
    if (!this.#options.length || (!query && !show)) return this.#close();
    this.#active = step > 0 ? 0 : step < 0 ? this.#options.length - 1 : -1;
    this.#drawOptions();
    return undefined;
  }

  #drawOptions() {
    this.listbox.replaceChildren(
      ...this.#options.map((name, i) =>
        h(
          'li',
          {
            id: `${this.listId}-${i}`,
            role: 'option',
            class: 'label-option',
            'aria-selected': String(i === this.#active),
            on: {
              mousedown: (event) => {
                event.preventDefault(); // keep focus in the input
                this.#add(name);
              },
            },
          },
          name,
        ),
      ),
    );
    this.listbox.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
    if (this.#active >= 0) {
      this.input.setAttribute('aria-activedescendant', `${this.listId}-${this.#active}`);
      this.listbox.children[this.#active]?.scrollIntoView({ block: 'nearest' });
    } else {
      this.input.removeAttribute('aria-activedescendant');
    }
  }

  #close() {
    this.#updateSeq += 1; // a suggestion lookup still under way must not reopen the list
    this.#options = [];
    this.#active = -1;
    this.listbox.hidden = true;
    this.listbox.replaceChildren();
    this.input.setAttribute('aria-expanded', 'false');
    this.input.removeAttribute('aria-activedescendant');
  }

  #add(name) {
    const label = name.trim().slice(0, MAX_LENGTH);
    this.input.value = '';
    this.#close();
    if (!label || this.#labels.includes(label)) return;
    if (this.#labels.length >= MAX_LABELS) {
      announce(`A ticket has at most ${MAX_LABELS} labels.`);
      return;
    }
    this.#labels = [...this.#labels, label];
    this.#drawChips();
    announce(`Label ${label} added.`);
    this.onChange([...this.#labels]);
  }

  #remove(label) {
    this.#labels = this.#labels.filter((l) => l !== label);
    this.#drawChips();
    this.input.focus();
    announce(`Label ${label} removed.`);
    this.onChange([...this.#labels]);
  }

  #drawChips() {
    const chips = this.#labels.map((label) =>
      h(
        'li',
        { class: 'label label-chip' },
        h('span', { class: 'label-name' }, label),
        this.#writable
          ? h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove label ${label}`, title: `Remove ${label}`, on: { click: () => this.#remove(label) } }, '×')
          : null,
      ),
    );
    this.chips.replaceChildren(...chips);
    this.chips.hidden = false;
    if (!chips.length && !this.#writable) this.chips.append(h('li', { class: 'muted' }, 'None'));
  }
}
