/**
 * A project's outbound webhooks (admins and owners), mounted by the project settings screen:
 * list, create (the signing secret is shown once), enable/disable, change the event filter, send a
 * test, rotate the secret (shown once), delete, and each endpoint's delivery log with Redeliver and
 * "replay failed deliveries since". REST: docs/webhooks.md.
 */

import { api } from './api.js';
import { announce, h } from './dom.js';
import {
  WEBHOOK_EVENTS,
  busy,
  clearErrors,
  confirmInline,
  errorText,
  field,
  isProjectAdmin,
  nextId,
  onceBox,
  showErrors,
  statusLine,
  table,
  timeEl,
} from './settingskit.js';

/** Delivery states (docs/webhooks.md): pending waits for its first attempt or a retry; failed ran out
 * of retries; dead was dropped (the webhook was switched off meanwhile). */
const STATUS_LABEL = { pending: 'Pending', succeeded: 'Delivered', failed: 'Failed', dead: 'Dropped' };

function statusLabel(delivery) {
  if (delivery.status === 'pending' && delivery.attempt_count > 0) return 'Failing, will retry';
  return STATUS_LABEL[delivery.status] ?? delivery.status;
}

/**
 * @param {HTMLElement} root
 * @param {any} ctx
 * @param {{id: number, key: string, role: string}} project
 */
export function mountWebhooks(root, ctx, project) {
  const view = new WebhooksView(root, ctx, project);
  view.start();
  return () => view.stop();
}

class WebhooksView {
  constructor(root, ctx, project) {
    Object.assign(this, { root, ctx, project });
    this.list = h('div', { class: 'st-hooks', 'aria-busy': 'true' });
    this.once = h('div', { class: 'st-once-host' });
    this.stopped = false;
  }

  start() {
    if (!isProjectAdmin(this.project)) {
      this.root.replaceChildren(h('p', { class: 'notice' }, 'Only project admins and owners manage webhooks.'));
      return;
    }
    this.root.replaceChildren(
      h('h2', { tabindex: '-1' }, 'Webhooks'),
      h(
        'p',
        { class: 'muted' },
        'The hub POSTs each change of this project to these URLs, signed with Standard Webhooks (see ',
        h('a', { href: '/docs' }, 'the API docs'),
        '). Failed deliveries are retried for about three days.',
      ),
      this.createForm(),
      this.once,
      h('h3', {}, 'Endpoints'),
      this.list,
    );
    this.load();
  }

  stop() {
    this.stopped = true;
  }

