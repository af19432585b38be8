/**
 * Small building blocks shared by the settings screens (account, webhooks, chat subscriptions,
 * integrations): labelled fields with their error line, inline confirmations, "shown once" secrets
 * with a copy button, and date formatting. Everything is built with `h()`; nothing uses HTML strings.
 */

import { ApiError } from './api.js';
import { announce, h } from './dom.js';

let uid = 0;
/** A fresh id for label/aria wiring. */
export function nextId(prefix = 'st') {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * A labelled field: `<div class="field"><label/> <input/> <p hint/> <p error/></div>`.
 * The input gets an id, `aria-describedby` (hint + error) and `data-field` (for API field errors).
 * @param {string} label
 * @param {HTMLElement} input
 * @param {{hint?: string, name?: string}} [opts]
 */
export function field(label, input, { hint = '', name = '' } = {}) {
  input.id ||= nextId('f');
  const errorId = `${input.id}-error`;
  const hintId = `${input.id}-hint`;
  if (name) input.dataset.field = name;
  input.setAttribute('aria-describedby', hint ? `${hintId} ${errorId}` : errorId);
  return h(
    'div',
    { class: 'field st-field' },
    h('label', { for: input.id }, label),
    input,
    hint && h('p', { class: 'field-hint', id: hintId }, hint),
    h('p', { class: 'field-error', id: errorId }),
  );
}

/** Clear every field error in `scope`. */
export function clearErrors(scope) {
  for (const p of scope.querySelectorAll('.field-error, .form-error')) p.textContent = '';
  for (const input of scope.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
}

/**
 * Show an ApiError's per-field messages next to the inputs whose `data-field` matches; whatever has
 * no field goes to `fallback` (a `.form-error` element). Focus moves to the first invalid input.
 */
export function showErrors(scope, error, fallback) {
  clearErrors(scope);
  const fields = error?.fields ?? {};
  let first = null;
  const unplaced = [];
  for (const [name, message] of Object.entries(fields)) {
    const input = scope.querySelector(`[data-field="${CSS.escape(name)}"]`);
    const line = input && scope.querySelector(`#${CSS.escape(input.id)}-error`);
    if (!line) {
      unplaced.push(`${name}: ${message}`);
      continue;
    }
    line.textContent = message;
    input.setAttribute('aria-invalid', 'true');
    first ??= input;
  }
  const general = unplaced.length ? `${errorText(error)} (${unplaced.join('; ')})` : first ? '' : errorText(error);
  if (fallback) fallback.textContent = general || (first ? 'Please correct the marked fields.' : '');
  if (first) first.focus();
  else if (general) announce(general);
}

/** A user-facing sentence for a failed request. */
export function errorText(error) {
  if (error instanceof ApiError) {
    if (error.status === 403) return `Not allowed: ${error.message}`;
    return error.message || `The hub answered ${error.status}.`;
  }
  return String(error?.message ?? error);
}

/** A polite status line (`role=status`) for confirmations. */
export function statusLine(extraClass = '') {
  return h('p', { class: `st-status ${extraClass}`.trim(), role: 'status' });
}

/** "3 Dec 2026, 17:45" in the user's locale, or "—". */
export function fmtTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A `<time>` element showing `fmtTime`. */
export function timeEl(iso) {
  return h('time', { datetime: iso ?? '' }, fmtTime(iso));
}

/**
 * A button copying `text` to the clipboard, saying "Copied" for a moment.
 * @param {() => string} text
 * @param {string} label accessible name, e.g. "Copy the secret"
 */
export function copyButton(text, label) {
  const button = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': label }, 'Copy');
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(text());
      button.textContent = 'Copied';
      announce('Copied to the clipboard.');
    } catch {
      button.textContent = 'Select and copy';
      announce('Copying is blocked here: select the text and copy it.');
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
  });
  return button;
}

/**
 * A panel with values shown only once (a new secret): each value in a `<code>` with a copy button,
 * and a "Done" button that removes the panel. Focus moves to the panel heading.
 * @param {string} title
 * @param {Array<[string, string]>} values label → value
 * @param {string} [note]
 */
