/**
 * A project's inbound integrations (admins and owners), mounted by the project settings screen:
 * list, create (GitHub, Alertmanager, generic: the receiving URL and the secret are shown once),
 * switch on or off, rotate the secret (shown once), delete, and the delivery log (time, verdict,
 * what it did, the start of the body). REST and options: docs/integrations.md.
 */

import { api } from './api.js';
import { announce, h } from './dom.js';
import {
  PRIORITIES,
  STATUSES,
  busy,
  clearErrors,
  confirmInline,
  copyButton,
  errorText,
  field,
  isProjectAdmin,
  nextId,
  onceBox,
  select,
  showErrors,
  statusLine,
  table,
  timeEl,
} from './settingskit.js';

const KINDS = [
  ['github', 'GitHub'],
  ['alertmanager', 'Alertmanager'],
  ['generic', 'Generic (Standard Webhooks)'],
];
const KIND_LABEL = Object.fromEntries(KINDS);
const SEVERITIES = [
  ['critical', 'urgent'],
  ['warning', 'high'],
  ['info', 'low'],
];

/**
 * @param {HTMLElement} root
 * @param {any} ctx
 * @param {{id: number, key: string, role: string}} project
 */
export function mountIntegrations(root, ctx, project) {
  if (!isProjectAdmin(project)) {
    root.replaceChildren(h('p', { class: 'notice' }, 'Only project admins and owners manage integrations.'));
    return () => {};
  }
  let stopped = false;
  const once = h('div', { class: 'st-once-host' });
  const list = h('div', { class: 'st-integrations', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  const listHeading = h('h3', { tabindex: '-1' }, 'Integrations');

  const showSecret = (title, item) => {
    once.replaceChildren(
      onceBox(title, [['URL', item.url], ['Secret', item.secret]], 'Give both to the sender now: the secret is not shown again.'),
    );
    announce(`${title}. The secret is shown once.`);
  };

  const load = async () => {
    let items;
    try {
      ({ items } = await api('GET', `/api/projects/${project.id}/integrations`));
    } catch (failure) {
      list.setAttribute('aria-busy', 'false');
      list.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load the integrations: ${errorText(failure)}`));
      return;
    }
    if (stopped) return;
    list.setAttribute('aria-busy', 'false');
    list.replaceChildren(
      items.length
        ? h('ul', { class: 'st-list' }, items.map((item) => integrationItem(item, { load, showSecret, listHeading })))
        : h('p', { class: 'muted st-empty' }, 'No integrations yet.'),
    );
  };

  root.replaceChildren(
    h('h2', { tabindex: '-1' }, 'Integrations'),
    h(
      'p',
      { class: 'muted' },
      'GitHub, Alertmanager or any tool that signs its requests can open, comment on and move tickets here. See ',
      h('a', { href: '/docs' }, 'the API docs'),
      ' and docs/integrations.md.',
    ),
    createForm(project, { load, showSecret }),
    once,
    listHeading,
    list,
  );
  load();
  return () => {
    stopped = true;
  };
}

// --- create ----------------------------------------------------------------------------------------

function createForm(project, { load, showSecret }) {
  const kind = select(KINDS, 'github', { dataset: { field: 'kind' } });
  const name = h('input', { type: 'text', maxlength: '100', autocomplete: 'off' });
  const nameHint = h('span');
  const options = h('div', { class: 'st-options' });
  let readOptions = () => ({});
  const error = h('p', { class: 'form-error', role: 'alert' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add integration');
  const nameField = field('Name', name, { name: 'name', hint: ' ' });
  nameField.querySelector('.field-hint').replaceChildren(nameHint);

  const showOptions = () => {
    const built = optionFields(kind.value);
    readOptions = built.read;
    options.replaceChildren(...built.elements);
    nameHint.textContent = kind.value === 'generic' ? 'Required: changes it makes are signed with this name.' : `Optional (default: ${KIND_LABEL[kind.value]}).`;
  };
  kind.addEventListener('change', showOptions);
  showOptions();

  const form = h(
    'form',
    { class: 'st-create', novalidate: true, 'aria-labelledby': 'st-int-new' },
    h('h3', { id: 'st-int-new' }, 'Add an integration'),
    field('Kind', kind, { name: 'kind' }),
    nameField,
    options,
    error,
    h('div', { class: 'form-actions' }, submit),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    if (kind.value === 'generic' && !name.value.trim()) {
      showErrors(form, { fields: { name: 'A generic integration needs a name.' } }, error);
      return;
    }
    const body = { kind: kind.value, options: readOptions() };
    if (name.value.trim()) body.name = name.value.trim();
    await busy(submit, async () => {
      let created;
      try {
        created = await api('POST', `/api/projects/${project.id}/integrations`, body);
      } catch (failure) {
        showErrors(form, failure, error);
        return;
      }
      name.value = '';
      showSecret(`${created.name} integration created`, created);
      await load();
    });
  });
  return form;
}

/** The option inputs of a kind and a reader building the `options` object the API takes. */
function optionFields(kind, initial = {}) {
  if (kind === 'github') {
    const close = select(STATUSES, initial.close_status ?? 'done');
    return {
      elements: [field('Status for "fixes KEY-N"', close, { name: 'options.close_status', hint: 'Where a fixing commit on the default branch or a merged pull request moves the ticket.' })],
      read: () => ({ close_status: close.value }),
    };
  }
  if (kind === 'alertmanager') {
    const map = initial.severity_map ?? Object.fromEntries(SEVERITIES);
    const severities = SEVERITIES.map(([severity]) => [severity, select(PRIORITIES, map[severity] ?? 'medium')]);
    const labels = h('input', { type: 'text', autocomplete: 'off', placeholder: 'service, team', value: (initial.labels ?? []).join(', ') });
    const resolved = select(STATUSES, initial.resolved_status ?? 'done');
    const reopen = select(STATUSES, initial.reopen_status ?? 'todo');
    const mapId = nextId('sev');
    return {
      elements: [
        h(
          'fieldset',
          { class: 'st-severity', id: mapId, dataset: { field: 'options.severity_map' } },
          h('legend', {}, 'Priority for each alert severity'),
          h('div', { class: 'st-quiet-grid' }, severities.map(([severity, control]) => field(severity, control))),
          h('p', { class: 'field-hint' }, 'Other severities become medium.'),
          h('p', { class: 'field-error', id: `${mapId}-error` }),
        ),
        field('Alert labels that become ticket labels', labels, { name: 'options.labels', hint: 'Comma-separated label names, e.g. service, team.' }),
        field('Status when resolved', resolved, { name: 'options.resolved_status' }),
        field('Status when it fires again', reopen, { name: 'options.reopen_status' }),
      ],
      read: () => ({
        severity_map: Object.fromEntries(severities.map(([severity, control]) => [severity, control.value])),
        labels: labels.value.split(',').map((l) => l.trim()).filter(Boolean),
        resolved_status: resolved.value,
        reopen_status: reopen.value,
      }),
    };
  }
  return { elements: [h('p', { class: 'field-hint' }, 'A generic integration has no options: the requests say what to do.')], read: () => ({}) };
}

// --- one integration -------------------------------------------------------------------------------

function integrationItem(item, { load, showSecret, listHeading }) {
  const li = h('li', { class: 'st-item st-integration', dataset: { id: String(item.id) } });
  const panel = h('div', { class: 'st-item-panel' }); // kept across re-renders: an open log stays open
  const render = (current) => {
    const label = `${KIND_LABEL[current.kind] ?? current.kind} integration ${current.name}`;
    const actions = h('div', { class: 'st-row-actions' });
    const note = statusLine();
    const button = (text, onClick, extra = {}) =>
      h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `${text}: ${label}`, on: { click: onClick }, ...extra }, text);

    const toggle = button(current.enabled ? 'Disable' : 'Enable', () =>
      busy(toggle, async () => {
        try {
          const updated = await api('PATCH', `/api/integrations/${current.id}`, { enabled: !current.enabled });
          render(updated);
          announce(updated.enabled ? 'Integration switched on.' : 'Integration switched off: its requests are refused with 410.');
          li.querySelector('.st-toggle')?.focus();
        } catch (failure) {
          note.textContent = errorText(failure);
        }
      }),
    );
    toggle.classList.add('st-toggle');
    const rotate = button('Rotate secret', () =>
      confirmInline(actions, rotate, {
        question: 'Make a new secret? The old one keeps working for 24 hours.',
        confirm: 'Rotate',
        onConfirm: async () => {
          const rotated = await api('POST', `/api/integrations/${current.id}/rotate-secret`);
          showSecret(`New secret for ${rotated.name}`, rotated);
          render(rotated);
        },
      }),
    );
    const log = button('Deliveries', () => toggleLog(panel, log, current), { 'aria-expanded': String(panel.dataset.open === 'log') });
    const remove = button('Delete', () =>
      confirmInline(actions, remove, {
        question: `Delete ${label} and its delivery log?`,
        confirm: 'Delete',
        onConfirm: async () => {
          await api('DELETE', `/api/integrations/${current.id}`);
          announce('Integration deleted.');
          await load();
          listHeading.focus();
        },
      }),
    );
    const edit = current.kind === 'generic' ? null : button('Edit options', () => toggleOptions(panel, edit, current, render), { 'aria-expanded': String(panel.dataset.open === 'options') });
    actions.append(...[toggle, edit, rotate, log, remove].filter(Boolean));
    li.dataset.enabled = String(current.enabled);
    li.replaceChildren(
      h(
        'div',
        { class: 'st-item-main' },
        h('strong', { class: 'st-int-name' }, current.name),
        ' ',
        h('span', { class: 'chip' }, KIND_LABEL[current.kind] ?? current.kind),
        ' ',
        h('span', { class: `chip ${current.enabled ? 'st-on' : 'st-off'}` }, current.enabled ? 'On' : 'Off'),
        h('div', { class: 'st-once-row' }, h('code', { class: 'st-url' }, current.url), copyButton(() => current.url, `Copy the URL of ${label}`)),
        optionsText(current) && h('p', { class: 'muted st-meta' }, optionsText(current)),
        current.previous_secret_expires_at && h('p', { class: 'muted st-meta' }, 'The previous secret still works until ', timeEl(current.previous_secret_expires_at), '.'),
      ),
      actions,
      note,
      panel,
    );
  };
  render(item);
  return li;
}

function optionsText(item) {
  const o = item.options ?? {};
  const parts = [];
  if (o.close_status) parts.push(`fixes → ${o.close_status}`);
  if (o.severity_map) parts.push(`severities: ${Object.entries(o.severity_map).map(([k, v]) => `${k} → ${v}`).join(', ')}`);
  if (o.labels?.length) parts.push(`labels from ${o.labels.join(', ')}`);
  if (o.resolved_status) parts.push(`resolved → ${o.resolved_status}`);
  if (o.reopen_status) parts.push(`firing again → ${o.reopen_status}`);
  return parts.join(' · ');
}

function toggleOptions(panel, trigger, item, render) {
  const close = () => {
    panel.dataset.open = '';
    panel.replaceChildren();
    const again = panel.parentElement?.querySelector('button[aria-label^="Edit options"]');
    again?.setAttribute('aria-expanded', 'false');
    again?.focus();
  };
  if (panel.dataset.open === 'options') return close();
  const built = optionFields(item.kind, item.options ?? {});
  const error = h('p', { class: 'form-error', role: 'alert' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, 'Save options');
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: close } }, 'Cancel');
  const headingId = nextId('opts');
  const form = h(
    'form',
    { class: 'st-options-form', novalidate: true, 'aria-labelledby': headingId },
    h('h4', { id: headingId, tabindex: '-1' }, `Options of ${item.name}`),
    built.elements,
    error,
    h('div', { class: 'form-actions' }, save, cancel),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    await busy(save, async () => {
      let updated;
      try {
        updated = await api('PATCH', `/api/integrations/${item.id}`, { options: built.read() });
      } catch (failure) {
        showErrors(form, failure, error);
        return;
      }
      render(updated);
      close();
      announce('Options saved.');
    });
  });
  for (const b of panel.parentElement?.querySelectorAll('button[aria-expanded]') ?? []) b.setAttribute('aria-expanded', 'false');
  panel.dataset.open = 'options';
  panel.replaceChildren(form);
  trigger.setAttribute('aria-expanded', 'true');
  form.querySelector('h4').focus();
  return undefined;
}

function toggleLog(panel, trigger, item) {
  if (panel.dataset.open === 'log') {
    panel.dataset.open = '';
    panel.replaceChildren();
    trigger.setAttribute('aria-expanded', 'false');
    trigger.focus();
    return;
  }
  const body = h('div', { class: 'st-log-body', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
  const headingId = nextId('ilog');
  const refresh = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => loadLog(body, item) } }, 'Refresh');
  for (const b of panel.parentElement?.querySelectorAll('button[aria-expanded]') ?? []) b.setAttribute('aria-expanded', 'false');
  panel.dataset.open = 'log';
  panel.replaceChildren(
    h('section', { class: 'st-log', 'aria-labelledby': headingId }, h('div', { class: 'st-log-head' }, h('h4', { id: headingId, tabindex: '-1' }, 'Deliveries'), refresh), body),
  );
  trigger.setAttribute('aria-expanded', 'true');
  panel.querySelector('h4').focus();
  loadLog(body, item);
}

async function loadLog(body, item) {
  let items;
  try {
    ({ items } = await api('GET', `/api/integrations/${item.id}/deliveries?limit=50`));
  } catch (failure) {
    body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load the deliveries: ${errorText(failure)}`));
    return;
  }
  if (!items.length) {
    body.replaceChildren(h('p', { class: 'muted st-empty' }, 'Nothing was received yet.'));
    return;
  }
  const rows = items.map((d) => [
    timeEl(d.received_at),
    d.event ? h('code', {}, d.event) : '—',
    h('span', { class: `st-verdict st-v-${d.verdict}` }, d.verdict),
    String(d.status_code),
    h('span', { class: 'st-summary' }, d.summary || '—'),
    d.body ? h('details', { class: 'st-body' }, h('summary', {}, d.body.length > 60 ? `${d.body.slice(0, 60)}…` : d.body), h('pre', {}, d.body)) : '—',
  ]);
  body.replaceChildren(table(`Requests received by ${item.name}, newest first`, ['Received', 'Event', 'Verdict', 'Answer', 'What it did', 'Body'], rows, 'st-log-table'));
}
