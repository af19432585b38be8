/**
 * What a ticket card says: the status and priority vocabulary, and the card's content
 * (key, priority icon, title, labels, assignee avatar) with an accessible label.
 */

import { avatar, h } from './dom.js';

export const STATUSES = [
  { id: 'todo', label: 'Todo' },
  { id: 'in_progress', label: 'In Progress' },
  { id: 'in_review', label: 'In Review' },
  { id: 'done', label: 'Done' },
  { id: 'canceled', label: 'Canceled' },
];
export const PRIORITIES = [
  { id: 'urgent', label: 'Urgent' },
  { id: 'high', label: 'High' },
  { id: 'medium', label: 'Medium' },
  { id: 'low', label: 'Low' },
];
export const PRIORITY_RANK = Object.fromEntries(PRIORITIES.map((p, i) => [p.id, i]));

export const statusLabel = (id) => STATUSES.find((s) => s.id === id)?.label ?? id;
export const priorityLabel = (id) => PRIORITIES.find((p) => p.id === id)?.label ?? id;

/** Priority as a small icon: bars for low/medium/high, an exclamation mark for urgent. */
export function priorityIcon(priority) {
  return h(
    'span',
    { class: `prio prio-${priority}`, title: `Priority: ${priorityLabel(priority)}`, 'aria-hidden': 'true' },
    priority === 'urgent' ? '!' : [h('i'), h('i'), h('i')],
  );
}

/** (Re)fill a card element for `ticket`; `ticket._optimistic` marks a move not yet confirmed. */
export function fillCard(el, ticket) {
  const assignee = ticket.assignee;
  el.dataset.status = ticket.status;
  el.classList.toggle('pending', Boolean(ticket._optimistic));
  el.setAttribute(
    'aria-label',
    `${ticket.key}: ${ticket.title}. ${statusLabel(ticket.status)}, priority ${priorityLabel(ticket.priority)}, ` +
      (assignee ? `assigned to ${assignee.name}` : 'unassigned'),
  );
  el.replaceChildren(
    h('div', { class: 'card-top' }, h('span', { class: 'card-key' }, ticket.key), priorityIcon(ticket.priority)),
    h('p', { class: 'card-title' }, ticket.title),
    h(
      'div',
      { class: 'card-bottom' },
      h('span', { class: 'labels' }, ticket.labels.slice(0, 3).map((label) => h('span', { class: 'label' }, label))),
      assignee ? avatar(assignee, { size: 'xs', title: `Assigned to ${assignee.name}` }) : h('span', { class: 'avatar avatar-xs avatar-empty', title: 'Unassigned', 'aria-hidden': 'true' }),
    ),
  );
}
