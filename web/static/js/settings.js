/**
 * The user's own settings: `#/settings[/account|notifications|chat]`.
 *
 * - Account: name and email; change the password (`POST /api/me/password`, which signs out every
 *   other session of the user).
 * - Notifications: `GET|PUT /api/me/preferences`, the same choices as `/ticket prefs` in chat: per
 *   notification type and destination (web, Slack, Discord) immediate, digest or off; quiet hours.
 * - Chat accounts: a one-time link code for `/ticket link CODE` (`POST /api/me/chat-links`), the
 *   linked Slack and Discord identities, and unlinking them.
 */

import { api } from './api.js';
import { announce, h } from './dom.js';
import {
  busy,
  clearErrors,
  confirmInline,
  copyButton,
  errorText,
  field,
  fmtTime,
  nextId,
  select,
  showErrors,
  statusLine,
  table,
  timeEl,
} from './settingskit.js';

const SECTIONS = [
  ['account', 'Account'],
  ['notifications', 'Notifications'],
  ['chat', 'Chat accounts'],
];

/** Notification types in the order people think of them; unknown (newer) types follow. */
const TYPE_LABELS = {
  ticket_assigned: 'Assigned to me',
  mention: 'Mentions',
  comment_added: 'Comments',
  status_changed: 'Status changes',
  custom: 'Announcements and other',
};
const DESTINATIONS = [
  ['web', 'Web'],
  ['slack', 'Slack'],
  ['discord', 'Discord'],
];
const MODES = [
  ['immediate', 'Immediately'],
  ['digest', 'Daily digest'],
  ['off', 'Off'],
];
const PLATFORM = { slack: 'Slack', discord: 'Discord' };

/**
 * @param {HTMLElement} root
 * @param {any} ctx the shell's screen context (web-shell.md)
 */
export function mount(root, ctx) {
  const tabs = h('nav', { class: 'tabs', 'aria-label': 'Settings sections' });
  const panel = h('div', { class: 'st-panel' });
  const back = backLink(ctx);
  root.replaceChildren(
    h(
      'main', // the screen's main landmark (one visible at a time; the board's is hidden meanwhile)
      { class: 'screen st-screen' },
      h('header', { class: 'screen-head' }, h('h1', {}, 'Settings'), back),
      tabs,
      panel,
    ),
  );

  let current = null;
  const show = (section) => {
    const known = SECTIONS.some(([id]) => id === section) ? section : 'account';
    if (known === current) return;
    const focusPanel = current !== null; // keep focus where the shell put it on first render
    current = known;
    tabs.replaceChildren(
      ...SECTIONS.map(([id, label]) =>
        h('a', { class: 'tab', href: `#/settings/${id}`, 'aria-current': id === known ? 'page' : null }, label),
      ),
    );
    panel.replaceChildren();
    const render = { account, notifications, chat }[known];
    render(panel, ctx);
    if (focusPanel) panel.querySelector('h2')?.focus();
  };
  show(ctx.route?.section);

  // The shell may keep this screen mounted while only the section changes.
  const onHash = () => {
    if (!root.isConnected) return;
    const match = /^#\/settings(?:\/([a-z-]+))?\/?$/.exec(location.hash);
    if (match) show(match[1] ?? 'account');
  };
  window.addEventListener('hashchange', onHash, ctx.signal ? { signal: ctx.signal } : undefined);
  return () => window.removeEventListener('hashchange', onHash);
}

function backLink(ctx) {
  const projects = ctx.projects?.() ?? [];
  const remembered = Number(localStorage.getItem('switchboard.project'));
  const project = projects.find((p) => p.id === remembered) ?? projects[0];
  return project ? h('a', { class: 'back', href: `#/p/${project.id}` }, 'Back to the board') : null;
}

function sectionHead(title, intro) {
  return [h('h2', { tabindex: '-1' }, title), intro && h('p', { class: 'muted' }, intro)].filter(Boolean); // append() would print `undefined`
}

// --- account ---------------------------------------------------------------------------------------

