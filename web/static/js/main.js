/**
 * Wiring: sign-in, the project picker, filters, routing (router.js: the board at `#/p/{project}/t/{ticket}`,
 * and the screens — sign-up, invites, settings, project settings — mounted on demand), and the three
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
import { PUBLIC_ROUTES, parseRoute } from './router.js';
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
  /** The mounted screen (anything but the board): {name, key, root, cleanup, controller, listeners}. */
  screen: null,
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
    // Only a drawer closed on the board changes the URL (not one closed because a screen opened).
    const current = parseRoute(location.hash);
    if (current.name !== 'board') return;
    if (state.project && current.ticketId) navigate(state.project.id);
    // A deleted ticket's card is about to go: keep focus on the board rather than lose it to <body>.
    if (id && !(store.get(id) && board.focusCard(id))) board.focusHeading();
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
  unmountScreen();
  byId('app-view').hidden = true;
  byId('public-view').hidden = true;
  byId('login-view').hidden = false;
  byId('login-error').textContent = message;
  byId('login-email').focus();
  const info = await health();
  const demo = info && typeof info.demo === 'object' ? info.demo : null;
  byId('signup-hint').hidden = !(info && info.signup === true);
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
    afterSignIn?.();
    afterSignIn = null;
  } catch (failure) {
    error.textContent = failure.status === 401 ? 'That email and password do not match.' : failure.message;
  } finally {
    button.disabled = false;
  }
});

/** Set by a signed-out screen (an invite link) that wants to finish its work after the sign-in form. */
let afterSignIn = null;

byId('logout').addEventListener('click', async () => {
  await session.logout();
  history.replaceState(null, '', location.pathname);
  showLogin();
});

session.addEventListener('expired', () => showLogin('Your session has ended. Please sign in again.'));

// --- the app ---------------------------------------------------------------------------------------

/** Enter the app with the stored tokens; then show what the hash names (unless `route` is false). */
async function startApp({ route: routeAfter = true } = {}) {
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
  byId('public-view').hidden = true;
  byId('app-view').hidden = false;
  byId('me').replaceChildren(avatar(state.me, { size: 'md', title: `Signed in as ${state.me.name} (${state.me.email})` }));
  byId('me-name').textContent = state.me.name;
  renderProjects();

  state.notificationSocket = new LiveSocket('/ws/notifications/', { resume: true, name: 'notifications' });
  notifications.attach(state.notificationSocket);
  state.notificationSocket.addEventListener('message', (event) => onMembershipMessage(event.detail));
  connection.watch(state.notificationSocket);
  state.notificationSocket.start();
  notifications.load().catch(() => {});
  return routeAfter ? route() : undefined;
}

function teardown() {
  for (const key of ['notificationSocket', 'ticketSocket', 'presenceSocket']) {
    state[key]?.stop();
    state[key] = null;
  }
  state.presence = null;
  state.project = null;
  state.me = null;
  state.projects = [];
  state.members = [];
  drawer.close();
  store.clear();
  board.reset();
}

let routeSeq = 0;

/** Show what `location.hash` names (router.js): a screen, or a project's board and ticket. The latest
 * navigation wins. */
async function route() {
  const current = parseRoute(location.hash);
  if (!state.me) {
    if (PUBLIC_ROUTES.has(current.name)) return showPublicScreen(current);
    if (!session.signedIn) return showLogin();
    return undefined; // startApp is running and routes when it is done
  }
  const seq = ++routeSeq;
  if (current.name !== 'board') return showScreen(current);
  unmountScreen();
  showBoardArea();
  const remembered = Number(localStorage.getItem('switchboard.project'));
  const wanted = current.projectId ?? remembered;
  const project = state.projects.find((p) => p.id === wanted) ?? state.projects[0];
  if (!project) return undefined;
  if (project.id !== state.project?.id) await openProject(project);
  if (seq !== routeSeq) return undefined; // the user navigated (opened a card) while the project was loading
  filters.setQuery?.(current.query);
  board.setSelected(current.ticketId);
  if (current.ticketId) await drawer.open(current.ticketId);
  else drawer.close();
  return undefined;
}

/** The board's hash for a project (and ticket), keeping the filters in the URL. */
function navigate(projectId, ticketId = null) {
  const query = parseRoute(location.hash).query.toString();
  const hash = `#/p/${projectId}${ticketId ? `/t/${ticketId}` : ''}${query ? `?${query}` : ''}`;
  if (location.hash !== hash) location.hash = hash;
}

/** Go to any route by its hash. */
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

window.addEventListener('hashchange', () => route());

// --- screens (everything but the board) ------------------------------------------------------------

const SCREENS = {
  signup: () => import('./signup.js'),
  invite: () => import('./invite.js'),
  settings: () => import('./settings.js'),
  'new-project': () => import('./newproject.js'),
  'project-settings': () => import('./projectsettings.js'),
};

