/**
 * The ticket drawer: edit title, description, status, priority, assignee and labels; watch the
 * ticket; delete it (after a confirmation); read and write comments (with `@` completion, editing
 * and deleting your own: `comments.js`); the ticket's history (`timeline.js`); see who else views
 * the ticket and who types. Viewers see everything but get no edit controls (they may still watch).
 *
 * Every change is a PATCH carrying the `version` being edited, so a concurrent edit answers 409: the
 * drawer then reloads the ticket and says so instead of silently overwriting someone's work. Live
 * changes from the store are shown at once, except in a field the user is editing right now.
 */

import { api } from './api.js';
import { PRIORITIES, STATUSES } from './cards.js';
import { CommentThread } from './comments.js';
import { confirmDialog } from './confirm.js';
import { announce, avatar, byId, h, toast } from './dom.js';
import { LabelEditor } from './labels.js';
import { attachMentions } from './mentions.js';
import { Timeline } from './timeline.js';

const MODERATOR_ROLES = new Set(['owner', 'admin']);
/** How long the project's label list is reused for suggestions. */
const LABELS_TTL_MS = 30_000;

export class TicketDrawer {
  ticket = null;
  #loadSeq = 0;
  #saving = Promise.resolve();
  /** @type {{projectId: number, at: number, names: Promise<string[]>}|null} */
  #projectLabels = null;

