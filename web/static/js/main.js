/**
 * Wiring: sign-in, the project picker, filters, routing (`#/p/{project}/t/{ticket}`), and the three
 * live sockets (notifications, the project's tickets and presence) feeding the board, the drawer,
 * the presence avatars, the bell and the connection indicator.
 *
 * Loss-free live board: the ticket socket resumes with `last_event_id`; whenever it (re)connects
 * without one, or the hub asks for a resync, the board is reloaded from REST and merged by version.
 */

import { api, ApiError, health, listAll, session } from './api.js';
import { Board } from './board.js';
import { ConnectionIndicator } from './connection.js';
import { announce, avatar, byId, h, toast } from './dom.js';
import { Filters } from './filters.js';
import { Notifications } from './notifications.js';
import { Presence } from './presence.js';
import { LiveSocket } from './socket.js';
import { TicketStore } from './store.js';
import { TicketDrawer } from './ticket.js';

const WRITE_ROLES = new Set(['owner', 'admin', 'member']);

const state = {
  me: null,
  projects: [],
  project: null,
  members: [],
  /** @type {LiveSocket|null} */ notificationSocket: null,
  /** @type {LiveSocket|null} */ ticketSocket: null,
  /** @type {LiveSocket|null} */ presenceSocket: null,
  /** @type {Presence|null} */ presence: null,
  syncSeq: 0,
};

const store = new TicketStore();
const canWrite = () => WRITE_ROLES.has(state.project?.role);
const board = new Board(byId('board'), {
  store,
  onOpen: (id) => navigate(state.project.id, id),
  onMove: moveTicket,
  onCreate: createTicket,
});
const drawer = new TicketDrawer({
  store,
  getMembers: () => state.members,
  me: () => state.me,
  canWrite,
  presence: () => state.presence,
  projectId: () => state.project?.id,
  onOtherProject: (ticket) => {
    if (state.projects.some((p) => p.id === ticket.project_id)) navigate(ticket.project_id, ticket.id);
  },
  onClose: (id) => {
    if (state.project) navigate(state.project.id);
    if (id) board.focusCard(id);
  },
});
const notifications = new Notifications({
  button: byId('bell'),
  badge: byId('bell-count'),
  panel: byId('notif-panel'),
  list: byId('notif-list'),
  markAll: byId('notif-read-all'),
  onOpen: (projectId, ticketId) => openFromNotification(projectId, ticketId),
});
const connection = new ConnectionIndicator();

// --- sign-in ---------------------------------------------------------------------------------------

async function showLogin(message = '') {
  teardown();
  byId('app-view').hidden = true;
  byId('login-view').hidden = false;
  byId('login-error').textContent = message;
  byId('login-email').focus();
  const info = await health();
  const demo = info && typeof info.demo === 'object' ? info.demo : null;
  const hint = byId('demo-hint');
  hint.hidden = !(demo && demo.email && demo.password);
  if (!hint.hidden) {
    byId('demo-email').textContent = demo.email;
    byId('demo-password').textContent = demo.password;
    byId('demo-fill').onclick = () => {
      byId('login-email').value = demo.email;
      byId('login-password').value = demo.password;
      byId('login-submit').focus();
    };
  }
}

byId('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const button = byId('login-submit');
  const error = byId('login-error');
  button.disabled = true;
  error.textContent = '';
  try {
    await session.login(byId('login-email').value.trim(), byId('login-password').value);
    byId('login-password').value = '';
    await startApp();
  } catch (failure) {
    error.textContent = failure.status === 401 ? 'That email and password do not match.' : failure.message;
  } finally {
    button.disabled = false;
  }
});

byId('logout').addEventListener('click', async () => {
  await session.logout();
  history.replaceState(null, '', location.pathname);
  showLogin();
});

session.addEventListener('expired', () => showLogin('Your session has ended. Please sign in again.'));

// --- the app ---------------------------------------------------------------------------------------

