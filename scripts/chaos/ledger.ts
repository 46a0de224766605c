/**
 * The chaos run's record of every publication it made: when it was sent, whether and when it
 * was acknowledged, and where in its channel's stream it sits. Pure: times are parameters.
 *
 * A publication's position comes from its acknowledgement when the server API answered with an
 * offset and epoch; a protocol client's publish reply carries none (Centrifugo's PublishResult is
 * empty), so its position is learned from the first subscriber that receives it, or else from the
 * channel's history read at the end of the run. Two different positions for one publication (the
 * answer, a delivery, the history) are a conflict: the same message published twice, or a stream
 * that does not agree with itself.
 */

/** A place in a channel's stream. */
export interface Position {
  readonly epoch: string;
  readonly offset: number;
}

/** How a publication was made: the server API (HTTP) or a protocol client's `publish`. */
export type Via = 'api' | 'client';

/** What the run knows about one publication. */
export interface PublicationRecord {
  readonly id: number;
  readonly channel: string;
  readonly via: Via;
  /** When the publish was sent (ms). */
  readonly sentAt: number;
  /** When it was acknowledged (a 200 with an offset, or a publish reply); undefined if it never was. */
  ackAt?: number;
  /** The position the server API answered with. */
  ackPosition?: Position;
  /** The position of its first delivery to a subscriber, and to whom. */
  deliveredPosition?: Position;
  firstDeliveredTo?: string;
  /** The position the channel's history showed it at, read at the end of the run. */
  historyPosition?: Position;
  /** Why it was not acknowledged (an error or a timeout); it may still have been published. */
  failure?: string;
}

/** One publication seen at two positions. */
export interface PositionConflict {
  readonly id: number;
  readonly channel: string;
  readonly at: number;
  readonly first: Position;
  readonly firstFrom: string;
  readonly second: Position;
  readonly secondFrom: string;
}

/** `e1:42`, for messages. */
export function formatPosition(p: Position | undefined): string {
  return p ? `${p.epoch || '""'}:${p.offset}` : 'none';
}

function samePosition(a: Position, b: Position): boolean {
  return a.epoch === b.epoch && a.offset === b.offset;
}

export class Ledger {
  readonly #records = new Map<number, PublicationRecord>();
  /** Per channel, its epochs in the order the run first saw them. */
  readonly #epochs = new Map<string, string[]>();
  readonly conflicts: PositionConflict[] = [];

  /** Records a publish about to be sent. Throws on a reused id: ids are what tells publications apart. */
  sent(id: number, channel: string, via: Via, at: number): void {
    if (this.#records.has(id)) throw new Error(`publication id ${id} used twice`);
    this.#records.set(id, { id, channel, via, sentAt: at });
  }

  /** Records its acknowledgement, with the position the server API answered (none for a client publish). */
  acknowledged(id: number, at: number, position?: Position): void {
    const r = this.#require(id);
    r.ackAt = at;
    if (!position) return;
    this.noteEpoch(r.channel, position.epoch);
    r.ackPosition = position;
    if (r.deliveredPosition && !samePosition(r.deliveredPosition, position)) {
      this.conflicts.push({ id, channel: r.channel, at, first: r.deliveredPosition, firstFrom: `delivery to ${r.firstDeliveredTo}`, second: position, secondFrom: 'the publish answer' });
    }
  }

  /** Records that the publish failed (error or timeout): not acknowledged. */
  failed(id: number, at: number, reason: string): void {
    const r = this.#require(id);
    if (r.ackAt === undefined) r.failure = reason;
  }

  /**
   * Records a delivery of `id` to `subscriber` at `position` (the epoch the subscriber is in, the
   * offset it carried). Ids the run did not make (none are expected) are ignored.
   */
  delivered(id: number, position: Position, subscriber: string, at: number): void {
    const r = this.#records.get(id);
    if (!r) return;
    const known = r.ackPosition ?? r.deliveredPosition;
    if (!known) {
      r.deliveredPosition = position;
      r.firstDeliveredTo = subscriber;
      return;
    }
    if (samePosition(known, position)) return;
    const firstFrom = r.ackPosition ? 'the publish answer' : `delivery to ${r.firstDeliveredTo}`;
    this.conflicts.push({ id, channel: r.channel, at, first: known, firstFrom, second: position, secondFrom: `delivery to ${subscriber}` });
  }

  /**
   * Records that the channel's history holds `id` at `position` (read at the end of the run, it
   * places publications no subscriber received, and checks the others).
   */
  inHistory(id: number, position: Position, at: number): void {
    const r = this.#records.get(id);
    if (!r) return;
    this.noteEpoch(r.channel, position.epoch);
    const known = r.ackPosition ?? r.deliveredPosition;
    if (!known) {
      r.historyPosition = position;
      return;
    }
    if (samePosition(known, position)) return;
    const firstFrom = r.ackPosition ? 'the publish answer' : `delivery to ${r.firstDeliveredTo}`;
    this.conflicts.push({ id, channel: r.channel, at, first: known, firstFrom, second: position, secondFrom: 'the history read at the end' });
  }

  /** Notes that `epoch` exists in `channel`; the first time, it goes after every epoch seen before. */
  noteEpoch(channel: string, epoch: string): void {
    let list = this.#epochs.get(channel);
    if (!list) this.#epochs.set(channel, (list = []));
    if (!list.includes(epoch)) list.push(epoch);
  }

  /** The epochs of `channel`, oldest first. */
  epochs(channel: string): readonly string[] {
    return this.#epochs.get(channel) ?? [];
  }

  /** The rank of `epoch` in `channel` (0 = first seen); -1 when never seen. */
  epochRank(channel: string, epoch: string): number {
    return this.#epochs.get(channel)?.indexOf(epoch) ?? -1;
  }

  /** Where `id` sits: the position it was acknowledged at, else where it was first delivered, else where the history shows it. */
  position(id: number): Position | undefined {
    const r = this.#records.get(id);
    return r?.ackPosition ?? r?.deliveredPosition ?? r?.historyPosition;
  }

  get(id: number): PublicationRecord | undefined {
    return this.#records.get(id);
  }

  /** Every publication, in the order they were sent. */
  records(): IterableIterator<PublicationRecord> {
    return this.#records.values();
  }

  /** The acknowledged publications of `channel`, in the order they were sent. */
  acknowledgedIn(channel: string): PublicationRecord[] {
    const out: PublicationRecord[] = [];
    for (const r of this.#records.values()) if (r.channel === channel && r.ackAt !== undefined) out.push(r);
    return out;
  }

  #require(id: number): PublicationRecord {
    const r = this.#records.get(id);
    if (!r) throw new Error(`publication id ${id} was never sent`);
    return r;
  }
}