export function onceBox(title, values, note = 'Copy it now: it is not shown again.') {
  const headingId = nextId('once');
  const box = h(
    'section',
    { class: 'secret-once st-once', 'aria-labelledby': headingId },
    h('h3', { id: headingId, tabindex: '-1' }, title),
    h('p', { class: 'field-hint' }, note),
    values.map(([label, value]) =>
      h(
        'div',
        { class: 'st-once-row' },
        h('span', { class: 'st-once-label' }, label),
        h('code', { class: 'st-secret', dataset: { once: label } }, value),
        copyButton(() => value, `Copy the ${label.toLowerCase()}`),
      ),
    ),
    h('button', { type: 'button', class: 'btn btn-primary btn-sm', on: { click: () => box.remove() } }, 'Done, I have copied it'),
  );
  requestAnimationFrame(() => box.querySelector('h3')?.focus());
  return box;
}

/**
 * Ask before doing something destructive, inline (no window.confirm): `host` shows the question
 * with a confirming and a cancelling button; focus moves to the cancel button, and back to
 * `trigger` on cancel.
 * @param {HTMLElement} host where the question appears (its content is replaced while asking)
 * @param {HTMLElement} trigger the button that asked
 * @param {{question: string, confirm: string, onConfirm: () => Promise<void>|void}} opts
 */
export function confirmInline(host, trigger, { question, confirm, onConfirm }) {
  const error = h('p', { class: 'form-error', role: 'alert' });
  const yes = h('button', { type: 'button', class: 'btn btn-danger btn-sm' }, confirm);
  const no = h('button', { type: 'button', class: 'btn btn-ghost btn-sm' }, 'Cancel');
  const box = h('div', { class: 'st-confirm', role: 'group', 'aria-label': question }, h('span', {}, question), yes, no, error);
  const close = () => {
    box.remove();
    trigger.hidden = false;
    trigger.focus();
  };
  no.addEventListener('click', close);
  box.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation();
      close();
    }
  });
  yes.addEventListener('click', async () => {
    yes.disabled = true;
    no.disabled = true;
    try {
      await onConfirm();
      box.remove();
    } catch (failure) {
      error.textContent = errorText(failure);
      yes.disabled = false;
      no.disabled = false;
    }
  });
  trigger.hidden = true;
  host.append(box);
  no.focus();
  return box;
}

/** Run `fn` with `button` disabled meanwhile. */
export async function busy(button, fn) {
  button.disabled = true;
  try {
    return await fn();
  } finally {
    button.disabled = false;
  }
}

/** A `<select>` of `options` ([value, label] pairs or plain values) with `value` selected. */
export function select(options, value, attrs = {}) {
  return h(
    'select',
    attrs,
    options.map((option) => {
      const [v, label] = Array.isArray(option) ? option : [option, option];
      return h('option', { value: v, selected: v === value }, label);
    }),
  );
}

/** A small table: headers, rows of cells (nodes or text), with a caption for screen readers. */
export function table(caption, headers, rows, extraClass = '') {
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: `table st-table ${extraClass}`.trim() },
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, headers.map((label) => h('th', { scope: 'col' }, label)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((cell, i) => h('td', { dataset: { label: headers[i] } }, cell))))),
    ),
  );
}

/** Webhook event types a receiver can subscribe to (docs/webhooks.md). */
export const WEBHOOK_EVENTS = [
  ['ticket.created', 'Ticket created'],
  ['ticket.updated', 'Ticket updated'],
  ['ticket.assigned', 'Ticket assigned'],
  ['ticket.status_changed', 'Status changed'],
  ['ticket.deleted', 'Ticket deleted'],
  ['comment.created', 'Comment added'],
  ['comment.updated', 'Comment edited'],
  ['comment.deleted', 'Comment deleted'],
];

export const STATUSES = [
  ['todo', 'Todo'],
  ['in_progress', 'In Progress'],
  ['in_review', 'In Review'],
  ['done', 'Done'],
  ['canceled', 'Canceled'],
];

export const PRIORITIES = [
  ['low', 'Low'],
  ['medium', 'Medium'],
  ['high', 'High'],
  ['urgent', 'Urgent'],
];

/** The viewer's role allows managing the project's hooks and channels. */
export function isProjectAdmin(project) {
  return project?.role === 'owner' || project?.role === 'admin';
}