async function startApp() {
  try {
    [state.me, { items: state.projects }] = await Promise.all([api('GET', '/api/me'), api('GET', '/api/projects')]);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return session.signedIn ? showLogin() : undefined; // else 'expired' said it
    byId('app-view').hidden = true;
    byId('login-view').hidden = false;
    byId('login-error').textContent = `The hub is not answering (${error.message}). Reload to try again.`;
    return undefined;
  }
  byId('login-view').hidden = true;
  byId('app-view').hidden = false;
  byId('me').replaceChildren(avatar(state.me, { size: 'md', title: `Signed in as ${state.me.name} (${state.me.email})` }));
  byId('me-name').textContent = state.me.name;
  byId('project-picker').replaceChildren(...state.projects.map((p) => h('option', { value: String(p.id) }, `${p.key} · ${p.name}`)));
  byId('no-projects').hidden = state.projects.length > 0;
  byId('board-area').hidden = state.projects.length === 0;

  state.notificationSocket = new LiveSocket('/ws/notifications/', { resume: true, name: 'notifications' });
  notifications.attach(state.notificationSocket);
  connection.watch(state.notificationSocket);
  state.notificationSocket.start();
  notifications.load().catch(() => {});
  return route();
}

function teardown() {
  for (const key of ['notificationSocket', 'ticketSocket', 'presenceSocket']) {
    state[key]?.stop();
    state[key] = null;
  }
  state.presence = null;
  state.project = null;
  state.me = null;
  drawer.close();
  store.clear();
  board.reset();
}

let routeSeq = 0;

/** `#/p/{projectId}[/t/{ticketId}]` → show that project and ticket. The latest navigation wins. */
async function route() {
  if (!state.me) return;
  const seq = ++routeSeq;
  const match = /^#\/p\/(\d+)(?:\/t\/(\d+))?/.exec(location.hash);
  const remembered = Number(localStorage.getItem('switchboard.project'));
  const wanted = Number(match?.[1] ?? remembered);
  const project = state.projects.find((p) => p.id === wanted) ?? state.projects[0];
  if (!project) return;
  if (project.id !== state.project?.id) await openProject(project);
  if (seq !== routeSeq) return; // the user navigated (opened a card) while the project was loading
  const ticketId = match?.[2] ? Number(match[2]) : null;
  board.setSelected(ticketId);
  if (ticketId) await drawer.open(ticketId);
  else drawer.close();
}

function navigate(projectId, ticketId = null) {
  const hash = `#/p/${projectId}${ticketId ? `/t/${ticketId}` : ''}`;
  if (location.hash !== hash) location.hash = hash;
}

window.addEventListener('hashchange', () => route());

async function openProject(project) {
  for (const key of ['ticketSocket', 'presenceSocket']) state[key]?.stop();
  state.project = project; // first: closing the drawer navigates to the current project
  drawer.close();
  store.clear();
  board.reset();
  localStorage.setItem('switchboard.project', String(project.id));
  byId('project-picker').value = String(project.id);
  byId('role-badge').hidden = canWrite();
  document.title = `${project.key} · Switchboard`;
  board.setWritable(canWrite());
  state.members = [];
  loadMembers(project.id);

  const tickets = new LiveSocket(`/ws/projects/${project.id}/tickets/`, { resume: true, name: 'tickets' });
  tickets.addEventListener('message', (event) => onTicketMessage(event.detail));
  tickets.addEventListener('open', (event) => {
    if (!event.detail.resumed) syncBoard(); // nothing to resume from: REST closes the gap
  });
  tickets.addEventListener('status', (event) => {
    if (event.detail.status === 'denied') {
      toast({ kind: 'error', title: `No access to ${project.key}`, message: 'You are no longer a member of this project, or it was removed.' });
    }
  });
  const presenceSocket = new LiveSocket(`/ws/projects/${project.id}/presence/`, { name: 'presence' });
  state.presence = new Presence(presenceSocket, state.me.id);
  state.presence.addEventListener('change', () => {
    state.presence?.renderOnline(byId('presence'));
    drawer.renderPresence();
  });
  state.presence.renderOnline(byId('presence'));
  Object.assign(state, { ticketSocket: tickets, presenceSocket });
  for (const socket of [tickets, presenceSocket]) {
    connection.watch(socket);
    socket.start();
  }
  await syncBoard();
}

