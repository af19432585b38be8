/**
 * The tickets of the open project, merged from REST pages, socket events and our own edits.
 *
 * Every ticket carries a `version` that the hub bumps on each change, so the store keeps whichever
 * copy is newest no matter in which order REST answers and socket events arrive. Deleted ids are
 * remembered so a late REST page cannot bring a deleted ticket back.
 *
 * Event: `change` (detail: {ids: number[], reason: 'local'|'remote'|'sync'}), batched per microtask.
 */

export class TicketStore extends EventTarget {
  /** @type {Map<number, object>} */
  #tickets = new Map();
  #deleted = new Set();
  /** Ids touched by events while a full reload is in flight: the reload must not undo them. */
  #touchedDuringSync = null;
  #pending = new Set();
  #pendingReason = 'remote';
  #queued = false;

  get(id) {
    return this.#tickets.get(Number(id));
  }

  all() {
    return [...this.#tickets.values()];
  }

  /**
   * Keep `ticket` unless we already hold a newer version (or it was deleted).
   * @returns {boolean} whether the store changed
   */
  upsert(ticket, reason = 'remote') {
    if (!ticket || typeof ticket.id !== 'number' || this.#deleted.has(ticket.id)) return false;
    this.#touchedDuringSync?.add(ticket.id);
    const current = this.#tickets.get(ticket.id);
    if (current && ticket.version < current.version) return false;
    if (current && ticket.version === current.version) {
      // Same version, same data, except who follows it (following does not bump the version); but
      // never let the pre-move copy undo an optimistic move.
      if (current._optimistic) return false;
      this.#tickets.set(ticket.id, ticket);
      if (String(current.watchers) === String(ticket.watchers)) return false;
      this.#changed(ticket.id, reason);
      return true;
    }
    this.#tickets.set(ticket.id, ticket);
    this.#changed(ticket.id, reason);
    return true;
  }

  /** Replace a ticket whatever its version: optimistic moves and their rollback. */
  force(ticket, reason = 'local') {
    this.#tickets.set(ticket.id, ticket);
    this.#changed(ticket.id, reason);
  }

  remove(id, reason = 'remote') {
    this.#deleted.add(id);
    this.#touchedDuringSync?.add(id);
    if (this.#tickets.delete(id)) this.#changed(id, reason);
  }

  /** Call before fetching the whole board; pass the result to `finishSync`. */
  beginSync() {
    this.#touchedDuringSync = new Set();
  }

  /**
   * Adopt a full board from REST: tickets missing from it are gone (deleted while we were away),
   * except those an event touched while the request was in flight.
   */
  finishSync(tickets) {
    const touched = this.#touchedDuringSync ?? new Set();
    this.#touchedDuringSync = null;
    const next = new Map();
    for (const ticket of tickets) {
      if (this.#deleted.has(ticket.id)) continue;
      const current = this.#tickets.get(ticket.id);
      const newer = current && (current.version > ticket.version || (current._optimistic && current.version === ticket.version));
      next.set(ticket.id, newer ? current : ticket);
    }
    for (const id of touched) {
      const current = this.#tickets.get(id);
      if (current && !next.has(id) && !this.#deleted.has(id)) next.set(id, current);
    }
    this.#tickets = next;
    this.#changed(null, 'sync');
  }

  clear() {
    this.#tickets.clear();
    this.#deleted.clear();
    this.#touchedDuringSync = null;
    this.#changed(null, 'sync');
  }

  #changed(id, reason) {
    if (id !== null) this.#pending.add(id);
    if (reason === 'sync') this.#pendingReason = 'sync';
    else if (this.#pendingReason !== 'sync') this.#pendingReason = reason;
    if (this.#queued) return;
    this.#queued = true;
    queueMicrotask(() => {
      const detail = { ids: [...this.#pending], reason: this.#pendingReason };
      this.#pending.clear();
      this.#pendingReason = 'remote';
      this.#queued = false;
      this.dispatchEvent(new CustomEvent('change', { detail }));
    });
  }
}