  /**
   * @param {{store: import('./store.js').TicketStore, getMembers: () => Array<object>, me: () => object,
   *   canWrite: () => boolean, presence: () => import('./presence.js').Presence|null,
   *   projectId: () => number|undefined, onOtherProject: (ticket: object) => void,
   *   onClose: (ticketId: number|undefined) => void}} deps
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.root = byId('drawer');
    this.el = {
      key: byId('drawer-key'),
      viewers: byId('drawer-viewers'),
      title: byId('t-title'),
      status: byId('t-status'),
      priority: byId('t-priority'),
      assignee: byId('t-assignee'),
      labels: byId('t-labels'),
      reporter: byId('t-reporter'),
      description: byId('t-description'),
      descActions: byId('desc-actions'),
      readOnly: byId('drawer-readonly'),
      watch: byId('t-watch'),
      watchers: byId('t-watchers'),
      delete: byId('t-delete'),
      tabs: [byId('tab-comments'), byId('tab-activity')],
      comments: byId('comment-list'),
      form: byId('comment-form'),
      input: byId('comment-input'),
      typing: byId('typing'),
    };
    fillSelect(this.el.status, STATUSES);
    fillSelect(this.el.priority, PRIORITIES);
    this.labelEditor = new LabelEditor(this.el.labels, {
      labelledBy: 't-labels-label',
      suggestions: () => this.#labelSuggestions(),
      onChange: (labels) => this.#patch({ labels }),
    });
    this.thread = new CommentThread(this.el.comments, {
      me: this.me,
      canWrite: this.canWrite,
      canModerate: () => this.#canModerate(),
      afterDelete: () => (this.el.form.hidden ? this.el.key : this.el.input).focus(),
    });
    this.timeline = new Timeline({ list: byId('activity-list'), older: byId('activity-older'), getMembers: this.getMembers });
    this.#wire();
    attachMentions(this.el.input, byId('mention-list'), this.getMembers);
  }

  get isOpen() {
    return !this.root.hidden;
  }

  get ticketId() {
    return this.isOpen ? this.ticket?.id ?? null : null;
  }

  /** Open ticket `id` (numeric). Resolves once loaded; the drawer shows a cached copy meanwhile. */
  async open(id) {
    const seq = ++this.#loadSeq;
    const cached = this.store.get(id);
    const switching = this.ticket?.id !== id;
    this.ticket = cached ?? this.ticket;
    if (switching) {
      this.thread.reset();
      this.labelEditor.reset();
      this.el.input.value = '';
    }
    this.timeline.setTicket(id);
    this.root.hidden = false;
    document.body.classList.add('drawer-open');
    if (cached) this.#fill(true);
    this.presence()?.setViewing(id);
    this.renderPresence();
    if (switching) this.el.key.focus();
    try {
      const [ticket, comments] = await Promise.all([api('GET', `/api/tickets/${id}`), api('GET', `/api/tickets/${id}/comments`)]);
      if (seq !== this.#loadSeq) return;
      if (ticket.project_id !== this.projectId()) {
        this.close();
        this.onOtherProject(ticket); // a link or notification from another project
        return;
      }
      this.store.upsert(ticket);
      this.ticket = this.store.get(id) ?? ticket;
      this.#fill(!cached); // with a cached copy on screen the user may already be typing: keep it
      this.thread.setAll(comments.items);
    } catch (error) {
      if (seq !== this.#loadSeq) return;
      toast({ title: 'Could not open the ticket', message: error.message, kind: 'error' });
      this.close();
    }
  }

  close() {
    if (!this.isOpen) return;
    this.#loadSeq += 1;
    this.presence()?.stopTyping();
    this.presence()?.setViewing(null);
    this.root.hidden = true;
    document.body.classList.remove('drawer-open');
    this.timeline.setTicket(null);
    this.onClose(this.ticket?.id);
  }

  /** The store changed this ticket (live event or our own save). */
  refresh() {
    if (!this.isOpen || !this.ticket) return;
    const latest = this.store.get(this.ticket.id);
    if (!latest) return;
    this.ticket = latest;
    this.#fill(false);
    this.timeline.refresh();
  }

  /** A comment event (`commented`, `comment_updated`, `comment_deleted`) from the ticket socket. */
  onCommentEvent(action, data) {
    if (!this.isOpen || !data?.comment || data.ticket_id !== this.ticket?.id) return;
    this.thread.onEvent(action, data.comment);
    this.timeline.refresh();
  }

  /** Viewer avatars and the "is typing…" line, from presence. */
  renderPresence() {
    const presence = this.presence();
    const id = this.ticket?.id;
    const viewers = presence && id ? presence.viewersOf(id) : [];
    this.el.viewers.replaceChildren(...viewers.map((u) => h('li', {}, avatar(u, { title: `${u.name} is viewing this ticket` }), h('span', { class: 'sr-only' }, u.name))));
    this.el.viewers.setAttribute('aria-label', viewers.length ? `Also viewing: ${viewers.map((u) => u.name).join(', ')}` : 'Nobody else is viewing');
    const typists = presence && id ? presence.typistsOf(id).map((u) => u.name) : [];
    this.el.typing.textContent = typists.length === 0 ? '' : typists.length === 1 ? `${typists[0]} is typing…` : `${typists.slice(0, -1).join(', ')} and ${typists.at(-1)} are typing…`;
  }

  #wire() {
    byId('drawer-close').addEventListener('click', () => this.close());
    this.el.watch.addEventListener('click', () => this.#toggleWatch());
    this.el.delete.addEventListener('click', () => this.#delete());
    this.el.tabs.forEach((tab, i) => {
      tab.addEventListener('click', () => this.#selectTab(i));
      tab.addEventListener('keydown', (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        const to = event.key === 'Home' ? 0 : event.key === 'End' ? this.el.tabs.length - 1 : step ? (i + step + this.el.tabs.length) % this.el.tabs.length : null;
        if (to === null) return;
        event.preventDefault();
        this.#selectTab(to);
        this.el.tabs[to].focus();
      });
    });
    document.addEventListener('keydown', (event) => {
      // On the document, not the drawer: focus may sit on the board or on <body> after a save.
      if (event.key === 'Escape' && this.isOpen && !event.defaultPrevented) {
        event.preventDefault();
        this.close();
      }
    });
    for (const name of ['status', 'priority', 'assignee']) {
      this.el[name].addEventListener('change', () => {
        const value = this.el[name].value;
        const field = name === 'assignee' ? 'assignee_id' : name;
        this.#patch({ [field]: name === 'assignee' ? (value ? Number(value) : null) : value });
      });
    }
    this.el.title.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        event.preventDefault();
        this.el.title.blur();
      }
    });
    this.el.title.addEventListener('change', () => {
      const title = this.el.title.value.trim();
      if (!title || title === this.ticket.title) return this.#fill(true);
      return this.#patch({ title });
    });
    this.el.description.addEventListener('input', () => {
      this.el.descActions.hidden = this.el.description.value === (this.ticket?.description ?? '');
    });
    this.el.description.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) this.#saveDescription();
    });
    byId('desc-save').addEventListener('click', () => this.#saveDescription());
    byId('desc-cancel').addEventListener('click', () => {
      this.el.description.value = this.ticket?.description ?? '';
      this.el.descActions.hidden = true;
    });
    this.el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.#addComment();
    });
    this.el.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.#addComment();
      }
    });
    this.el.input.addEventListener('input', () => {
      if (!this.ticket) return;
      if (this.el.input.value.trim()) this.presence()?.typing(this.ticket.id);
      else this.presence()?.stopTyping();
    });
    this.el.input.addEventListener('blur', () => this.presence()?.stopTyping());
  }

  #fill(force) {
    const t = this.ticket;
    if (!t) return;
    const writable = this.canWrite();
    this.el.key.textContent = t.key;
    if (force || document.activeElement !== this.el.title) this.el.title.value = t.title;
    this.el.status.value = t.status;
    this.el.priority.value = t.priority;
    fillSelect(this.el.assignee, [
      { id: '', label: 'Unassigned' },
      ...this.getMembers().filter((m) => m.role !== 'viewer' || m.user_id === t.assignee?.id).map((m) => ({ id: String(m.user_id), label: m.user.name })),
    ]);
    this.el.assignee.value = t.assignee ? String(t.assignee.id) : '';
    this.labelEditor.set(t.labels, writable);
    this.#fillWatch();
    this.el.delete.hidden = !this.#canDelete();
    this.el.reporter.replaceChildren(avatar(t.reporter, { size: 'xs' }), ` ${t.reporter.name}`);
    const descriptionDirty = !this.el.descActions.hidden;
    if (force || !descriptionDirty) {
      this.el.description.value = t.description;
      this.el.descActions.hidden = true;
    }
    for (const control of [this.el.title, this.el.status, this.el.priority, this.el.assignee, this.el.description]) {
      control.disabled = !writable;
    }
    this.el.form.hidden = !writable;
    this.el.readOnly.hidden = writable;
  }

  /** Save changes one PATCH at a time, so quick successive edits never conflict with each other. */
  #patch(changes) {
    const id = this.ticket.id;
    this.#saving = this.#saving.then(() => this.#send(id, changes));
    return this.#saving;
  }

  async #send(id, changes) {
    const t = this.store.get(id) ?? (this.ticket?.id === id ? this.ticket : null);
    if (!t) return;
    try {
      const updated = await api('PATCH', `/api/tickets/${t.id}`, { ...changes, version: t.version });
      this.store.upsert(updated, 'local');
      if (this.ticket?.id !== id) return; // the user moved on to another ticket meanwhile
      this.ticket = this.store.get(id) ?? updated;
      this.#fill(false);
    } catch (error) {
      const conflict = error.status === 409;
      toast({
        kind: 'error',
        title: conflict ? `${t.key} changed while you were editing` : `Could not save ${t.key}`,
        message: conflict ? 'Showing the latest version; please make your change again.' : error.message,
      });
      await this.#reload(id);
    }
  }

  async #reload(id) {
    try {
      this.store.upsert(await api('GET', `/api/tickets/${id}`));
    } catch {
      // keep what we have; the error was already shown
    }
    if (this.ticket?.id !== id) return;
    this.ticket = this.store.get(id) ?? this.ticket;
    this.#fill(true);
  }

  async #saveDescription() {
    const description = this.el.description.value;
    if (description === this.ticket.description) return;
    this.el.descActions.hidden = true;
    this.el.description.focus(); // the Save button just disappeared
    await this.#patch({ description });
  }

  async #addComment() {
    const body = this.el.input.value.trim();
    if (!body || !this.ticket) return;
    const ticketId = this.ticket.id;
    const button = this.el.form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const comment = await api('POST', `/api/tickets/${ticketId}/comments`, { body });
      this.presence()?.stopTyping();
      if (this.ticket?.id === ticketId) {
        this.el.input.value = '';
        this.thread.add(comment);
      }
    } catch (error) {
      toast({ kind: 'error', title: 'Comment not sent', message: error.fields?.body ?? error.message });
    } finally {
      button.disabled = false;
    }
  }

  /** The user's role in the open project (site admins without a membership act as owners). */
  #role() {
    const me = this.me();
    const member = this.getMembers().find((m) => m.user_id === me?.id);
    return member?.role ?? (me?.is_admin ? 'owner' : null);
  }

  #canModerate() {
    return MODERATOR_ROLES.has(this.#role());
  }

  /** As the hub decides (`policy.can_delete_ticket`): admins any ticket, members the ones they reported. */
  #canDelete() {
    const t = this.ticket;
    if (!t || !this.canWrite()) return false;
    return this.#canModerate() || t.reporter?.id === this.me()?.id;
  }

  /** The project's labels (cached briefly) and every label on the board, for the label editor. */
  async #labelSuggestions() {
    const projectId = this.projectId();
    const cache = this.#projectLabels;
    if (!cache || cache.projectId !== projectId || Date.now() - cache.at > LABELS_TTL_MS) {
      const names = api('GET', `/api/projects/${projectId}/labels`)
        .then((page) => page.items.map((item) => item.name))
        .catch(() => []);
      this.#projectLabels = { projectId, at: Date.now(), names };
    }
    const names = new Set(await this.#projectLabels.names);
    for (const ticket of this.store.all()) for (const label of ticket.labels) names.add(label);
    return [...names];
  }

  #fillWatch() {
    const t = this.ticket;
    const watchers = t.watchers ?? [];
    const watching = watchers.includes(this.me()?.id);
    this.el.watch.setAttribute('aria-pressed', String(watching));
    this.el.watch.textContent = watching ? 'Watching' : 'Watch';
    this.el.watch.title = watching ? 'Stop getting notified about this ticket' : 'Get notified about comments and status changes';
    this.el.watchers.textContent = watchers.length === 1 ? '1 watcher' : `${watchers.length} watchers`;
  }

  async #toggleWatch() {
    const t = this.ticket;
    if (!t) return;
    const watching = this.el.watch.getAttribute('aria-pressed') === 'true';
    this.el.watch.disabled = true;
    try {
      const updated = await api(watching ? 'DELETE' : 'PUT', `/api/tickets/${t.id}/watchers/me`);
      this.store.upsert(updated, 'local');
      if (this.ticket?.id !== t.id) return;
      // Following does not bump the version, so take the answer's watchers even at the same version.
      this.ticket = { ...(this.store.get(t.id) ?? this.ticket), watchers: updated.watchers };
      this.#fillWatch();
      announce(watching ? `You stopped watching ${t.key}.` : `You are watching ${t.key}.`);
      this.timeline.refresh();
    } catch (error) {
      toast({ kind: 'error', title: watching ? 'Could not stop watching' : 'Could not watch the ticket', message: error.message });
    } finally {
      this.el.watch.disabled = false;
    }
  }

  async #delete() {
    const t = this.ticket;
    if (!t) return;
    const ok = await confirmDialog({
      title: `Delete ${t.key}?`,
      message: `“${t.title}” and its comments are deleted for everyone. This cannot be undone.`,
      confirmLabel: 'Delete ticket',
    });
    if (!ok || this.ticket?.id !== t.id) return;
    try {
      await api('DELETE', `/api/tickets/${t.id}`);
    } catch (error) {
      if (error.status !== 404) {
        toast({ kind: 'error', title: `Could not delete ${t.key}`, message: error.message });
        return;
      }
    }
    this.store.remove(t.id, 'local');
    this.close();
    toast({ kind: 'success', title: `${t.key} was deleted` });
    announce(`${t.key} was deleted.`);
  }

  #selectTab(index) {
    this.el.tabs.forEach((tab, i) => {
      const selected = i === index;
      tab.setAttribute('aria-selected', String(selected));
      tab.tabIndex = selected ? 0 : -1;
      byId(tab.getAttribute('aria-controls')).hidden = !selected;
    });
    this.timeline.setVisible(this.el.tabs[index].id === 'tab-activity');
  }
}

function fillSelect(select, options) {
  const current = select.value;
  const same = select.options.length === options.length && options.every((o, i) => select.options[i].value === String(o.id) && select.options[i].text === o.label);
  if (same) return;
  select.replaceChildren(...options.map((o) => h('option', { value: String(o.id) }, o.label)));
  select.value = current;
}
