/**
 * `#/new-project`: create a project (you become its owner), then open its board.
 *
 * The key follows the API's rule (2-10 characters: a letter, then letters or digits; stored upper-
 * cased); the browser checks it as you type only to help, the hub's answer is what counts, and its
 * per-field messages are shown at the fields.
 */

import { api, ApiError } from './api.js';
import { announce, h } from './dom.js';
import { field, showFieldErrors } from './projectui.js';

const KEY_PATTERN = /^[A-Z][A-Z0-9]{1,9}$/;

export function mount(root, ctx) {
  const key = field(
    'Key',
    h('input', {
      type: 'text', name: 'key', required: true, maxLength: 10, autocomplete: 'off',
      spellcheck: 'false', autocapitalize: 'characters', class: 'key-input',
    }),
    { hint: '2–10 letters or digits, starting with a letter, e.g. OPS. Tickets are numbered OPS-1, OPS-2…' },
  );
  const name = field('Name', h('input', { type: 'text', name: 'name', required: true, maxLength: 120, autocomplete: 'off' }));
  const description = field(
    'Description (optional)',
    h('textarea', { name: 'description', rows: 4, maxLength: 10000 }),
  );
  const formError = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create project');

  key.control.addEventListener('input', () => {
    const input = key.control;
    const upper = input.value.toUpperCase();
    if (upper !== input.value) {
      const at = input.selectionStart;
      input.value = upper;
      input.setSelectionRange(at, at);
    }
    if (input.getAttribute('aria-invalid') && KEY_PATTERN.test(upper)) key.setError('');
  });

  const form = h(
    'form',
    { class: 'form-grid new-project-form', novalidate: true, 'aria-labelledby': 'new-project-title' },
    key.el,
    name.el,
    description.el,
    formError,
    h('div', { class: 'row-actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    formError.textContent = '';
    const body = {
      key: key.control.value.trim().toUpperCase(),
      name: name.control.value.trim(),
      description: description.control.value,
    };
    const local = {};
    if (!KEY_PATTERN.test(body.key)) local.key = 'Use 2–10 letters or digits, starting with a letter.';
    if (!body.name) local.name = 'Give the project a name.';
    if (showFieldErrors({ key, name, description }, local)) return;
    submit.disabled = true;
    try {
      const project = await api('POST', '/api/projects', body);
      announce(`Created project ${project.key}.`);
      await ctx.refreshProjects();
      ctx.navigate(`#/p/${project.id}`);
    } catch (error) {
      if (ctx.signal.aborted) return;
      const fields = error instanceof ApiError ? error.fields : {};
      if (!showFieldErrors({ key, name, description }, fields)) {
        formError.textContent = `The project was not created: ${error.message}`;
      }
      submit.disabled = false;
    }
  });

  const back = ctx.project(Number(localStorage.getItem('switchboard.project'))) ?? ctx.projects()[0];
  root.append(
    h(
      'main',
      { class: 'screen new-project', 'aria-labelledby': 'new-project-title' },
      h(
        'header',
        { class: 'screen-head' },
        h('h1', { id: 'new-project-title' }, 'New project'),
        back ? h('a', { class: 'back', href: `#/p/${back.id}` }, 'Back to the board') : null,
      ),
      h('p', { class: 'muted' }, 'You become the project’s owner: you can add people and invite them afterwards.'),
      form,
    ),
  );
  key.control.focus();
}