function showBoardArea() {
  byId('screen').hidden = true;
  byId('no-projects').hidden = state.projects.length > 0;
  byId('board-area').hidden = state.projects.length === 0;
  updateNav();
}

function unmountScreen() {
  const screen = state.screen;
  if (!screen) return;
  state.screen = null;
  screen.controller.abort();
  try {
    screen.cleanup?.();
  } catch (error) {
    console.warn('screen cleanup failed', error);
  }
  screen.root.remove();
}

/** The context every screen gets (see web-shell notes in docs/architecture.md). */
function screenContext(current, controller, listeners) {
  return {
    route: current,
    me: () => state.me,
    projects: () => state.projects,
    project: (id) => state.projects.find((p) => p.id === Number(id)),
    navigate: go,
    refreshProjects,
    startApp: async () => {
      await startApp({ route: false });
    },
    signIn: (then = null) => {
      afterSignIn = then;
      showLogin();
    },
    signal: controller.signal,
    onMembership: (fn) => {
      listeners.add(fn);
    },
  };
}

/** A same-screen navigation (another tab of settings) remounts only when the route itself changed. */
function screenKey(current) {
  return JSON.stringify({ ...current, query: current.query.toString() });
}

async function mountScreen(current, host) {
  const key = screenKey(current);
  if (state.screen?.key === key && state.screen.host === host) return;
  unmountScreen();
  const controller = new AbortController();
  const listeners = new Set();
  const root = h('div', { class: 'screen-root' });
  const screen = { name: current.name, key, host, root, controller, listeners, cleanup: null };
  state.screen = screen;
  host.replaceChildren(root);
  host.hidden = false;
  let module;
  try {
    module = await SCREENS[current.name]();
  } catch (error) {
    if (state.screen !== screen) return;
    root.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `This page could not be loaded (${error.message}). Reload to try again.`));
    return;
  }
  if (state.screen !== screen) return; // navigated away while loading
  try {
    screen.cleanup = module.mount(root, screenContext(current, controller, listeners)) ?? null;
  } catch (error) {
    console.error(error);
    root.replaceChildren(h('p', { class: 'form-error', role: 'alert' }, `This page failed: ${error.message}`));
  }
  const heading = root.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

async function showScreen(current) {
  drawer.close();
  if (current.name === 'project-settings') {
    // The project's tickets socket carries member and role changes: keep it open for the settings page.
    const project = state.projects.find((p) => p.id === current.projectId);
    if (project && project.id !== state.project?.id) openProject(project);
  }
  byId('board-area').hidden = true;
  byId('no-projects').hidden = true;
  updateNav(current);
  document.title = `${SCREEN_TITLES[current.name] ?? 'Switchboard'} · Switchboard`;
  await mountScreen(current, byId('screen'));
}

const SCREEN_TITLES = {
  signup: 'Create an account',
  invite: 'Invitation',
  settings: 'Settings',
  'new-project': 'New project',
  'project-settings': 'Project settings',
};

async function showPublicScreen(current) {
  byId('login-view').hidden = true;
  byId('app-view').hidden = true;
  document.title = `${SCREEN_TITLES[current.name]} · Switchboard`;
  await mountScreen(current, byId('public-view'));
}

/** The top bar's links follow the open project and screen. */
function updateNav(current = null) {
  const project = current?.projectId ? state.projects.find((p) => p.id === current.projectId) : state.project;
  const settingsLink = byId('nav-project-settings');
  settingsLink.hidden = !project;
  if (project) settingsLink.href = `#/p/${project.id}/settings`;
  for (const [id, name] of [['nav-project-settings', 'project-settings'], ['nav-new-project', 'new-project'], ['nav-settings', 'settings']]) {
    if (current?.name === name) byId(id).setAttribute('aria-current', 'page');
    else byId(id).removeAttribute('aria-current');
  }
}

// --- the user's projects, live ---------------------------------------------------------------------

function renderProjects() {
  const picker = byId('project-picker');
  picker.replaceChildren(...state.projects.map((p) => h('option', { value: String(p.id) }, `${p.key} · ${p.name}`)));
  if (state.project) picker.value = String(state.project.id);
  picker.hidden = state.projects.length === 0;
  if (!state.screen) showBoardArea();
  else updateNav(parseRoute(location.hash));
}

async function refreshProjects() {
  const { items } = await api('GET', '/api/projects');
  state.projects = items;
  if (state.project) {
    const fresh = items.find((p) => p.id === state.project.id);
    if (fresh) applyProject(fresh);
  }
  renderProjects();
}

