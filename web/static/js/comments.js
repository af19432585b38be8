/**
 * The drawer's comment list: render, edit your own comments inline (Escape cancels, Ctrl+Enter
 * saves) and delete them after a confirmation. Project admins and owners (and site admins) may
 * delete anyone's comment, as the hub allows (`policy.can_delete_comment`); only authors edit.
 *
 * Live `commented` / `comment_updated` / `comment_deleted` events come in through `onEvent`; a comment
 * being edited right now is left alone until the edit ends.
 */

import { api } from './api.js';
import { confirmDialog } from './confirm.js';
import { announce, avatar, h, timeAgo, toast, withMentions } from './dom.js';

export class CommentThread {
  /** @type {Map<number, object>} */
  #comments = new Map();
  /** Ids of own comments being edited right now (live updates leave them alone). */
  #editing = new Set();

  /**
   * @param {HTMLOListElement} list
   * @param {{me: () => {id: number}, canWrite: () => boolean, canModerate: () => boolean,
   *   afterDelete: () => void}} deps
   */
  constructor(list, { me, canWrite, canModerate, afterDelete }) {
    this.list = list;
    this.me = me;
    this.canWrite = canWrite;
    this.canModerate = canModerate;
    this.afterDelete = afterDelete;
  }

  /** Forget everything (another ticket). */
  reset() {
    this.#comments.clear();
    this.#editing.clear();
    this.list.replaceChildren();
  }

  /** The ticket's comments as loaded from REST. */
  setAll(items) {
    this.#comments = new Map(items.map((c) => [c.id, c]));
    this.render();
  }

  /** A comment we just posted. */
  add(comment) {
    this.#comments.set(comment.id, comment);
    this.render();
    this.list.lastElementChild?.scrollIntoView({ block: 'nearest' });
  }

  /** A live comment event for this ticket. */
  onEvent(action, comment) {
    if (action === 'comment_deleted') {
      this.#comments.delete(comment.id);
      this.#editing.delete(comment.id);
    } else if (!this.#editing.has(comment.id)) {
      this.#comments.set(comment.id, comment);
    }
    this.render();
  }

  render() {
    const me = this.me();
    const comments = [...this.#comments.values()].sort((a, b) => a.id - b.id);
    const keep = new Map([...this.list.children].map((li) => [Number(li.dataset.id), li]));
    const items = comments.map((c) => (this.#editing.has(c.id) && keep.get(c.id)) || this.#item(c, me));
    this.list.replaceChildren(...items);
    if (!comments.length) this.list.append(h('li', { class: 'muted no-comments' }, 'No comments yet.'));
  }

  #item(comment, me) {
    const own = comment.author.id === me?.id && this.canWrite();
    const deletable = own || (this.canWrite() && this.canModerate());
    const metaId = `comment-${comment.id}-meta`;
    return h(
      'li',
      { class: 'comment', dataset: { id: String(comment.id) } },
      avatar(comment.author),
      h(
        'div',
        { class: 'comment-main' },
        h(
          'div',
          { class: 'comment-meta', id: metaId },
          h('strong', {}, comment.author.name),
          h('time', { datetime: comment.created_at, title: new Date(comment.created_at).toLocaleString() }, timeAgo(comment.created_at)),
          comment.edited ? h('span', { class: 'muted' }, '(edited)') : null,
          comment.origin && comment.origin !== 'api' && comment.origin !== 'web' ? h('span', { class: 'origin' }, `via ${comment.origin}`) : null,
          h(
            'span',
            { class: 'comment-actions' },
            own ? h('button', { type: 'button', class: 'link-btn', 'aria-label': 'Edit your comment', on: { click: (e) => this.#edit(comment, e.target.closest('li')) } }, 'Edit') : null,
            deletable
              ? h('button', { type: 'button', class: 'link-btn link-danger', 'aria-describedby': metaId, on: { click: () => this.#delete(comment, own) } }, 'Delete')
              : null,
          ),
        ),
        h('p', { class: 'comment-body' }, withMentions(comment.body)),
      ),
    );
  }

  async #delete(comment, own) {
    const ok = await confirmDialog({
      title: own ? 'Delete your comment?' : `Delete ${comment.author.name}'s comment?`,
      message: 'The comment is removed for everyone. This cannot be undone.',
      confirmLabel: 'Delete comment',
    });
    if (!ok) return;
    try {
      await api('DELETE', `/api/comments/${comment.id}`);
    } catch (error) {
      if (error.status !== 404) {
        toast({ kind: 'error', title: 'Comment not deleted', message: error.message });
        return;
      }
    }
    this.#comments.delete(comment.id);
    this.#editing.delete(comment.id);
    this.render();
    announce('Comment deleted.');
    this.afterDelete();
  }

  #edit(comment, li) {
    this.#editing.add(comment.id);
    const input = h('textarea', { class: 'comment-edit', 'aria-label': 'Edit comment', rows: 3 });
    input.value = comment.body;
    const finish = () => {
      this.#editing.delete(comment.id);
      this.render();
      this.list.querySelector(`li[data-id="${comment.id}"] .link-btn`)?.focus();
    };
    const save = async () => {
      const body = input.value.trim();
      if (!body) return;
      try {
        const updated = await api('PATCH', `/api/comments/${comment.id}`, { body });
        this.#comments.set(updated.id, updated);
      } catch (error) {
        if (error.status === 404) this.#comments.delete(comment.id);
        toast({ kind: 'error', title: 'Comment not saved', message: error.status === 404 ? 'It was deleted meanwhile.' : error.message });
      }
      finish();
    };
    input.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault(); // cancel the edit, keep the drawer open
        event.stopPropagation();
        finish();
      } else if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        save();
      }
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
