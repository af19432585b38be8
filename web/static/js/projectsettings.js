/**
 * `#/p/ID/settings/SECTION`: one project's settings as tabs — General, Members and Invites here, the
 * admin sections (Webhooks, Chat, Integrations) from their own modules.
 *
 * Each tab is a link, so every section has its own address and Back works; the tab list follows the
 * ARIA tabs pattern (arrow keys, Home and End move between tabs and open them). The screen follows
 * membership live: a role change re-renders it for the new role, and losing the project replaces it
 * with a plain explanation.
 */

import { api, ApiError } from './api.js';
import { mountChatSubscriptions } from './chatsubs.js';
import { announce, h } from './dom.js';
import { mountInvites } from './projectinvites.js';
import { mountMembers } from './projectmembers.js';
import { field, showFieldErrors } from './projectui.js';
import { mountIntegrations } from './integrations.js';
import { mountWebhooks } from './webhooks.js';

const MANAGERS = new Set(['owner', 'admin']);

const SECTIONS = [
  { id: 'general', label: 'General', mount: mountGeneral },
  { id: 'members', label: 'Members', mount: mountMembers },
  { id: 'invites', label: 'Invites', mount: mountInvites },
  { id: 'webhooks', label: 'Webhooks', admin: true, mount: mountWebhooks },
  { id: 'chat', label: 'Chat', admin: true, mount: mountChatSubscriptions },
  { id: 'integrations', label: 'Integrations', admin: true, mount: mountIntegrations },
];

/** Set when a tab was chosen with the keyboard: the next mount puts the focus back on the tab list. */
let focusTabOnMount = false;

export function mount(root, ctx) {
  const projectId = ctx.route.projectId;
  const me = ctx.me();
  const found = ctx.project(projectId);
  const main = h('main', { class: 'screen project-settings', 'aria-labelledby': 'ps-title' });
  root.append(main);
  if (!found) {
    lostAccess(main, ctx, null, 'This project does not exist, or you are not a member of it.');
    return undefined;
  }
  const project = { ...found };
  let section = null; // {controller, cleanup, onMembership}
  let gone = false;

  const renderHead = () => main.querySelector('.screen-head')?.replaceWith(head(project));
  const projectChanged = (fresh) => {
    Object.assign(project, fresh);
    renderHead();
  };

  const roleChanged = (role) => {
    if (role === project.role) return;
    project.role = role;
    announce(`Your role in ${project.key} is now ${role}.`);
    ctx.refreshProjects().catch(() => {});
    keepingFocus(main, render); // tabs and controls follow the new role
  };

  const render = () => {
    section?.controller.abort();
    runCleanup(section?.cleanup);
    const manager = MANAGERS.has(project.role);
    const visible = SECTIONS.filter((s) => manager || !s.admin);
    const current = visible.find((s) => s.id === ctx.route.section);
    const panel = h('div', { class: 'ps-panel', role: 'tabpanel' });
    const tabs = tabList(visible, current, project.id);
    main.replaceChildren(head(project), tabs);
    if (current) {
      panel.id = `ps-panel-${current.id}`;
      panel.setAttribute('aria-labelledby', `ps-tab-${current.id}`);
      main.append(panel);
      const controller = new AbortController();
      ctx.signal.addEventListener('abort', () => controller.abort(), { once: true });
      const sectionCtx = { ...ctx, signal: controller.signal, projectChanged, roleChanged };
      let result = null;
      try {
        result = current.mount(panel, sectionCtx, { ...project });
      } catch (error) {
        console.error(error);
        panel.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `This section failed to load: ${error.message}`));
      }
      section = {
        controller,
        cleanup: typeof result === 'function' ? result : result?.cleanup,
        onMembership: typeof result === 'object' ? result?.onMembership : null,
      };
    } else {
      main.append(unknownSection(ctx.route.section, project.id, manager));
      section = null;
    }
    if (focusTabOnMount) {
      focusTabOnMount = false;
      // after the shell has focused the page heading
      queueMicrotask(() => tabs.querySelector('[aria-selected="true"]')?.focus());
    }
  };

  render();

  ctx.onMembership((message) => {
    if (gone) return;
    const member = message.type === 'member_update' ? (message.data?.member ?? message.data) : null;
    const removedMe = member?.user_id === me?.id && message.action === 'removed';
    if ((message.type === 'project_removed' || removedMe) && message.project_id === project.id) {
      gone = true;
      section?.controller.abort();
      runCleanup(section?.cleanup);
      keepingFocus(main, () => lostAccess(main, ctx, project, 'You were removed from this project (or it was deleted), so its settings are gone from here.'));
      return;
    }
    if (message.project_id !== project.id) return;
    if (message.type === 'project_update' && message.data) {
      Object.assign(project, { name: message.data.name ?? project.name, description: message.data.description ?? project.description });
      renderHead();
    }
    if (member && member.user_id === me?.id && message.action === 'updated' && member.role !== project.role) {
      roleChanged(member.role);
      return;
    }
    section?.onMembership?.(message);
  });

  return () => {
    section?.controller.abort();
    runCleanup(section?.cleanup);
  };
}

/** Re-render `main`; if the focus was inside it, it goes to the page heading instead of being lost. */
function keepingFocus(main, renderFn) {
  const hadFocus = main.contains(document.activeElement);
  renderFn();
  if (hadFocus && !main.contains(document.activeElement)) main.querySelector('h1')?.focus();
}

function runCleanup(cleanup) {
  try {
    cleanup?.();
  } catch (error) {
    console.warn('section cleanup failed', error);
  }
}