/** A change to the open project (a rename, or my role) shows at once. */
function applyProject(fresh) {
  Object.assign(state.project, fresh);
  byId('role-badge').hidden = canWrite();
  board.setWritable(canWrite());
  drawer.refresh();
  document.title = state.screen ? document.title : `${state.project.key} · Switchboard`;
  const option = byId('project-picker').querySelector(`option[value="${state.project.id}"]`);
  if (option) option.textContent = `${state.project.key} · ${state.project.name}`;
}

function notifyScreen(message) {
  for (const listener of state.screen?.listeners ?? []) {
    try {
      listener(message);
    } catch (error) {
      console.error(error);
    }
  }
}

/** `project_added` / `project_removed` on my notifications socket: my project list follows at once. */
function onMembershipMessage(message) {
  if (message.type === 'project_added' && message.project) {
    const others = state.projects.filter((p) => p.id !== message.project.id);
    state.projects = [...others, message.project].sort((a, b) => a.key.localeCompare(b.key));
    renderProjects();
    toast({ title: `You were added to ${message.project.key}`, message: message.project.name, onClick: () => navigate(message.project.id) });
    if (state.projects.length === 1 && !state.screen) route();
  } else if (message.type === 'project_removed') {
    const lost = state.projects.find((p) => p.id === message.project_id);
    state.projects = state.projects.filter((p) => p.id !== message.project_id);
    renderProjects();
    if (state.project?.id === message.project_id) loseProject(lost);
  } else {
    return;
  }
  notifyScreen(message);
}

/** The open project was taken from me: say so, stop offering actions, keep nothing live. */
function loseProject(project) {
  for (const key of ['ticketSocket', 'presenceSocket']) {
    state[key]?.stop();
    state[key] = null;
  }
  state.presence = null;
  byId('presence').replaceChildren();
  state.project.role = null;
  board.setWritable(false);
  drawer.close();
  store.clear();
  board.reset();
  const key = project?.key ?? state.project.key;
  toast({ kind: 'error', title: `You no longer have access to ${key}`, message: 'You were removed from the project, or you left it.' });
  announce(`You no longer have access to ${key}.`);
  localStorage.removeItem('switchboard.project');
  state.project = null;
  byId('board').setAttribute('aria-busy', 'false');
  const notice = byId('lost-access');
  notice.textContent = `You no longer have access to ${key}: you were removed from the project, or you left it.`;
  notice.hidden = false;
  byId('role-badge').hidden = true;
  updateNav();
}

/** `member_update` / `project_update` on the tickets socket: pickers, @ completion and my role follow. */
function onMemberMessage(message) {
  if (message.project_id !== state.project?.id) return;
  if (message.type === 'project_update' && message.data) {
    applyProject({ name: message.data.name, key: message.data.key, description: message.data.description });
    notifyScreen(message);
    return;
  }
  const member = message.data;
  if (!member) return;
  const rest = state.members.filter((m) => m.user_id !== member.user_id);
  state.members = message.action === 'removed' ? rest : [...rest, member].sort((a, b) => a.user.name.localeCompare(b.user.name));
  filters.setMembers(state.members);
  if (member.user_id === state.me?.id && message.action === 'updated') {
    applyProject({ role: member.role });
    toast({ title: `Your role in ${state.project.key} is now ${member.role}` });
  }
  drawer.refresh();
  notifyScreen(message);
}

async function openProject(project) {
  for (const key of ['ticketSocket', 'presenceSocket']) state[key]?.stop();
  state.project = project; // first: closing the drawer navigates to the current project
  byId('lost-access').hidden = true;
  updateNav();
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
  tickets.addEventListener('message', (event) => {
    const message = event.detail;
    if (message.type === 'member_update' || message.type === 'project_update') onMemberMessage(message);
    else onTicketMessage(message);
  });
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

const filters = new Filters({
  me: () => state.me,
  store,
  onChange: (predicate) => board.setFilter(predicate),
  // The user changed a filter: put it in the URL (a new history entry per pick; typing replaces).
  onQuery: (query, { replace }) => {
    const current = parseRoute(location.hash);
    if (!state.project || current.name !== 'board') return;
    const search = query.toString();
    const hash = `#/p/${state.project.id}${current.ticketId ? `/t/${current.ticketId}` : ''}${search ? `?${search}` : ''}`;
    if (location.hash === hash) return;
    if (replace) history.replaceState(history.state, '', hash);
    else location.hash = hash;
  },
});
byId('project-picker').addEventListener('change', (event) => {
  const id = Number(event.target.value);
  const current = parseRoute(location.hash);
  if (current.name === 'project-settings') go(`#/p/${id}/settings/${current.section}`);
  else go(`#/p/${id}`); // another project's board starts unfiltered
});

// --- start -----------------------------------------------------------------------------------------

if (session.signedIn) startApp();
else route();
