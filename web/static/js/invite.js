/**
 * `#/invite/TOKEN`: an invite link. It shows the project, the role and who invited, then
 *
 * - signed in: "Join KEY as ROLE" (`POST /api/invites/{token}/accept`), then that project's board;
 *   a member already is told so and offered the board (one with a lower role than the invite's may
 *   take the invite's role: the hub keeps the higher of the two);
 * - signed out: sign in and join, or create an account with the invite (`POST /api/auth/register`
 *   with `invite`, which works even when the hub has sign-up off). The token stays in the hash the
 *   whole time, so the join finishes on this page right after signing in.
 *
 * Unknown (404), expired, revoked and used-up (410 `invite_expired|invite_revoked|invite_used_up`)
 * links each get a page that says what happened and where to go instead.
 */

import { api, publicApi, session } from './api.js';
import { card, field, FormErrors, PASSWORD_RULES } from './authforms.js';
import { h } from './dom.js';

const ROLE_TEXT = {
  owner: 'can do everything in the project, including managing its owners',
  admin: 'can manage members, invites and settings, and work on tickets',
  member: 'can create, edit and comment on tickets',
  viewer: 'can read tickets and comments but not change them',
};

const ENDED = {
  invite_expired: ['This invite has expired', 'Invite links only work for a limited time. Ask the person who sent it for a new one.'],
  invite_revoked: ['This invite was withdrawn', 'A project admin revoked this link, so it no longer lets anyone join. Ask them for a new one if you still need access.'],
  invite_used_up: ['This invite has been used up', 'This link has already been used as many times as it allows. Ask the person who sent it for a new one.'],
  not_found: ['This invite link is not valid', 'No invite matches this link. Check that it was copied completely, or ask the person who sent it for a new one.'],
  gone: ['This invite no longer works', 'Ask the person who sent it for a new one.'],
};

const RANK = { viewer: 0, member: 1, admin: 2, owner: 3 };

/** `state` values of an invite that can no longer be used, as their 410 error codes. */
const STATE_CODES = { expired: 'invite_expired', revoked: 'invite_revoked', used_up: 'invite_used_up' };

/** The ENDED key for a failed invite call, or null when the failure is not about the invite. */
function endedCode(failure) {
  if (failure.status === 404) return 'not_found';
  if (failure.status === 410) return ENDED[failure.code] ? failure.code : 'gone';
  return null;
}