function head(project) {
  return h(
    'header',
    { class: 'screen-head' },
    h('h1', { id: 'ps-title', tabindex: '-1' }, 'Project settings'),
    h('span', { class: 'muted ps-project' }, `${project.key} · ${project.name}`),
    h('span', { class: 'chip ps-role', title: 'Your role in this project' }, `You: ${project.role ?? 'site admin'}`),
    h('a', { class: 'back', href: `#/p/${project.id}` }, 'Back to the board'),
  );
}

/** The ARIA tabs pattern over links: the selected tab is the one tab stop; arrows move and open. */
function tabList(sections, current, projectId) {
  const links = sections.map((s) => h(
    'a',
    {
      class: 'tab',
      role: 'tab',
      id: `ps-tab-${s.id}`,
      href: `#/p/${projectId}/settings/${s.id}`,
      'aria-selected': s === current ? 'true' : 'false',
      'aria-controls': s === current ? `ps-panel-${s.id}` : null,
      tabindex: s === current || (!current && s === sections[0]) ? '0' : '-1',
    },
    s.label,
  ));
  const list = h('nav', { class: 'tabs ps-tabs', role: 'tablist', 'aria-label': 'Project settings sections' }, links);
  list.addEventListener('keydown', (event) => {
    const index = links.indexOf(document.activeElement);
    if (index < 0) return;
    const target = {
      ArrowRight: (index + 1) % links.length,
      ArrowLeft: (index - 1 + links.length) % links.length,
      Home: 0,
      End: links.length - 1,
    }[event.key];
    if (event.key === ' ') {
      event.preventDefault();
      focusTabOnMount = true;
      links[index].click();
      return;
    }
    if (target === undefined) return;
    event.preventDefault();
    links[target].focus();
    focusTabOnMount = true;
    location.hash = links[target].getAttribute('href');
  });
  return list;
}

function unknownSection(name, projectId, manager) {
  const adminOnly = SECTIONS.some((s) => s.id === name && s.admin);
  return h(
    'p',
    { class: 'notice', role: 'status' },
    adminOnly && !manager
      ? 'This section is for the project’s admins and owners. '
      : `There is no “${name}” section. `,
    h('a', { href: `#/p/${projectId}/settings/general` }, 'Go to General'),
  );
}

/** The page once the project is out of reach: what happened, and the way out. */
function lostAccess(main, ctx, project, message) {
  const other = ctx.projects().find((p) => p.id !== project?.id);
  main.replaceChildren(
    h('header', { class: 'screen-head' }, h('h1', { id: 'ps-title', tabindex: '-1' }, 'Project settings')),
    h(
      'div',
      { class: 'notice lost-access ps-lost', role: 'alert' },
      h('strong', {}, project ? `You no longer have access to ${project.key} · ${project.name}.` : 'No access.'),
      ' ',
      message,
    ),
    h(
      'p',
      {},
      other ? h('a', { href: `#/p/${other.id}` }, `Open ${other.key} · ${other.name}`) : h('a', { href: '#/new-project' }, 'Create a project'),
    ),
  );
}

// --- General ---------------------------------------------------------------------------------------

function mountGeneral(root, ctx, project) {
  root.append(h('h2', { class: 'sr-only' }, 'General'));
  if (!MANAGERS.has(project.role)) {
    root.append(
      h(
        'dl',
        { class: 'ps-facts' },
        h('dt', {}, 'Key'), h('dd', {}, project.key),
        h('dt', {}, 'Name'), h('dd', { class: 'ps-name' }, project.name),
        h('dt', {}, 'Description'), h('dd', {}, project.description || h('span', { class: 'muted' }, 'No description')),
      ),
      h('p', { class: 'notice' }, 'Only the project’s admins and owners can rename it or change its description.'),
    );
    return;
  }
  const name = field('Name', h('input', { type: 'text', name: 'name', required: true, maxLength: 120, value: project.name, autocomplete: 'off' }));
  const description = field('Description', h('textarea', { name: 'description', rows: 5, maxLength: 10000 }, project.description ?? ''));
  const status = h('p', { class: 'form-ok', role: 'status' });
  const failure = h('p', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save');
  const form = h(
    'form',
    { class: 'form-grid', novalidate: true, 'aria-label': 'Project name and description' },
    h('div', { class: 'field' }, h('span', { class: 'field-label' }, 'Key'), h('code', { class: 'ps-key' }, project.key),
      h('p', { class: 'field-hint' }, 'The key is part of every ticket’s name, so it cannot change.')),
    name.el,
    description.el,
    failure,
    h('div', { class: 'form-actions' }, save, status),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.textContent = '';
    failure.textContent = '';
    const body = { name: name.control.value.trim(), description: description.control.value };
    if (showFieldErrors({ name, description }, body.name ? {} : { name: 'Give the project a name.' })) return;
    save.disabled = true;
    try {
      const fresh = await api('PATCH', `/api/projects/${project.id}`, body);
      if (ctx.signal.aborted) return;
      showFieldErrors({ name, description }, {});
      status.textContent = 'Saved.';
      ctx.projectChanged?.({ name: fresh.name, description: fresh.description });
      await ctx.refreshProjects();
    } catch (error) {
      if (ctx.signal.aborted) return;
      const fields = error instanceof ApiError ? error.fields : {};
      if (!showFieldErrors({ name, description }, fields)) failure.textContent = `Not saved: ${error.message}`;
    } finally {
      save.disabled = false;
    }
  });
  root.append(form);
}