  async load() {
    let items;
    try {
      ({ items } = await api('GET', `/api/projects/${this.project.id}/webhooks`));
    } catch (failure) {
      this.list.setAttribute('aria-busy', 'false');
      this.list.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load the webhooks: ${errorText(failure)}`));
      return;
    }
    if (this.stopped) return;
    this.list.setAttribute('aria-busy', 'false');
    if (!items.length) {
      this.list.replaceChildren(h('p', { class: 'muted st-empty' }, 'No webhooks yet.'));
      return;
    }
    this.list.replaceChildren(h('ul', { class: 'st-list' }, items.map((hook) => this.item(hook))));
  }

  // --- create --------------------------------------------------------------------------------------
  createForm() {
    const url = h('input', { type: 'url', required: true, placeholder: 'https://example.com/hooks/switchboard', autocomplete: 'off', inputmode: 'url' });
    const description = h('input', { type: 'text', maxlength: '500', autocomplete: 'off' });
    const events = eventChooser('New webhook: events', null);
    const error = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add webhook');
    const form = h(
      'form',
      { class: 'st-create', novalidate: true, 'aria-labelledby': 'st-wh-new' },
      h('h3', { id: 'st-wh-new' }, 'Add a webhook'),
      field('Payload URL', url, { name: 'url', hint: 'http or https; the hub POSTs JSON here.' }),
      field('Description (optional)', description, { name: 'description' }),
      events.element,
      error,
      h('div', { class: 'form-actions' }, submit),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      if (!url.value.trim()) return showErrors(form, { fields: { url: 'Enter the URL that receives the events.' } }, error);
      const chosen = events.value();
      if (chosen && !chosen.length) return showErrors(form, { fields: { event_types: 'Choose at least one event.' } }, error);
      return busy(submit, async () => {
        let created;
        try {
          created = await api('POST', `/api/projects/${this.project.id}/webhooks`, {
            url: url.value.trim(),
            description: description.value.trim(),
            event_types: chosen,
          });
        } catch (failure) {
          showErrors(form, failure, error);
          return;
        }
        url.value = '';
        description.value = '';
        events.reset();
        this.showSecret(`Webhook created for ${created.url}`, created.secret);
        await this.load();
      });
    });
    return form;
  }

  showSecret(title, secret) {
    this.once.replaceChildren(onceBox(title, [['Signing secret', secret]], 'Copy the signing secret now: it is not shown again.'));
    announce(`${title}. The signing secret is shown once.`);
  }

  // --- one endpoint --------------------------------------------------------------------------------
  item(hook) {
    const li = h('li', { class: 'st-item st-hook', dataset: { id: String(hook.id) } });
    const panel = h('div', { class: 'st-item-panel' }); // kept across re-renders: an open log stays open
    const render = (current) => {
      const status = h('span', { class: 'st-last muted' }, 'Last delivery: …');
      const actions = h('div', { class: 'st-row-actions' });
      const note = statusLine();
      const label = `webhook ${current.url}`;
      const button = (text, onClick, extra = {}) =>
        h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `${text}: ${label}`, on: { click: onClick }, ...extra }, text);

      const toggle = button(current.enabled ? 'Disable' : 'Enable', () =>
        busy(toggle, async () => {
          try {
            const updated = await api('PATCH', `/api/webhooks/${current.id}`, { enabled: !current.enabled });
            render(updated);
            announce(updated.enabled ? 'Webhook enabled.' : 'Webhook disabled.');
            li.querySelector('.st-toggle')?.focus();
          } catch (failure) {
            note.textContent = errorText(failure);
          }
        }),
      );
      toggle.classList.add('st-toggle');
      const edit = button('Edit events', () => this.editEvents(panel, current, render), { 'aria-expanded': String(panel.dataset.open === 'events') });
      const test = button('Send test', () => this.sendTest(test, current, note, status, panel));
      const rotate = button('Rotate secret', () =>
        confirmInline(actions, rotate, {
          question: 'Make a new secret? The old one keeps signing for 24 hours.',
          confirm: 'Rotate',
          onConfirm: async () => {
            const rotated = await api('POST', `/api/webhooks/${current.id}/rotate-secret`);
            this.showSecret(`New secret for ${rotated.url}`, rotated.secret);
            render(rotated);
          },
        }),
      );
      const log = button('Deliveries', () => this.showLog(panel, current), { 'aria-expanded': String(panel.dataset.open === 'log') });
      const remove = button('Delete', () =>
        confirmInline(actions, remove, {
          question: `Delete ${label}?`,
          confirm: 'Delete',
          onConfirm: async () => {
            await api('DELETE', `/api/webhooks/${current.id}`);
            announce('Webhook deleted.');
            await this.load();
            this.list.previousElementSibling?.setAttribute('tabindex', '-1');
            this.list.previousElementSibling?.focus();
          },
        }),
      );
      actions.append(toggle, edit, test, rotate, log, remove);
      li.dataset.enabled = String(current.enabled);
      li.replaceChildren(
        h(
          'div',
          { class: 'st-item-main' },
          h('code', { class: 'st-url' }, current.url),
          ' ',
          h('span', { class: `chip ${current.enabled ? 'st-on' : 'st-off'}` }, current.enabled ? 'Enabled' : 'Disabled'),
          current.description && h('p', { class: 'st-desc' }, current.description),
          h('p', { class: 'muted st-meta' }, 'Events: ', h('span', { class: 'st-events' }, eventsText(current.event_types))),
          current.disabled_reason && h('p', { class: 'st-warn' }, `Switched off: ${current.disabled_reason}`),
          current.failing_since && h('p', { class: 'st-warn' }, 'Failing since ', timeEl(current.failing_since)),
          current.previous_secret_expires_at && h('p', { class: 'muted st-meta' }, 'The previous secret still signs until ', timeEl(current.previous_secret_expires_at), '.'),
          status,
        ),
        actions,
        note,
        panel,
      );
      this.lastStatus(current, status);
    };
    render(hook);
    return li;
  }

  async lastStatus(hook, el) {
    try {
      const { items } = await api('GET', `/api/webhooks/${hook.id}/deliveries?limit=1`);
      const last = items[0];
      el.replaceChildren(
        last
          ? h('span', {}, 'Last delivery: ', h('span', { class: `st-dstatus st-d-${last.status}` }, statusLabel(last)), codeOf(last) ? ` (${codeOf(last)})` : '', ' ', timeEl(last.last_attempt_at ?? last.created_at))
          : 'No deliveries yet.',
      );
    } catch {
      el.textContent = '';
    }
  }

  editEvents(panel, hook, render) {
    const trigger = panel.parentElement?.querySelector('button[aria-label^="Edit events"]');
    if (panel.dataset.open === 'events') {
      closePanel(panel, trigger);
      return;
    }
    const chooser = eventChooser(`Events for ${hook.url}`, hook.event_types);
    const error = h('p', { class: 'form-error', role: 'alert' });
    const save = h('button', { type: 'submit', class: 'btn btn-primary btn-sm' }, 'Save events');
    const cancel = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => closePanel(panel, panel.parentElement?.querySelector('button[aria-label^="Edit events"]')) } }, 'Cancel');
    const form = h('form', { class: 'st-events-form', novalidate: true }, chooser.element, error, h('div', { class: 'form-actions' }, save, cancel));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = chooser.value();
      if (chosen && !chosen.length) {
        error.textContent = 'Choose at least one event.';
        return;
      }
      await busy(save, async () => {
        try {
          const updated = await api('PATCH', `/api/webhooks/${hook.id}`, { event_types: chosen });
          render(updated);
          closePanel(panel, panel.parentElement?.querySelector('button[aria-label^="Edit events"]'));
          announce('Event filter saved.');
        } catch (failure) {
          error.textContent = errorText(failure);
        }
      });
    });
    openPanel(panel, 'events', trigger, form);
  }

  async sendTest(button, hook, note, status, panel) {
    note.textContent = 'Sending a test…';
    await busy(button, async () => {
      try {
        const result = await api('POST', `/api/webhooks/${hook.id}/test`);
        note.textContent = result.success
          ? `Test delivered: the receiver answered ${result.status_code} in ${result.duration_ms} ms.`
          : `Test failed: ${result.error ?? `the receiver answered ${result.status_code}`}.`;
      } catch (failure) {
        note.textContent = `Test not sent: ${errorText(failure)}`;
      }
    });
    this.lastStatus(hook, status);
    if (panel.dataset.open === 'log') this.loadLog(panel.querySelector('.st-log-body'), hook);
  }

  // --- delivery log --------------------------------------------------------------------------------
  showLog(panel, hook) {
    const trigger = panel.parentElement?.querySelector('button[aria-label^="Deliveries"]');
    if (panel.dataset.open === 'log') {
      closePanel(panel, trigger);
      return;
    }
    const body = h('div', { class: 'st-log-body', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading…'));
    const refresh = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: () => this.loadLog(body, hook) } }, 'Refresh');
    const headingId = nextId('log');
    openPanel(
      panel,
      'log',
      trigger,
      h(
        'section',
        { class: 'st-log', 'aria-labelledby': headingId },
        h('div', { class: 'st-log-head' }, h('h4', { id: headingId, tabindex: '-1' }, 'Deliveries'), refresh),
        this.replayForm(hook, body),
        body,
      ),
    );
    this.loadLog(body, hook);
  }

  replayForm(hook, body) {
    const since = h('input', { type: 'datetime-local', required: true, value: localInputValue(new Date(Date.now() - 24 * 3600 * 1000)) });
    const note = statusLine();
    const submit = h('button', { type: 'submit', class: 'btn btn-ghost btn-sm' }, 'Replay failed');
    const form = h(
      'form',
      { class: 'st-replay', novalidate: true },
      field('Replay failed deliveries since', since, { name: 'since', hint: 'Your local time. Deliveries made since then that failed for good or were dropped are sent again.' }),
      h('div', { class: 'form-actions' }, submit),
      note,
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form);
      const when = new Date(since.value);
      if (!since.value || Number.isNaN(when.getTime())) {
        showErrors(form, { fields: { since: 'Choose a date and time.' } }, note);
        return;
      }
      await busy(submit, async () => {
        try {
          const { requeued } = await api('POST', `/api/webhooks/${hook.id}/replay`, { since: when.toISOString() });
          note.textContent = requeued === 1 ? '1 delivery queued again.' : `${requeued} deliveries queued again.`;
          await this.loadLog(body, hook);
        } catch (failure) {
          showErrors(form, failure, note);
        }
      });
    });
    return form;
  }

  async loadLog(body, hook) {
    if (!body) return;
    let items;
    try {
      ({ items } = await api('GET', `/api/webhooks/${hook.id}/deliveries?limit=50`));
    } catch (failure) {
      body.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load the deliveries: ${errorText(failure)}`));
      return;
    }
    if (!items.length) {
      body.replaceChildren(h('p', { class: 'muted st-empty' }, 'Nothing was sent yet.'));
      return;
    }
    const rows = items.map((delivery) => {
      const last = delivery.attempts?.[delivery.attempts.length - 1];
      const redeliver = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Redeliver ${delivery.event_type} delivery ${delivery.id}` }, 'Redeliver');
      redeliver.addEventListener('click', () =>
        busy(redeliver, async () => {
          try {
            await api('POST', `/api/deliveries/${delivery.id}/redeliver`);
            announce('Delivery queued again.');
            await this.loadLog(body, hook);
          } catch (failure) {
            announce(errorText(failure));
          }
        }),
      );
      return [
        timeEl(delivery.last_attempt_at ?? delivery.created_at),
        h('code', {}, delivery.event_type),
        h('span', { class: `st-dstatus st-d-${delivery.status}` }, statusLabel(delivery)),
        codeOf(delivery) || '—',
        excerpt(last),
        String(delivery.attempt_count),
        redeliver,
      ];
    });
    body.replaceChildren(table(`Deliveries of ${hook.url}, newest first`, ['Time', 'Event', 'Status', 'Response', 'Response body', 'Attempts', ''], rows, 'st-log-table'));
  }
}

/** Checkboxes for the event types; all checked means "every event" (`null`, also future types). */
function eventChooser(legend, selected) {
  const boxes = WEBHOOK_EVENTS.map(([value, label]) => {
    const input = h('input', { type: 'checkbox', id: nextId('ev'), value, checked: selected === null || selected.includes(value) });
    return { input, element: h('div', { class: 'st-check' }, input, h('label', { for: input.id }, label, ' ', h('code', {}, value))) };
  });
  const element = h(
    'fieldset',
    { class: 'st-events-choice', dataset: { field: 'event_types' }, id: nextId('events') },
    h('legend', {}, 'Events'),
    h('p', { class: 'field-hint' }, 'All checked: every event, including kinds added later.'),
    h('div', { class: 'st-check-grid' }, boxes.map((b) => b.element)),
    h('p', { class: 'field-error' }),
  );
  element.querySelector('.field-error').id = `${element.id}-error`;
  element.setAttribute('aria-label', legend);
  return {
    element,
    value() {
      const chosen = boxes.filter((b) => b.input.checked).map((b) => b.input.value);
      return chosen.length === boxes.length ? null : chosen;
    },
    reset() {
      for (const b of boxes) b.input.checked = true;
    },
  };
}

function eventsText(types) {
  if (!types) return 'all events';
  return types.join(', ');
}

function codeOf(delivery) {
  const last = delivery.attempts?.[delivery.attempts.length - 1];
  if (!last) return '';
  return last.status_code ? `HTTP ${last.status_code}` : last.error ?? '';
}

function excerpt(attempt) {
  if (!attempt) return '—';
  const text = (attempt.response_body || attempt.error || '').trim();
  if (!text) return '—';
  return h('span', { class: 'st-excerpt', title: text.slice(0, 500) }, text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function openPanel(panel, name, trigger, content) {
  for (const b of panel.parentElement?.querySelectorAll('button[aria-expanded]') ?? []) b.setAttribute('aria-expanded', 'false');
  panel.dataset.open = name;
  panel.replaceChildren(content);
  trigger?.setAttribute('aria-expanded', 'true');
  (panel.querySelector('h4') ?? panel.querySelector('input, button'))?.focus();
}

function closePanel(panel, trigger) {
  panel.dataset.open = '';
  panel.replaceChildren();
  trigger?.setAttribute('aria-expanded', 'false');
  trigger?.focus();
}

/** `YYYY-MM-DDTHH:MM` in local time, for a datetime-local input. */
function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}
