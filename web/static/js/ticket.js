/**
 * The ticket drawer: edit title, description, status, priority and assignee; read and write
 * comments (with `@` completion, editing your own); see who else views the ticket and who types.
 *
 * Every change is a PATCH carrying the `version` being edited, so a concurrent edit answers 409: the
 * drawer then reloads the ticket and says so instead of silently overwriting someone's work. Live
 * changes from the store are shown at once, except in a field the user is editing right now.
 */

import { api } from './api.js';
import { PRIORITIES, STATUSES } from './cards.js';
import { avatar, byId, h, timeAgo, toast, withMentions } from './dom.js';
import { attachMentions } from './mentions.js';

export class TicketDrawer {
  ticket = null;
  /** @type {Map<number, object>} */
  #comments = new Map();
  /** Ids of own comments being edited right now (live updates leave them alone). */
  #editing = new Set();
  #loadSeq = 0;
  #saving = Promise.resolve();

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
      comments: byId('comment-list'),
      form: byId('comment-form'),
      input: byId('comment-input'),
      typing: byId('typing'),
    };
    fillSelect(this.el.status, STATUSES);
    fillSelect(this.el.priority, PRIORITIES);
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
      this.#comments.clear();
      this.#editing.clear();
      this.el.comments.replaceChildren();
      this.el.input.value = '';
    }
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
      this.#comments = new Map(comments.items.map((c) => [c.id, c]));
      this.#fill(!cached); // with a cached copy on screen the user may already be typing: keep it
      this.#renderComments();
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
    this.onClose(this.ticket?.id);
  }

  /** The store changed this ticket (live event or our own save). */
  refresh() {
    if (!this.isOpen || !this.ticket) return;
    const latest = this.store.get(this.ticket.id);
    if (!latest) return;
    this.ticket = latest;
    this.#fill(false);
  }

  /** A comment event (`commented`, `comment_updated`, `comment_deleted`) from the ticket socket. */
  onCommentEvent(action, data) {
    if (!this.isOpen || !data?.comment || data.ticket_id !== this.ticket?.id) return;
    const comment = data.comment;
    if (action === 'comment_deleted') this.#comments.delete(comment.id);
    else if (!this.#editing.has(comment.id)) this.#comments.set(comment.id, comment);
    this.#renderComments();
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
    this.el.labels.replaceChildren(...(t.labels.length ? t.labels.map((l) => h('span', { class: 'label' }, l)) : [h('span', { class: 'muted' }, 'None')]));
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
        this.#comments.set(comment.id, comment);
        this.#renderComments();
        this.el.comments.lastElementChild?.scrollIntoView({ block: 'nearest' });
      }
    } catch (error) {
      toast({ kind: 'error', title: 'Comment not sent', message: error.fields?.body ?? error.message });
    } finally {
      button.disabled = false;
    }
  }

  #renderComments() {
    const me = this.me();
    const comments = [...this.#comments.values()].sort((a, b) => a.id - b.id);
    const keep = new Map([...this.el.comments.children].map((li) => [Number(li.dataset.id), li]));
    const items = comments.map((c) => (this.#editing.has(c.id) && keep.get(c.id)) || this.#commentItem(c, me));
    this.el.comments.replaceChildren(...items);
    if (!comments.length) this.el.comments.append(h('li', { class: 'muted no-comments' }, 'No comments yet.'));
  }

  #commentItem(comment, me) {
    const own = comment.author.id === me.id && this.canWrite();
    return h(
      'li',
      { class: 'comment', dataset: { id: String(comment.id) } },
      avatar(comment.author),
      h(
        'div',
        { class: 'comment-main' },
        h(
          'div',
          { class: 'comment-meta' },
          h('strong', {}, comment.author.name),
          h('time', { datetime: comment.created_at, title: new Date(comment.created_at).toLocaleString() }, timeAgo(comment.created_at)),
          comment.edited ? h('span', { class: 'muted' }, '(edited)') : null,
          comment.origin && comment.origin !== 'api' && comment.origin !== 'web' ? h('span', { class: 'origin' }, `via ${comment.origin}`) : null,
          own ? h('button', { type: 'button', class: 'link-btn', 'aria-label': 'Edit your comment', on: { click: (e) => this.#editComment(comment, e.target.closest('li')) } }, 'Edit') : null,
        ),
        h('p', { class: 'comment-body' }, withMentions(comment.body)),
      ),
    );
  }

  #editComment(comment, li) {
    this.#editing.add(comment.id);
    const input = h('textarea', { class: 'comment-edit', 'aria-label': 'Edit comment', rows: 3 });
    input.value = comment.body;
    const finish = () => {
      this.#editing.delete(comment.id);
      this.#renderComments();
    };
    const save = async () => {
      const body = input.value.trim();
      if (!body) return;
      try {
        const updated = await api('PATCH', `/api/comments/${comment.id}`, { body });
        this.#comments.set(updated.id, updated);
      } catch (error) {
        toast({ kind: 'error', title: 'Comment not saved', message: error.message });
      }
      finish();
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault();
        finish();
      } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) save();
    });
    li.querySelector('.comment-body').replaceWith(
      h(
        'div',
        { class: 'comment-editor' },
        input,
        h(
          'div',
          { class: 'row-actions' },
          h('button', { type: 'button', class: 'btn btn-primary btn-sm', on: { click: save } }, 'Save'),
          h('button', { type: 'button', class: 'btn btn-ghost btn-sm', on: { click: finish } }, 'Cancel'),
        ),
      ),
    );
    input.focus();
  }
}

function fillSelect(select, options) {
  const current = select.value;
  const same = select.options.length === options.length && options.every((o, i) => select.options[i].value === String(o.id) && select.options[i].text === o.label);
  if (same) return;
  select.replaceChildren(...options.map((o) => h('option', { value: String(o.id) }, o.label)));
  select.value = current;
}
