/**
 * Project settings → Members: who is in the project and with which role; admins and owners add
 * people by email, change roles and remove people; everyone can leave.
 *
 * The hub's rules are mirrored so the page does not offer what it would refuse (admins grant any
 * role but owner and cannot touch owners; a project keeps at least one owner), and when the hub still
 * refuses — someone else changed the project in the meantime — its message is shown as it is.
 * `member_update` messages reload the list, so two admins see each other's changes.
 */

import { api, ApiError } from './api.js';
import { announce, avatar, h, toast } from './dom.js';
import { confirmDialog } from './confirm.js';
import { field, showFieldErrors, uid } from './projectui.js';

const ROLES = ['owner', 'admin', 'member', 'viewer'];
const MANAGERS = new Set(['owner', 'admin']);
export const LAST_OWNER_NOTE = 'A project needs at least one owner: make someone else owner first.';

/** The roles someone with `myRole` may give (only an owner makes owners). */
function grantable(myRole) {
  return ROLES.filter((r) => r !== 'owner' || myRole === 'owner');
}

export function mountMembers(root, ctx, project) {
  const me = ctx.me();
  const manager = MANAGERS.has(project.role);
  let members = [];
  let loadSeq = 0;

  const alert = h('p', { class: 'form-error ps-alert', role: 'alert' });
  const listHost = h('div', { class: 'table-wrap' }, h('p', { class: 'muted' }, 'Loading members…'));
  const leaveHost = h('div');

  const fail = (prefix, error) => {
    const rule = error.status === 409 && /owner/.test(error.message) ? `. ${LAST_OWNER_NOTE}` : '';
    alert.textContent = `${prefix}: ${error.message}${rule}`; // role=alert: read out as it appears
  };

  async function load() {
    const seq = ++loadSeq;
    try {
      const { items } = await api('GET', `/api/projects/${project.id}/members`);
      if (seq !== loadSeq || ctx.signal.aborted) return;
      members = items;
      render();
    } catch (error) {
      if (seq !== loadSeq || ctx.signal.aborted) return;
      listHost.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `The members could not be loaded: ${error.message}`));
    }
  }

  function render() {
    const owners = members.filter((m) => m.role === 'owner');
    const onlyOwner = owners.length === 1 ? owners[0].user_id : null;
    const focused = document.activeElement?.dataset?.focusKey;
    listHost.replaceChildren(
      h(
        'table',
        { class: 'table ps-members' },
        h('caption', { class: 'sr-only' }, `Members of ${project.key}`),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Email'), h('th', { scope: 'col' }, 'Role'), manager ? h('th', { scope: 'col' }, h('span', { class: 'sr-only' }, 'Actions')) : null)),
        h('tbody', {}, members.map((m) => row(m, onlyOwner))),
      ),
    );
    leaveHost.replaceChildren(leaveZone(onlyOwner));
    if (focused) listHost.querySelector(`[data-focus-key="${focused}"]`)?.focus();
  }

  function row(member, onlyOwner) {
    const you = member.user_id === me?.id;
    const name = member.user.name + (you ? ' (you)' : '');
    return h(
      'tr',
      { dataset: { userId: String(member.user_id) } },
      h('td', {}, h('span', { class: 'ps-person' }, avatar(member.user, { size: 'sm' }), h('span', {}, name))),
      h('td', { class: 'ps-email' }, member.user.email),
      h('td', { class: 'ps-role-cell' }, roleControl(member, onlyOwner)),
      manager ? h('td', { class: 'ps-actions' }, removeButton(member)) : null,
    );
  }

  function roleControl(member, onlyOwner) {
    const mayChange = manager && (member.role !== 'owner' || project.role === 'owner');
    if (!mayChange) return h('span', { class: `chip role-${member.role}` }, member.role);
    const options = grantable(project.role);
    if (!options.includes(member.role)) options.unshift(member.role);
    const select = h(
      'select',
      { class: 'select-sm', 'aria-label': `Role of ${member.user.name}`, dataset: { focusKey: `role-${member.user_id}` } },
      options.map((r) => h('option', { value: r, selected: r === member.role }, r)),
    );
    if (member.user_id !== onlyOwner) {
      select.addEventListener('change', () => changeRole(member, select));
      return select;
    }
    const noteId = uid('owner-note');
    select.disabled = true;
    select.setAttribute('aria-describedby', noteId);
    return h('div', { class: 'ps-owner-lock' }, select, h('p', { class: 'field-hint owner-note', id: noteId }, LAST_OWNER_NOTE));
  }

  async function changeRole(member, select) {
    const role = select.value;
    alert.textContent = '';
    const you = member.user_id === me?.id;
    if (you && MANAGERS.has(project.role) && !MANAGERS.has(role)) {
      const ok = await confirmDialog({
        title: `Make yourself ${role}?`,
        message: `You will no longer manage ${project.key}: only its admins and owners can give you your role back.`,
        confirmLabel: `Become ${role}`,
      });
      if (!ok) {
        select.value = member.role;
        return;
      }
    }
    select.disabled = true;
    try {
      await api('PATCH', `/api/projects/${project.id}/members/${member.user_id}`, { role });
      announce(`${member.user.name} is now ${role}.`);
      if (you) {
        ctx.roleChanged?.(role); // the whole screen follows my new role
        return;
      }
    } catch (error) {
      select.value = member.role;
      fail(`${member.user.name}’s role was not changed`, error);
    } finally {
      select.disabled = false;
    }
    await load();
  }

  function removeButton(member) {
    const you = member.user_id === me?.id;
    const allowed = !you && (member.role !== 'owner' || project.role === 'owner');
    if (!allowed) return null;
    const button = h(
      'button',
      { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Remove ${member.user.name}`, dataset: { focusKey: `remove-${member.user_id}` } },
      'Remove',
    );
    button.addEventListener('click', async () => {
      alert.textContent = '';
      const ok = await confirmDialog({
        title: `Remove ${member.user.name}?`,
        message: `${member.user.name} loses access to ${project.key} at once: its board, tickets and notifications.`,
        confirmLabel: 'Remove',
      });
      if (!ok) return;
      try {
        await api('DELETE', `/api/projects/${project.id}/members/${member.user_id}`);
        announce(`${member.user.name} was removed from ${project.key}.`);
      } catch (error) {
        fail(`${member.user.name} was not removed`, error);
      }
      await load();
      listHost.querySelector('select, button')?.focus();
    });
    return button;
  }

  function leaveZone(onlyOwner) {
    if (!members.some((m) => m.user_id === me?.id)) return h('span');
    const lastOwner = onlyOwner === me?.id;
    const noteId = uid('leave-note');
    const button = h(
      'button',
      { type: 'button', class: 'btn btn-danger', disabled: lastOwner, 'aria-describedby': lastOwner ? noteId : null, dataset: { focusKey: 'leave' } },
      'Leave project',
    );
    button.addEventListener('click', leave);
    return h(
      'section',
      { class: 'danger-zone ps-leave', 'aria-labelledby': 'ps-leave-title' },
      h('h2', { id: 'ps-leave-title' }, 'Leave the project'),
      h('p', {}, `You lose access to ${project.key} at once. To come back, someone has to add or invite you again.`),
      lastOwner ? h('p', { class: 'notice owner-note', id: noteId }, `You are the only owner. ${LAST_OWNER_NOTE}`) : null,
      button,
    );
  }

  async function leave() {
    alert.textContent = '';
    const ok = await confirmDialog({
      title: `Leave ${project.key}?`,
      message: `You lose access to ${project.key} · ${project.name} at once.`,
      confirmLabel: 'Leave project',
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/projects/${project.id}/members/me`);
    } catch (error) {
      if (ctx.signal.aborted) return;
      fail('You are still a member', error);
      await load();
      return;
    }
    toast({ title: `You left ${project.key}` });
    await ctx.refreshProjects();
    const next = ctx.projects()[0];
    ctx.navigate(next ? `#/p/${next.id}` : '#/'); // no project left: the board's "No projects yet" page
  }

  root.append(
    h('h2', { class: 'sr-only' }, 'Members'),
    h(
      'p',
      { class: 'muted ps-roles-help' },
      'Viewers read. Members also create and edit tickets. Admins also manage members, invites and integrations. ',
      'Owners also manage owners. A project always keeps at least one owner.',
    ),
    alert,
    listHost,
    manager ? addForm() : null,
    leaveHost,
  );
  load();

  function addForm() {
    const email = field('Email', h('input', { type: 'email', name: 'email', required: true, autocomplete: 'off' }), {
      hint: 'They need an account already; to bring someone new, create an invite link instead.',
    });
    const role = field('Role', h('select', { name: 'role' }, grantable(project.role).map((r) => h('option', { value: r, selected: r === 'member' }, r))));
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add member');
    const done = h('p', { class: 'form-ok', role: 'status' });
    const failure = h('p', { class: 'form-error', role: 'alert' });
    const form = h(
      'form',
      { class: 'form-grid ps-add', novalidate: true, 'aria-labelledby': 'ps-add-title' },
      h('h2', { id: 'ps-add-title' }, 'Add a member'),
      email.el,
      role.el,
      failure,
      h('div', { class: 'form-actions' }, submit, done),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      done.textContent = '';
      failure.textContent = '';
      const value = email.control.value.trim();
      if (showFieldErrors({ email, role }, value ? {} : { email: 'Enter the person’s email.' })) return;
      submit.disabled = true;
      try {
        const added = await api('POST', `/api/projects/${project.id}/members`, { email: value, role: role.control.value });
        showFieldErrors({ email, role }, {});
        email.control.value = '';
        done.textContent = `Added ${added.user.name} as ${added.role}.`;
        await load();
      } catch (error) {
        if (ctx.signal.aborted) return;
        const fields = error instanceof ApiError ? error.fields : {};
        if (error.status === 429) failure.textContent = `Too many additions at once: try again in ${error.retryAfter || 60} seconds.`;
        else if (!showFieldErrors({ email, role }, { ...fields, email: fields.email ?? fields.user_id })) failure.textContent = `Not added: ${error.message}`;
      } finally {
        submit.disabled = false;
      }
    });
    return form;
  }

  return {
    onMembership(message) {
      if (message.type === 'member_update') load();
    },
  };
}
