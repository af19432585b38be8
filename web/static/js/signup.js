/**
 * `#/signup`: create an account, sign in as it and enter the app (a new user lands on the
 * "No projects yet" page). When the hub has sign-up off (`GET /healthz` → `"signup": false`, or the
 * register call answers 403) the page says so and points to the sign-in page.
 */

import { health, session } from './api.js';
import { card, field, FormErrors, PASSWORD_RULES } from './authforms.js';
import { h } from './dom.js';

export function mount(root, ctx) {
  const me = ctx.me();
  if (me) {
    root.replaceChildren(
      card(
        h('h1', {}, 'You are signed in'),
        h('p', {}, `You are signed in as ${me.name} (${me.email}). Sign out first to create another account.`),
        h('p', {}, h('a', { class: 'btn btn-primary btn-block', href: '#/' }, 'Back to the board')),
      ),
    );
    return;
  }
  const fields = {
    name: field({ id: 'signup-name', label: 'Name', autocomplete: 'name', maxlength: 120 }),
    email: field({ id: 'signup-email', label: 'Email', type: 'email', autocomplete: 'email', maxlength: 320 }),
    password: field({ id: 'signup-password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: PASSWORD_RULES, maxlength: 256 }),
  };
  const summary = h('p', { id: 'signup-error', class: 'form-error', role: 'alert' });
  const errors = new FormErrors(fields, summary);
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, 'Create account');

  const form = h(
    'form',
    { class: 'auth-form', novalidate: true, 'aria-labelledby': 'signup-title', on: { submit: onSubmit } },
    Object.values(fields).map((f) => f.wrap),
    summary,
    submit,
  );
  root.replaceChildren(
    card(
      h('h1', { id: 'signup-title' }, 'Create your account'),
      h('p', { class: 'muted' }, 'Track tickets from the web, Slack and Discord in one place.'),
      form,
      h('p', { class: 'auth-alt' }, 'Already have an account? ', h('a', { href: '#/' }, 'Sign in')),
    ),
  );

  health().then((info) => {
    if (ctx.signal.aborted) return;
    if (info.signup === false) showClosed();
    else fields.name.input.focus();
  });

  async function onSubmit(event) {
    event.preventDefault();
    if (!errors.checkLocally()) return;
    errors.clear();
    submit.disabled = true;
    try {
      await session.register({
        name: fields.name.input.value.trim(),
        email: fields.email.input.value.trim(),
        password: fields.password.input.value,
      });
    } catch (failure) {
      submit.disabled = false;
      if (failure.status === 403) showClosed();
      else errors.show(failure);
      return;
    }
    await ctx.startApp();
    ctx.navigate('#/');
  }

  function showClosed() {
    const heading = h('h1', { tabindex: '-1' }, 'Sign-up is closed');
    root.replaceChildren(
      card(
        heading,
        h('p', {}, 'This hub does not take new sign-ups. Ask an administrator for an account, or for an invite link to a project.'),
        h('p', {}, h('a', { class: 'btn btn-primary btn-block', href: '#/' }, 'Go to sign in')),
      ),
    );
    heading.focus();
  }
}
