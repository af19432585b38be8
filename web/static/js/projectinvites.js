/**
 * Project settings → Invites: links that let people join the project with a role (admins and owners).
 *
 * The hub keeps only a hash of each invite's token, so the link is shown once, right after it is made,
 * with a Copy button (and a selected text field to copy by hand where the clipboard is not available).
 * The list shows every invite's state (active, expired, revoked, used up), its uses and expiry;
 * active ones can be revoked.
 */

import { api, ApiError } from './api.js';
import { confirmDialog } from './confirm.js';
import { announce, h } from './dom.js';
import { field, showFieldErrors } from './projectui.js';

const MANAGERS = new Set(['owner', 'admin']);
const HOUR = 3600;
const DAY = 24 * HOUR;
const EXPIRY = [
  [HOUR, '1 hour'],
  [DAY, '1 day'],
  [7 * DAY, '7 days'],
  [30 * DAY, '30 days'],
];
const STATE_LABELS = { active: 'Active', expired: 'Expired', revoked: 'Revoked', used_up: 'Used up' };

export function mountInvites(root, ctx, project) {
  root.append(h('h2', { class: 'sr-only' }, 'Invites'));
  if (!MANAGERS.has(project.role)) {
    root.append(h('p', { class: 'notice' }, 'Only the project’s admins and owners can invite people. Ask one of them for an invite link.'));
    return undefined;
  }
  const listHost = h('div', { class: 'table-wrap' }, h('p', { class: 'muted' }, 'Loading invites…'));
  const linkHost = h('div', { class: 'ps-invite-link' });
  const alert = h('p', { class: 'form-error', role: 'alert' });
  let loadSeq = 0;

  async function load() {
    const seq = ++loadSeq;
    try {
      const { items } = await api('GET', `/api/projects/${project.id}/invites`);
      if (seq === loadSeq && !ctx.signal.aborted) renderList(items);
    } catch (error) {
      if (seq === loadSeq && !ctx.signal.aborted) {
        listHost.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `The invites could not be loaded: ${error.message}`));
      }
    }
  }

  function renderList(items) {
    if (!items.length) {
      listHost.replaceChildren(h('p', { class: 'muted ps-empty' }, 'No invites yet.'));
      return;
    }
    listHost.replaceChildren(
      h(
        'table',
        { class: 'table ps-invites' },
        h('caption', { class: 'sr-only' }, `Invites to ${project.key}`),
        h(
          'thead',
          {},
          h('tr', {}, ['Role', 'State', 'Uses', 'Expires', 'Created by'].map((t) => h('th', { scope: 'col' }, t)),
            h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions'))),
        ),
        h('tbody', {}, items.map(inviteRow)),
      ),
    );
  }

  function inviteRow(invite) {
    const label = `invite ${invite.id} (${invite.role})`;
    const revoke = invite.state === 'active'
      ? h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Revoke ${label}`, on: { click: () => revokeInvite(invite, label) } }, 'Revoke')
      : null;
    return h(
      'tr',
      { dataset: { inviteId: String(invite.id), state: invite.state } },
      h('td', {}, invite.role),
      h('td', {}, h('span', { class: `chip invite-state state-${invite.state}` }, STATE_LABELS[invite.state] ?? invite.state)),
      h('td', { class: 'ps-uses' }, invite.max_uses ? `${invite.uses} of ${invite.max_uses}` : `${invite.uses} (no limit)`),
      h('td', {}, invite.expires_at ? h('time', { datetime: invite.expires_at }, formatDate(invite.expires_at)) : 'Never'),
      h('td', {}, invite.created_by_name ?? '—'),
      h('td', {}, revoke),
    );
  }

  async function revokeInvite(invite, label) {
    alert.textContent = '';
    const ok = await confirmDialog({
      title: 'Revoke this invite?',
      message: `Nobody can join ${project.key} with the ${invite.role} link any more. People who joined with it stay members.`,
      confirmLabel: 'Revoke',
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/invites/${invite.id}`);
      announce(`Revoked ${label}.`);
    } catch (error) {
      alert.textContent = `The invite was not revoked: ${error.message}`;
    }
    await load();
    (listHost.querySelector('button') ?? form.querySelector('select'))?.focus();
  }

  function showLink(invite) {
    const input = h('input', { type: 'text', readOnly: true, value: invite.url, class: 'copy-field', 'aria-label': 'Invite link', spellcheck: 'false' });
    const copied = h('span', { class: 'form-ok', role: 'status' });
    const copy = h('button', { type: 'button', class: 'btn btn-primary btn-sm' }, 'Copy link');
    copy.addEventListener('click', async () => {
      try {
        if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
        await navigator.clipboard.writeText(invite.url);
        copied.textContent = 'Copied to the clipboard.';
      } catch {
        input.focus();
        input.select();
        copied.textContent = 'Copying is not available here: the link is selected, press Ctrl+C (⌘C on a Mac).';
      }
    });
    const close = h('button', { type: 'button', class: 'btn btn-ghost btn-sm' }, 'Done');
    close.addEventListener('click', () => {
      linkHost.replaceChildren();
      form.querySelector('select')?.focus();
    });
    const expiry = invite.expires_at ? `until ${formatDate(invite.expires_at)}` : 'with no expiry';
    const uses = invite.max_uses ? `${invite.max_uses} ${invite.max_uses === 1 ? 'person' : 'people'}` : 'any number of people';
    linkHost.replaceChildren(
      h(
        'section',
        { class: 'secret-once', 'aria-labelledby': 'ps-link-title' },
        h('h3', { id: 'ps-link-title' }, 'Invite link'),
        h('p', {}, `Anyone with this link can join ${project.key} as ${invite.role}, ${expiry}, ${uses}. `,
          h('strong', {}, 'It is shown only now: copy it before you leave this page.')),
        h('div', { class: 'copy-row' }, input, copy),
        h('div', { class: 'form-actions' }, close, copied),
      ),
    );
    input.focus();
    input.select();
  }

  const role = field('Role', h('select', { name: 'role' },
    ['viewer', 'member', 'admin', ...(project.role === 'owner' ? ['owner'] : [])].map((r) => h('option', { value: r, selected: r === 'member' }, r))));
  const expires = field('Expires after', h('select', { name: 'expires_in' },
    EXPIRY.map(([seconds, text]) => h('option', { value: String(seconds), selected: seconds === 7 * DAY }, text))));
  const maxUses = field('Maximum uses', h('input', { type: 'number', name: 'max_uses', min: '1', max: '1000', step: '1', inputMode: 'numeric' }), {
    hint: 'Leave empty for no limit.',
  });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create invite link');
  const failure = h('p', { class: 'form-error', role: 'alert' });
  const form = h(
    'form',
    { class: 'form-grid ps-invite-form', novalidate: true, 'aria-labelledby': 'ps-new-invite' },
    h('h2', { id: 'ps-new-invite' }, 'New invite link'),
    role.el,
    expires.el,
    maxUses.el,
    failure,
    h('div', { class: 'form-actions' }, submit),
  );
  const fields = { role, expires_in: expires, max_uses: maxUses };
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    failure.textContent = '';
    const body = { role: role.control.value, expires_in: Number(expires.control.value) };
    const raw = maxUses.control.value.trim();
    if (raw) {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) {
        showFieldErrors(fields, { max_uses: 'A whole number, 1 or more (or empty for no limit).' });
        return;
      }
      body.max_uses = n;
    }
    submit.disabled = true;
    try {
      const invite = await api('POST', `/api/projects/${project.id}/invites`, body);
      if (ctx.signal.aborted) return;
      showFieldErrors(fields, {});
      showLink(invite);
      announce(`Invite link created for ${invite.role}s. It is shown only once.`);
      await load();
    } catch (error) {
      if (ctx.signal.aborted) return;
      const messages = error instanceof ApiError ? error.fields : {};
      if (!showFieldErrors(fields, messages)) failure.textContent = `No invite was created: ${error.message}`;
    } finally {
      submit.disabled = false;
    }
  });

  root.append(
    h('p', { class: 'muted' }, 'An invite link lets people join the project, with or without an account yet (they can sign up with it).'),
    form,
    linkHost,
    h('h2', { id: 'ps-invites-title' }, 'Invites'),
    alert,
    listHost,
  );
  load();
  return undefined;
}

function formatDate(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}
