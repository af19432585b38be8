/**
 * A confirmation dialog for destructive actions: a real modal `<dialog>` (the rest of the page is
 * inert while it is open), focus on the safe choice first and kept inside the dialog (Tab wraps),
 * Escape or "Cancel" answer no, and focus returns to where it was.
 */

import { h } from './dom.js';

let open = null;

/**
 * Ask before doing something that cannot be undone.
 * @param {{title: string, message?: string, confirmLabel?: string}} opts
 * @returns {Promise<boolean>} true when the user confirmed
 */
export function confirmDialog({ title, message = '', confirmLabel = 'Delete' }) {
  open?.(false); // one question at a time
  const returnTo = document.activeElement;
  const titleId = `confirm-title-${Date.now()}`;
  const cancel = h('button', { type: 'button', class: 'btn btn-ghost' }, 'Cancel');
  const ok = h('button', { type: 'button', class: 'btn btn-danger-solid' }, confirmLabel);
  const dialog = h(
    'dialog',
    { class: 'confirm-dialog', 'aria-labelledby': titleId, ...(message ? { 'aria-describedby': `${titleId}-msg` } : {}) },
    h('h2', { id: titleId }, title),
    message ? h('p', { id: `${titleId}-msg` }, message) : null,
    h('div', { class: 'row-actions confirm-actions' }, cancel, ok),
  );
  return new Promise((resolve) => {
    const finish = (answer) => {
      if (open !== finish) return;
      open = null;
      if (dialog.open) dialog.close();
      dialog.remove();
      if (returnTo instanceof HTMLElement && returnTo.isConnected) returnTo.focus();
      resolve(answer);
    };
    open = finish;
    cancel.addEventListener('click', () => finish(false));
    ok.addEventListener('click', () => finish(true));
    dialog.addEventListener('cancel', (event) => {
      event.preventDefault();
      finish(false);
    });
    dialog.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        // Handled here, so the drawer (listening on the document) does not close as well.
        event.preventDefault();
        event.stopPropagation();
        finish(false);
      } else if (event.key === 'Tab') {
        const first = cancel;
        const last = ok;
        if (event.shiftKey && document.activeElement === first) {
          event.preventDefault();
          last.focus();
        } else if (!event.shiftKey && document.activeElement === last) {
          event.preventDefault();
          first.focus();
        }
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
