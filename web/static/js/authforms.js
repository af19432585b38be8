/**
 * Pieces the sign-up and invite screens share: labelled fields whose hint and error are tied to the
 * input with `aria-describedby`, the hub's field errors (`{"error": {"fields": {...}}}`) shown next to
 * each field, a form-level message (429 says how long to wait), and the password rules the hub applies
 * (hub/services/accounts/passwords.py).
 */

import { h } from './dom.js';

export const PASSWORD_RULES =
  'At least 8 characters. Common passwords, keyboard runs and anything built on your name or email are refused.';

/**
 * A labelled input with an optional hint and an error slot.
 * @param {{id: string, label: string, type?: string, autocomplete?: string, hint?: string, maxlength?: number}} spec
 * @returns {{wrap: HTMLElement, input: HTMLInputElement, error: HTMLElement, label: string}}
 */
export function field({ id, label, type = 'text', autocomplete, hint, maxlength }) {
  const hintEl = hint ? h('p', { id: `${id}-hint`, class: 'auth-hint' }, hint) : null;
  const error = h('p', { id: `${id}-error`, class: 'auth-field-error' });
  const input = h('input', {
    id,
    name: id,
    type,
    autocomplete,
    maxlength,
    required: true,
    'aria-describedby': [hintEl ? hintEl.id : null, error.id].filter(Boolean).join(' '),
  });
  const wrap = h('div', { class: 'auth-field' }, h('label', { for: id }, label), input, hintEl, error);
  return { wrap, input, error, label };
}

/** "45 seconds", "2 minutes", "1 hour". */
export function waitText(seconds) {
  const s = Math.max(1, Math.ceil(seconds));
  const [n, unit] = s < 90 ? [s, 'second'] : s < 5400 ? [Math.ceil(s / 60), 'minute'] : [Math.ceil(s / 3600), 'hour'];
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

const capitalise = (text) => text.charAt(0).toUpperCase() + text.slice(1);

/**
 * The errors of one form: per-field messages and a summary (`role="alert"`). `show()` puts each
 * message next to its field and moves focus to the first field in error, or to the summary.
 */
export class FormErrors {
  /**
   * @param {Record<string, ReturnType<typeof field>>} fields by the API's field name
   * @param {HTMLElement} summary
   */
  constructor(fields, summary) {
    this.fields = fields;
    this.summary = summary;
  }

  clear() {
    this.summary.textContent = '';
    for (const f of Object.values(this.fields)) {
      f.error.textContent = '';
      f.input.removeAttribute('aria-invalid');
    }
  }

  /** Empty required fields, a malformed email and a short password are caught before sending. */
  checkLocally() {
    const problems = {};
    for (const [name, f] of Object.entries(this.fields)) {
      const value = f.input.value.trim();
      if (!value) problems[name] = 'is required';
      else if (f.input.type === 'email' && f.input.validity.typeMismatch) problems[name] = 'must be a valid email address';
      else if (f.input.autocomplete === 'new-password' && f.input.value.length < 8) problems[name] = 'must be at least 8 characters';
    }
    if (Object.keys(problems).length === 0) return true;
    this.show({ status: 422, fields: problems, message: '' });
    return false;
  }

  /** Show an ApiError (or `{status, fields, message}`). */
  show(failure) {
    this.clear();
    let first = null;
    const loose = [];
    for (const [name, message] of Object.entries(failure.fields ?? {})) {
      const f = this.fields[name];
      if (!f) {
        loose.push(`${capitalise(name)} ${message}.`);
        continue;
      }
      f.error.textContent = `${f.label} ${message}.`;
      f.input.setAttribute('aria-invalid', 'true');
      first ??= f.input;
    }
    this.summary.textContent = [summaryText(failure, first !== null), ...loose].filter(Boolean).join(' ');
    const target = first ?? this.summary;
    if (target === this.summary) this.summary.tabIndex = -1;
    target.focus();
  }
}

function summaryText(failure, hasFieldErrors) {
  if (failure.status === 429) {
    const wait = failure.retryAfter ? ` Try again in ${waitText(failure.retryAfter)}.` : ' Wait a while, then try again.';
    return `Too many attempts from your address.${wait}`;
  }
  if (hasFieldErrors) return 'Please correct the fields marked below.';
  if (failure.status === 0) return failure.message;
  return failure.message ? `${capitalise(failure.message)}.`.replace(/\.\.$/, '.') : 'Something went wrong.';
}

/** The centred card signed-out screens use (the sign-in page's look). */
export function card(...children) {
  return h(
    'main',
    { class: 'login auth-page' },
    h('div', { class: 'login-card auth-card' }, h('div', { class: 'brand brand-lg' }, h('span', { class: 'brand-mark', 'aria-hidden': 'true' }), 'Switchboard'), ...children),
  );
}