async function loadMembers(projectId) {
  try {
    const { items } = await api('GET', `/api/projects/${projectId}/members`);
    if (state.project?.id !== projectId) return;
    state.members = items;
    filters.setMembers(items);
    drawer.refresh();
  } catch {
    // the board still works; the pickers fill on the next project load
  }
}

/** Reload every ticket of the project from REST and merge it into the store. */
async function syncBoard() {
  const project = state.project;
  const seq = ++state.syncSeq;
  store.beginSync();
  try {
    const tickets = await listAll(`/api/projects/${project.id}/tickets`);
    if (seq === state.syncSeq && state.project === project) store.finishSync(tickets);
  } catch (error) {
    if (seq === state.syncSeq) toast({ kind: 'error', title: 'Could not load the board', message: error.message });
  } finally {
    byId('board').setAttribute('aria-busy', 'false');
  }
}

function onTicketMessage(message) {
  if (message.type === 'resync_required') return void syncBoard();
  if (message.type !== 'ticket_update' || message.project_id !== state.project?.id) return;
  const data = message.data ?? {};
  switch (message.action) {
    case 'created':
    case 'updated':
    case 'assigned':
    case 'status_changed':
      store.upsert(data, 'remote');
      break;
    case 'deleted':
      store.remove(data.id, 'remote');
      if (drawer.ticketId === data.id) {
        drawer.close();
        toast({ title: `${data.key} was deleted` });
      }
      break;
    case 'commented':
    case 'comment_updated':
    case 'comment_deleted':
      drawer.onCommentEvent(message.action, data);
      break;
    default:
  }
}

store.addEventListener('change', (event) => {
  const { ids, reason } = event.detail;
  board.render(ids, { flash: reason === 'remote' });
  if (drawer.ticketId !== null && (reason === 'sync' || ids.includes(drawer.ticketId))) drawer.refresh();
});

// --- moving and creating ---------------------------------------------------------------------------

/** Optimistic move: the card moves at once and moves back (with a message) if the hub refuses. */
async function moveTicket(id, status) {
  const before = store.get(id);
  if (!before || before.status === status) return;
  store.force({ ...before, status, _optimistic: true }, 'local');
  try {
    store.upsert(await api('PATCH', `/api/tickets/${id}`, { status, version: before.version }), 'local');
  } catch (error) {
    if (store.get(id)?._optimistic) store.force(before, 'local');
    const message = {
      409: `${before.key} was changed by someone else in the meantime, so it stayed where it was.`,
      403: `You cannot move tickets in ${state.project?.key}: ${error.message}`,
    }[error.status] ?? error.message;
    toast({ kind: 'error', title: 'Move undone', message });
    announce(`Move undone. ${message}`);
    api('GET', `/api/tickets/${id}`).then((fresh) => store.upsert(fresh)).catch(() => {});
  }
}

async function createTicket(status, title) {
  const ticket = await api('POST', `/api/projects/${state.project.id}/tickets`, { title, status });
  store.upsert(ticket, 'local');
  announce(`Created ${ticket.key}.`);
}

async function openFromNotification(projectId, ticketId) {
  if (!ticketId) return;
  let project = projectId;
  if (!project) project = (await api('GET', `/api/tickets/${ticketId}`).catch(() => null))?.project_id;
  if (project) navigate(project, ticketId);
}

// --- filters and project picker -------------------------------------------------------------------

const filters = new Filters({ me: () => state.me, onChange: (predicate) => board.setFilter(predicate) });
byId('project-picker').addEventListener('change', (event) => navigate(Number(event.target.value)));

// --- start -----------------------------------------------------------------------------------------

if (session.signedIn) startApp();
else showLogin();