function account(panel, ctx) {
  const me = ctx.me?.() ?? {};
  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true });
  const fresh = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: '8' });
  const error = h('p', { class: 'form-error', role: 'alert' });
  const done = statusLine('form-ok');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password');
  const form = h(
    'form',
    { class: 'form-grid st-password', novalidate: true, 'aria-labelledby': 'st-password-title' },
    h('h3', { id: 'st-password-title' }, 'Change password'),
    field('Current password', current, { name: 'current_password' }),
    field('New password', fresh, {
      name: 'new_password',
      hint: 'At least 8 characters; not a common password, your email or your name.',
    }),
    error,
    h('div', { class: 'form-actions' }, submit),
    done,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    done.textContent = '';
    if (!current.value || fresh.value.length < 8) {
      const fields = {};
      if (!current.value) fields.current_password = 'Enter your current password.';
      if (fresh.value.length < 8) fields.new_password = 'Use at least 8 characters.';
      showErrors(form, { fields, status: 422 }, error);
      return;
    }
    await busy(submit, async () => {
      try {
        await api('POST', '/api/me/password', { current_password: current.value, new_password: fresh.value });
      } catch (failure) {
        showErrors(form, failure, error);
        return;
      }
      current.value = '';
      fresh.value = '';
      done.textContent = 'Password changed. Your other sessions were signed out; this one stays signed in.';
    });
  });

  panel.append(
    ...sectionHead('Account'),
    h(
      'dl',
      { class: 'st-facts' },
      h('dt', {}, 'Name'),
      h('dd', { class: 'st-me-name' }, me.name ?? ''),
      h('dt', {}, 'Email'),
      h('dd', { class: 'st-me-email' }, me.email ?? ''),
    ),
    form,
  );
}

// --- notifications ---------------------------------------------------------------------------------