export function mount(root, ctx) {
  const token = ctx.route.token;
  const path = `/api/invites/${encodeURIComponent(token)}`;
  const show = (...children) => {
    root.replaceChildren(card(...children));
    root.querySelector('h1')?.focus();
  };

  root.replaceChildren(card(h('h1', {}, 'Invitation'), h('p', { class: 'muted', role: 'status' }, 'Loading the invitation…')));
  load();

  async function load() {
    let invite;
    try {
      invite = await publicApi('GET', path);
    } catch (failure) {
      if (!ctx.signal.aborted) showLoadFailure(failure);
      return;
    }
    if (ctx.signal.aborted) return;
    if (STATE_CODES[invite.state]) showEnded(STATE_CODES[invite.state]);
    else if (ctx.me()) showSignedIn(invite);
    else showSignedOut(invite);
  }

  function showLoadFailure(failure) {
    const code = endedCode(failure);
    if (code) return showEnded(code);
    return show(
      heading('The invitation could not be loaded'),
      h('p', { class: 'form-error', role: 'alert' }, failure.message),
      h('p', {}, h('button', { type: 'button', class: 'btn btn-primary btn-block', on: { click: load } }, 'Try again')),
    );
  }

  function showEnded(code) {
    const [title, text] = ENDED[code];
    const signedIn = Boolean(ctx.me());
    show(
      heading(title),
      h('p', { class: 'auth-ended' }, text),
      h('p', {}, h('a', { class: 'btn btn-primary btn-block', href: '#/' }, signedIn ? 'Back to the board' : 'Go to sign in')),
    );
  }

  // --- signed in ---------------------------------------------------------------------------------

  function showSignedIn(invite) {
    const { project } = invite;
    const mine = ctx.project(project.id);
    const openBoard = (kind) => h('a', { class: `btn ${kind} btn-block`, href: `#/p/${project.id}` }, `Open the ${project.key} board`);
    if (mine && RANK[invite.role] <= RANK[mine.role]) {
      return show(
        ...details(invite),
        h('p', { class: 'notice auth-member' }, `You are already a member of ${project.key} (as ${mine.role}).`),
        h('p', {}, openBoard('btn-primary')),
      );
    }
    const me = ctx.me();
    const error = h('p', { class: 'form-error', role: 'alert', tabindex: '-1' });
    const label = mine ? `Become ${invite.role} of ${project.key}` : `Join ${project.key} as ${invite.role}`;
    const button = h('button', { type: 'button', class: 'btn btn-primary btn-block' }, label);
    const intro = mine
      ? h('p', { class: 'notice auth-member' }, `You are already a member of ${project.key} (as ${mine.role}); this invite gives the ${invite.role} role.`)
      : h('p', { class: 'muted' }, `Signed in as ${me.name} (${me.email}).`);
    button.addEventListener('click', async () => {
      button.disabled = true;
      error.textContent = '';
      const outcome = await accept(project.id);
      if (outcome.ok) return void ctx.navigate(`#/p/${outcome.projectId}`);
      button.disabled = false;
      if (outcome.ended) return void showEnded(outcome.ended);
      error.textContent = outcome.message;
      error.focus();
    });
    return show(...details(invite), intro, error, button, mine ? h('p', {}, openBoard('btn-ghost')) : null);
  }

  /** Accept the invite as the signed-in user and reload the project list (unless the app is about to
   * start, which loads it anyway). */
  async function accept(projectId, { refresh = true } = {}) {
    let joined;
    try {
      joined = await api('POST', `${path}/accept`); // {project, role, outcome: joined|raised|unchanged}
    } catch (failure) {
      return { ok: false, ended: endedCode(failure), message: `Could not join: ${failure.message}` };
    }
    if (refresh) await ctx.refreshProjects().catch(() => {}); // the board loads them again if this fails
    return { ok: true, projectId: joined?.project?.id ?? projectId };
  }

  // --- signed out --------------------------------------------------------------------------------

  function showSignedOut(invite) {
    const { project } = invite;
    const signInForm = buildSignIn(invite);
    const signUpForm = buildSignUp(invite);
    const choices = [
      [h('button', { type: 'button', class: 'btn btn-ghost', 'aria-controls': 'invite-signin', 'aria-expanded': 'false' }, 'I have an account'), signInForm],
      [h('button', { type: 'button', class: 'btn btn-ghost', 'aria-controls': 'invite-signup', 'aria-expanded': 'false' }, 'Create an account'), signUpForm],
    ];
    for (const [button, form] of choices) {
      button.addEventListener('click', () => {
        for (const [other, otherForm] of choices) {
          other.setAttribute('aria-expanded', String(other === button));
          otherForm.hidden = other !== button;
        }
        form.querySelector('input').focus();
      });
    }
    show(
      ...details(invite),
      h('p', {}, `Sign in or create an account to join ${project.key}.`),
      h('div', { class: 'auth-choice' }, choices.map(([button]) => button)),
      signInForm,
      signUpForm,
    );
  }

  function buildSignIn(invite) {
    const fields = {
      email: field({ id: 'invite-login-email', label: 'Email', type: 'email', autocomplete: 'username' }),
      password: field({ id: 'invite-login-password', label: 'Password', type: 'password', autocomplete: 'current-password' }),
    };
    return authForm('invite-signin', `Sign in and join ${invite.project.key}`, fields, async () => {
      try {
        await session.login(fields.email.input.value.trim(), fields.password.input.value);
      } catch (failure) {
        if (failure.status === 401) failure.message = 'that email and password do not match';
        throw failure;
      }
      const outcome = await accept(invite.project.id, { refresh: false });
      await ctx.startApp();
      // Joined: the board. Otherwise this page again, signed in, says why (e.g. it expired meanwhile).
      ctx.navigate(outcome.ok ? `#/p/${outcome.projectId}` : `#/invite/${token}`);
    });
  }

  function buildSignUp(invite) {
    const fields = {
      name: field({ id: 'invite-signup-name', label: 'Name', autocomplete: 'name', maxlength: 120 }),
      email: field({ id: 'invite-signup-email', label: 'Email', type: 'email', autocomplete: 'email', maxlength: 320 }),
      password: field({ id: 'invite-signup-password', label: 'Password', type: 'password', autocomplete: 'new-password', hint: PASSWORD_RULES, maxlength: 256 }),
    };
    return authForm('invite-signup', `Create account and join ${invite.project.key}`, fields, async () => {
      try {
        await session.register({
          name: fields.name.input.value.trim(),
          email: fields.email.input.value.trim(),
          password: fields.password.input.value,
          invite: token,
        });
      } catch (failure) {
        const code = endedCode(failure);
        if (code) return void showEnded(code);
        throw failure;
      }
      await ctx.startApp();
      let projectId = invite.project.id;
      if (!ctx.project(projectId)) projectId = (await accept(projectId)).projectId; // joined at sign-up, normally
      ctx.navigate(`#/p/${projectId}`);
    });
  }

  /** A form whose `run` throws ApiError to show; Enter submits it, errors focus the first bad field. */
  function authForm(id, label, fields, run) {
    const summary = h('p', { id: `${id}-error`, class: 'form-error', role: 'alert' });
    const errors = new FormErrors(fields, summary);
    const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, label);
    const form = h('form', { id, class: 'auth-form', novalidate: true, hidden: true, 'aria-label': label }, Object.values(fields).map((f) => f.wrap), summary, submit);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!errors.checkLocally()) return;
      errors.clear();
      submit.disabled = true;
      try {
        await run();
      } catch (failure) {
        errors.show(failure);
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }
}

function heading(text) {
  return h('h1', { tabindex: '-1' }, text);
}

/** The invitation itself: who invites you where, and as what. */
function details(invite) {
  const { project, role, inviter } = invite;
  const facts = [
    ['Project', `${project.key} · ${project.name}`],
    ['Role', `${role.charAt(0).toUpperCase()}${role.slice(1)} (${ROLE_TEXT[role] ?? 'as set by the project'})`],
    ['Invited by', inviter?.name ?? 'a project admin'],
  ];
  if (invite.expires_at) {
    facts.push(['Expires', new Date(invite.expires_at).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' })]);
  }
  return [
    h('p', { class: 'muted auth-kicker' }, `${inviter?.name ?? 'Someone'} invited you to a project`),
    heading(`Join ${project.name}`),
    h('dl', { class: 'auth-facts' }, facts.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
  ];
}
