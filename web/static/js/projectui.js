/**
 * Small form pieces shared by the project screens (new project, project settings): labelled fields
 * whose errors sit under the input (announced through `aria-describedby`).
 */

import { h } from './dom.js';

let nextId = 0;

/** A unique element id with a readable prefix. */
export function uid(prefix) {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * A labelled control with a hint and an error line under it.
 * @param {string} label
 * @param {HTMLElement} control an <input>, <select> or <textarea> (gets an id if it has none)
 * @param {{hint?: string}} [opts]
 * @returns {{el: HTMLElement, control: HTMLElement, setError: (message: string) => void}}
 */
export function field(label, control, { hint = '' } = {}) {
  control.id ||= uid('f');
  const hintEl = hint ? h('p', { class: 'field-hint muted', id: `${control.id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'form-error field-error', id: `${control.id}-error` });
  const describe = () => {
    const ids = [hintEl?.id, errorEl.textContent ? errorEl.id : null].filter(Boolean);
    if (ids.length) control.setAttribute('aria-describedby', ids.join(' '));
    else control.removeAttribute('aria-describedby');
  };
  describe();
  const el = h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl, errorEl);
  return {
    el,
    control,
    setError(message) {
      errorEl.textContent = message || '';
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
      describe();
    },
  };
}

/**
 * Show the API's per-field messages at their fields; returns whether any field took one. The first
 * field with an error gets the focus.
 * @param {Record<string, {setError: (m: string) => void, control: HTMLElement}>} fields by API field name
 * @param {Record<string, string>} messages `ApiError.fields`
 */
export function showFieldErrors(fields, messages = {}) {
  let first = null;
  for (const [name, f] of Object.entries(fields)) {
    const message = messages[name] ?? '';
    f.setError(message);
    if (message && !first) first = f;
  }
  first?.control.focus();
  return first !== null;
}
