/**
 * DOM helpers shared by the board's modules.
 *
 * Everything the page shows is built with `h()` from text nodes, never from HTML strings, so data
 * from the server (titles, comments, names) cannot inject markup, and nothing needs inline styles
 * (the hub's Content-Security-Policy forbids them).
 */

/**
 * Create an element. `attrs` keys: `class`, `dataset` (object), `on` (event → handler),
 * booleans (`hidden`, `disabled`…) and any other attribute; `null`/`false` values are skipped.
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|number|null|false|undefined|Array<any>)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'on') for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
    else if (key in el && typeof value !== 'string') el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** `document.getElementById` that fails loudly when the page and the script disagree. */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el;
}

/** Initials of a display name: "Alice Archer" → "AA", "bob" → "B". */
export function initials(name) {
  const parts = String(name || '?').trim().split(/\s+/).filter(Boolean);
  const letters = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] || '?')[0];
  return letters.toUpperCase();
}

/**
 * A round avatar with initials; its colour is stable per user id (one of eight classes).
 * @param {{id?: number, user_id?: number, name: string}} user
 * @param {{size?: 'xs'|'sm'|'md', title?: string}} [opts]
 */
export function avatar(user, { size = 'sm', title } = {}) {
  const id = user.id ?? user.user_id ?? 0;
  return h(
    'span',
    { class: `avatar avatar-${size} av-c${Math.abs(id) % 8}`, title: title ?? user.name, 'aria-hidden': 'true' },
    initials(user.name),
  );
}

/** "just now", "5m", "3h", "2d", or a date, for timestamps in lists. */
export function timeAgo(iso) {
  const then = new Date(iso).getTime();
  const seconds = Math.max(0, (Date.now() - then) / 1000);
  if (seconds < 45) return 'just now';
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)}h ago`;
  if (seconds < 7 * 86400) return `${Math.round(seconds / 86400)}d ago`;
  return new Date(iso).toLocaleDateString();
}

/**
 * Say something to screen-reader users through the page's assertive live region.
 * @param {string} message
 */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A new text node in a later frame makes screen readers repeat identical messages too.
  requestAnimationFrame(() => { region.textContent = message; });
}

/**
 * Show a toast. Errors stay until closed or 8 s; others 6 s. `onClick` makes the toast a link.
 * @param {{title: string, message?: string, kind?: 'info'|'success'|'error', onClick?: () => void}} t
 * @returns {HTMLElement}
 */
export function toast({ title, message = '', kind = 'info', onClick }) {
  const stack = byId('toasts');
  const close = () => {
    el.classList.add('leaving');
    setTimeout(() => el.remove(), 180);
  };
  const body = h('div', { class: 'toast-body' }, h('strong', {}, title), message && h('p', {}, message));
  const el = h(
    'div',
    { class: `toast toast-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    onClick
      ? h('button', { type: 'button', class: 'toast-main', on: { click: () => { onClick(); close(); } } }, body)
      : body,
    h('button', { type: 'button', class: 'icon-btn toast-close', 'aria-label': 'Dismiss', on: { click: close } }, '×'),
  );
  stack.append(el);
  while (stack.children.length > 4) stack.firstElementChild.remove();
  setTimeout(close, kind === 'error' ? 8000 : 6000);
  return el;
}

/**
 * Split text into text nodes and highlighted `@mention` spans (the same token rule as the server).
 * @param {string} text
 */
export function withMentions(text) {
  const parts = [];
  const re = /(^|[^\w@])(@[\w.+-]+@[\w-]+(?:\.[\w-]+)+|@\w[\w.-]*)/g;
  let last = 0;
  for (const match of text.matchAll(re)) {
    const start = match.index + match[1].length;
    parts.push(text.slice(last, start), h('span', { class: 'mention' }, match[2]));
    last = start + match[2].length;
  }
  parts.push(text.slice(last));
  return parts.filter((p) => p !== '');
}