function notifications(panel, ctx) {
  const body = h('div', { class: 'st-prefs', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  panel.append(
    ...sectionHead(
      'Notifications',
      'Where each kind of notification reaches you. Digest collects them into one daily message. ' +
        'The same choices as /ticket prefs in Slack or Discord.',
    ),
    body,
  );
  api('GET', '/api/me/preferences')
    .then((prefs) => {
      if (!ctx.signal?.aborted) renderPreferences(body, prefs);
    })
    .catch((failure) => {
      body.setAttribute('aria-busy', 'false');
      body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load your preferences: ${errorText(failure)}`));
    });
}

function typeOrder(types) {
  const known = Object.keys(TYPE_LABELS).filter((t) => t in types);
  return [...known, ...Object.keys(types).filter((t) => !(t in TYPE_LABELS)).sort()];
}

function renderPreferences(body, prefs) {
  const selects = {};
  const rows = typeOrder(prefs.types).map((type) => {
    const label = TYPE_LABELS[type] ?? type.replace(/_/g, ' ');
    selects[type] = {};
    const cells = DESTINATIONS.map(([dest, destLabel]) => {
      const control = select(MODES, prefs.types[type]?.[dest] ?? 'immediate', {
        'aria-label': `${label}: ${destLabel}`,
        dataset: { type, dest, field: `types.${type}.${dest}` },
      });
      selects[type][dest] = control;
      return control;
    });
    return [h('span', { class: 'st-type' }, label), ...cells];
  });

  const quiet = prefs.quiet_hours ?? {};
  const enabled = h('input', { type: 'checkbox', id: nextId('qh'), checked: Boolean(quiet.enabled) });
  const start = h('input', { type: 'time', value: quiet.start ?? '22:00', required: true });
  const end = h('input', { type: 'time', value: quiet.end ?? '08:00', required: true });
  const zones = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  const listId = nextId('zones');
  const zone = h('input', {
    type: 'text',
    value: quiet.timezone ?? 'UTC',
    list: listId,
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const here = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const useHere = h('button', { type: 'button', class: 'link-btn', on: { click: () => { zone.value = here; zone.focus(); } } }, `Use ${here}`);
  const error = h('p', { class: 'form-error', role: 'alert' });
  const done = statusLine('form-ok');
  const save = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save preferences');

  const form = h(
    'form',
    { class: 'st-prefs-form', novalidate: true },
    table('Notification preferences: one row per kind, one column per destination', ['Notification', ...DESTINATIONS.map(([, l]) => l)], rows, 'st-prefs-table'),
    h(
      'fieldset',
      { class: 'st-quiet' },
      h('legend', {}, 'Quiet hours'),
      h('p', { class: 'field-hint' }, 'During quiet hours, Slack and Discord messages set to Immediately go into your daily digest instead. The digest is sent in this time zone.'),
      h('div', { class: 'st-check' }, enabled, h('label', { for: enabled.id }, 'Hold notifications during quiet hours')),
      h(
        'div',
        { class: 'st-quiet-grid' },
        field('From', start, { name: 'quiet_hours.start' }),
        field('Until', end, { name: 'quiet_hours.end' }),
        h('div', { class: 'st-zone' }, field('Time zone', zone, { name: 'quiet_hours.timezone', hint: 'An IANA name such as Europe/Berlin.' }), here && useHere),
      ),
      h('datalist', { id: listId }, zones.map((z) => h('option', { value: z }))),
    ),
    error,
    h('div', { class: 'form-actions' }, save),
    done,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    done.textContent = '';
    const types = {};
    for (const [type, dests] of Object.entries(selects)) {
      types[type] = Object.fromEntries(Object.entries(dests).map(([dest, control]) => [dest, control.value]));
    }
    const update = {
      types,
      quiet_hours: { enabled: enabled.checked, start: start.value, end: end.value, timezone: zone.value.trim() },
    };
    await busy(save, async () => {
      try {
        await api('PUT', '/api/me/preferences', update);
      } catch (failure) {
        showErrors(form, failure, error);
        return;
      }
      done.textContent = 'Preferences saved.';
    });
  });
  body.setAttribute('aria-busy', 'false');
  body.replaceChildren(form);
}

// --- chat accounts ---------------------------------------------------------------------------------

function chat(panel, ctx) {
  const codeBox = h('div', { class: 'st-code-box' });
  const generate = h('button', { type: 'button', class: 'btn btn-primary' }, 'Generate a link code');
  const codeError = h('p', { class: 'form-error', role: 'alert' });
  generate.addEventListener('click', () =>
    busy(generate, async () => {
      codeError.textContent = '';
      try {
        const { code, expires_at: expires } = await api('POST', '/api/me/chat-links');
        showCode(codeBox, code, expires);
      } catch (failure) {
        codeError.textContent = errorText(failure);
      }
    }),
  );

  const list = h('div', { class: 'st-links', 'aria-live': 'polite' });
  panel.append(
    ...sectionHead(
      'Chat accounts',
      'Link your Slack or Discord account so /ticket commands act as you and notifications reach you there. ' +
        'Accounts whose verified email matches yours link by themselves.',
    ),
    h('section', { class: 'st-link-code', 'aria-labelledby': 'st-code-title' }, h('h3', { id: 'st-code-title' }, 'Link a chat account'), generate, codeError, codeBox),
    h('section', { 'aria-labelledby': 'st-linked-title' }, h('h3', { id: 'st-linked-title' }, 'Linked accounts'), list),
  );
  loadLinks(list, ctx);
}

function showCode(box, code, expires) {
  const commands = [
    ['slack', 'In Slack', `/ticket link ${code}`],
    ['discord', 'In Discord', `/ticket link code:${code}`],
  ];
  box.replaceChildren(
    h(
      'div',
      { class: 'secret-once st-code' },
      h('p', {}, 'Your code: ', h('strong', { class: 'st-code-value' }, code), ' — valid until ', timeEl(expires), '.'),
      h('p', {}, 'Type the command in any channel with the bot, or in a direct message to it:'),
      commands.map(([platform, label, command]) =>
        h(
          'div',
          { class: 'st-once-row' },
          h('span', { class: 'st-once-label' }, label),
          h('code', { class: `st-command st-command-${platform}` }, command),
          copyButton(() => command, `Copy the ${PLATFORM[platform]} link command`),
        ),
      ),
      h('p', { class: 'field-hint' }, 'The code works once. Generating a new one cancels this one.'),
    ),
  );
  announce(`Link code ${code.split('').join(' ')}, valid until ${fmtTime(expires)}.`);
}

async function loadLinks(list, ctx) {
  let items;
  try {
    ({ items } = await api('GET', '/api/me/chat-links'));
  } catch (failure) {
    list.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load your chat accounts: ${errorText(failure)}`));
    return;
  }
  if (ctx.signal?.aborted) return;
  if (!items.length) {
    list.replaceChildren(h('p', { class: 'muted st-empty' }, 'No chat account is linked yet.'));
    return;
  }
  list.replaceChildren(
    h(
      'ul',
      { class: 'st-list' },
      items.map((link) => {
        const name = `${PLATFORM[link.platform] ?? link.platform} account ${link.display_name || link.external_id}`;
        const actions = h('div', { class: 'st-row-actions' });
        const unlink = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Unlink ${name}` }, 'Unlink');
        unlink.addEventListener('click', () =>
          confirmInline(actions, unlink, {
            question: `Unlink ${name}?`,
            confirm: 'Unlink',
            onConfirm: async () => {
              await api('DELETE', `/api/me/chat-links/${link.id}`);
              announce(`Unlinked ${name}.`);
              await loadLinks(list, ctx);
              list.closest('section')?.querySelector('h3')?.setAttribute('tabindex', '-1');
              list.closest('section')?.querySelector('h3')?.focus();
            },
          }),
        );
        actions.append(unlink);
        return h(
          'li',
          { class: 'st-item st-link', dataset: { platform: link.platform } },
          h(
            'div',
            { class: 'st-item-main' },
            h('strong', {}, PLATFORM[link.platform] ?? link.platform),
            ' ',
            h('span', { class: 'st-link-name' }, link.display_name || link.external_id),
            h(
              'p',
              { class: 'muted st-meta' },
              `Workspace ${link.team_id} · user ${link.external_id} · linked ${link.linked_via === 'email' ? 'by email' : 'with a code'} `,
              timeEl(link.linked_at),
            ),
          ),
          actions,
        );
      }),
    ),
  );
}
