/**
 * The chat channels relaying a project (`GET /api/projects/{id}/chat-subscriptions`), mounted by the
 * project settings screen: platform, channel, events, who subscribed it, and its state (paused ones
 * with the reason and when the relay tries again). Admins and owners can delete one (`DELETE`).
 * Channels are subscribed from chat with `/ticket subscribe KEY`.
 */

import { api } from './api.js';
import { announce, h } from './dom.js';
import { confirmInline, errorText, isProjectAdmin, table, timeEl } from './settingskit.js';

const PLATFORM = { slack: 'Slack', discord: 'Discord' };
const STATE = { active: 'Active', paused: 'Paused', archived: 'Channel archived', removed: 'Bot removed', uninstalled: 'App uninstalled' };

/**
 * @param {HTMLElement} root
 * @param {any} ctx
 * @param {{id: number, key: string, role: string}} project
 */
export function mountChatSubscriptions(root, ctx, project) {
  let stopped = false;
  const list = h('div', { class: 'st-subs', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading…'));
  const heading = h('h2', { tabindex: '-1' }, 'Chat channels');
  root.replaceChildren(
    heading,
    h(
      'p',
      { class: 'muted' },
      'Slack and Discord channels that get this project’s updates. To add one, type ',
      h('code', {}, `/ticket subscribe ${project.key}`),
      ' in the channel.',
    ),
    list,
  );

  const load = async () => {
    let items;
    let members = [];
    try {
      [{ items }, members] = await Promise.all([
        api('GET', `/api/projects/${project.id}/chat-subscriptions`),
        api('GET', `/api/projects/${project.id}/members`).then((page) => page.items).catch(() => []),
      ]);
    } catch (failure) {
      list.setAttribute('aria-busy', 'false');
      list.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `Could not load the channels: ${errorText(failure)}`));
      return;
    }
    if (stopped) return;
    list.setAttribute('aria-busy', 'false');
    if (!items.length) {
      list.replaceChildren(h('p', { class: 'muted st-empty' }, 'No channel relays this project yet.'));
      return;
    }
    const names = new Map(members.map((m) => [m.user_id, m.user?.name ?? m.user?.email]));
    const admin = isProjectAdmin(project);
    const rows = items.map((sub) => {
      const channel = `${PLATFORM[sub.platform] ?? sub.platform} channel ${sub.channel}`;
      const actions = h('div', { class: 'st-row-actions' });
      if (admin) {
        const remove = h('button', { type: 'button', class: 'btn btn-ghost btn-sm', 'aria-label': `Delete the subscription of ${channel}` }, 'Delete');
        remove.addEventListener('click', () =>
          confirmInline(actions, remove, {
            question: `Stop relaying ${project.key} to ${channel}?`,
            confirm: 'Delete',
            onConfirm: async () => {
              await api('DELETE', `/api/projects/${project.id}/chat-subscriptions/${sub.id}`);
              announce(`${channel} no longer gets ${project.key} updates.`);
              await load();
              heading.focus();
            },
          }),
        );
        actions.append(remove);
      }
      const row = [
        PLATFORM[sub.platform] ?? sub.platform,
        h('span', {}, h('code', { class: 'st-channel' }, sub.channel), h('span', { class: 'muted st-meta' }, ` · ${sub.team_id}`)),
        h('span', { class: 'st-events' }, sub.events?.length ? sub.events.join(', ') : 'all'),
        sub.created_by === null || sub.created_by === undefined ? '—' : names.get(sub.created_by) ?? `a former member (user ${sub.created_by})`,
        stateCell(sub),
      ];
      if (admin) row.push(actions);
      return row;
    });
    const headers = ['Platform', 'Channel', 'Events', 'Subscribed by', 'State'];
    if (admin) headers.push('');
    list.replaceChildren(table(`Channels relaying ${project.key}`, headers, rows, 'st-subs-table'));
  };
  load();
  return () => {
    stopped = true;
  };
}

function stateCell(sub) {
  const label = STATE[sub.state] ?? sub.state;
  return h(
    'span',
    { class: `st-state st-state-${sub.state}` },
    h('span', { class: `chip ${sub.state === 'active' ? 'st-on' : 'st-off'}` }, label),
    sub.state_reason && h('span', { class: 'st-reason' }, ` ${sub.state_reason}`),
    sub.failures ? h('span', { class: 'muted' }, ` · ${sub.failures} failed deliveries`) : null,
    sub.retry_at && h('span', { class: 'muted' }, ' · retries ', timeEl(sub.retry_at)),
  );
}
