/**
 * `@` completion of project members in a textarea (an ARIA combobox with a listbox popup).
 *
 * Typing `@` and a few letters lists matching members by name or email; ↑/↓ choose, Enter or Tab
 * inserts, Escape closes. The inserted handle is one the hub resolves (`hub/domain/mentions.py`):
 * the email's local part when no other member shares it, otherwise the whole email.
 */

import { avatar, h } from './dom.js';

const MAX_OPTIONS = 6;
const TOKEN_BEFORE_CARET = /(?:^|[^\w@])@([\w.+-]*)$/;

/** The handle that mentions `user` unambiguously among `members`. */
export function mentionHandle(user, members) {
  const local = user.email.split('@')[0].toLowerCase();
  const shared = members.filter((m) => m.user.email.split('@')[0].toLowerCase() === local).length > 1;
  return shared ? user.email : local;
}

/**
 * @param {HTMLTextAreaElement} textarea
 * @param {HTMLElement} listbox an empty `<ul>` placed next to the textarea
 * @param {() => Array<{user: {id: number, name: string, email: string}}>} getMembers
 */
export function attachMentions(textarea, listbox, getMembers) {
  let options = [];
  let active = 0;
  let tokenStart = -1;
  const listId = listbox.id;
  textarea.setAttribute('role', 'combobox');
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.setAttribute('aria-controls', listId);
  listbox.setAttribute('role', 'listbox');
  listbox.setAttribute('aria-label', 'Mention a member');
  close();

  function close() {
    options = [];
    listbox.hidden = true;
    listbox.replaceChildren();
    textarea.setAttribute('aria-expanded', 'false');
    textarea.removeAttribute('aria-activedescendant');
  }

  function update() {
    const before = textarea.value.slice(0, textarea.selectionStart);
    const match = textarea.selectionStart === textarea.selectionEnd ? TOKEN_BEFORE_CARET.exec(before) : null;
    if (!match) return close();
    const query = match[1].toLowerCase();
    tokenStart = before.length - match[1].length - 1;
    options = getMembers()
      .map((m) => m.user)
      .filter((u) => !query || u.email.toLowerCase().startsWith(query) || u.name.toLowerCase().split(/\s+/).some((w) => w.startsWith(query)) || u.name.toLowerCase().startsWith(query))
      .slice(0, MAX_OPTIONS);
    if (!options.length) return close();
    active = Math.min(active, options.length - 1);
    draw();
  }

  function draw() {
    listbox.replaceChildren(
      ...options.map((user, i) =>
        h(
          'li',
          {
            id: `${listId}-${i}`,
            role: 'option',
            class: 'mention-option',
            'aria-selected': String(i === active),
            on: {
              mousedown: (event) => {
                event.preventDefault(); // keep focus (and the caret) in the textarea
                choose(i);
              },
            },
          },
          avatar(user, { size: 'xs' }),
          h('span', { class: 'mention-name' }, user.name),
          h('span', { class: 'mention-email' }, user.email),
        ),
      ),
    );
    listbox.hidden = false;
    textarea.setAttribute('aria-expanded', 'true');
    textarea.setAttribute('aria-activedescendant', `${listId}-${active}`);
  }

  function choose(i) {
    const user = options[i];
    if (!user) return;
    const handle = `@${mentionHandle(user, getMembers())} `;
    const caret = textarea.selectionStart;
    textarea.setRangeText(handle, tokenStart, caret, 'end');
    close();
    textarea.dispatchEvent(new Event('input', { bubbles: true }));
    textarea.focus();
  }

  textarea.addEventListener('input', update);
  textarea.addEventListener('click', update);
  textarea.addEventListener('blur', () => setTimeout(close, 100));
  textarea.addEventListener('keydown', (event) => {
    if (listbox.hidden) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      active = (active + (event.key === 'ArrowDown' ? 1 : -1) + options.length) % options.length;
      draw();
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      choose(active);
    } else if (event.key === 'Escape') {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  });
  return { close };
}
