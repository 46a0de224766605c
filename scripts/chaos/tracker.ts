/**
 * One subscription as its application sees it, checked as it goes: the events of a `centrifuge`
 * client's subscription (subscribed, publication, and the disconnect codes of its client) in the
 * order they were emitted. Pure: times are parameters, nothing is read or written.
 *
 * The rules come from the delivery guarantee (DESIGN.md, "Delivery guarantees"): within an
 * epoch, a subscription receives offsets one after another, each once. The position moves
 * only in two ways:
 * - a delivery of the next offset;
 * - a resubscribe that says `recovered: false` (`wasRecovering: true`): the subscriber was told
 *   that what lies between its position and the new one (the stream's top, maybe in a new
 *   epoch) is lost to it. Those are honest losses.
 * Anything else that moves it is a fault of the server: a delivery past the next offset (an
 * untold gap), a resubscribe to another epoch that claims `recovered: true`, or one that did not
 * even try to recover. A delivery behind the position is a duplicate when that offset was
 * delivered before, and out of order otherwise. A publication carries no epoch: it belongs to
 * the epoch the subscription is in, and the {@link Ledger} checks that against where the
 * publication was acknowledged.
 *
 * A disconnect with 3010 (insufficient state) is not itself a loss notice: it makes the client
 * reconnect and recover, and only that resubscribe's `recovered` says whether anything was lost.
 */
import { formatPosition, type Ledger, type Position } from './ledger.js';

/** Offsets `lo..hi` of one epoch delivered one after another (empty while lo > hi). */
export interface Run {
  readonly epoch: string;
  readonly lo: number;
  hi: number;
}

/** The position moved without a delivery: told (`recovered: false`) or not (a fault). */
export interface Jump {
  readonly at: number;
  readonly from: Position;
  readonly to: Position;
  readonly told: boolean;
  readonly why: string;
}

export type AnomalyKind = 'duplicate' | 'out-of-order' | 'untold-gap' | 'no-offset';

/** Something the subscription saw that the guarantee forbids. */
export interface Anomaly {
  readonly kind: AnomalyKind;
  readonly at: number;
  readonly subscriber: string;
  readonly channel: string;
  readonly id?: number;
  readonly offset?: number;
  readonly position?: Position;
  readonly detail: string;
}

/** How many anomaly details one tracker keeps (all are counted). */
const DETAILS_KEPT = 20;

export class SubscriptionTracker {
  readonly subscriber: string;
  readonly channel: string;
  readonly #ledger: Ledger;
  /** Where the subscription started (its first `subscribed`): nothing before it is owed to it. */
  start: Position | undefined;
  startedAt: number | undefined;
  /** Its position: the last offset delivered (or jumped to) in the epoch it is in. */
  position: Position | undefined;
  readonly runs: Run[] = [];
  readonly jumps: Jump[] = [];
  readonly anomalies: Anomaly[] = [];
  deliveries = 0;
  duplicates = 0;
  outOfOrder = 0;
  /** Moves of the position nobody told the subscriber about (offsets skipped, or a resubscribe that lied or did not recover). */
  untoldGaps = 0;
  /** Resubscribes that recovered (`recovered: true`). */
  recoveries = 0;
  /** Resubscribes that said `recovered: false`. */
  toldLosses = 0;
  /** Told resubscribes that moved to another epoch. */
  epochChanges = 0;
  /** Disconnect and unsubscribe codes seen, by code. */
  readonly codes = new Map<number, number>();
  #current: Run | undefined;

  constructor(ledger: Ledger, subscriber: string, channel: string) {
    this.#ledger = ledger;
    this.subscriber = subscriber;
    this.channel = channel;
  }

  /** `subscribed`: `position` is the result's stream position; `recovered`/`wasRecovering` as the client reports them. */
  subscribed(at: number, position: Position, recovered: boolean, wasRecovering: boolean): void {
    this.#ledger.noteEpoch(this.channel, position.epoch);
    const from = this.position;
    if (!from) {
      this.start = position;
      this.startedAt = at;
      this.#moveTo(position);
      return;
    }
    if (recovered && position.epoch === from.epoch) {
      // The missed publications follow as deliveries, from the current position on.
      this.recoveries++;
      return;
    }
    if (recovered) {
      this.#jump(at, from, position, false, `resubscribed with recovered: true into epoch ${position.epoch} from epoch ${from.epoch}`);
    } else if (wasRecovering) {
      this.toldLosses++;
      if (position.epoch !== from.epoch) this.epochChanges++;
      this.#jump(at, from, position, true, 'recovered: false');
    } else {
      this.#jump(at, from, position, false, 'resubscribed without recovering (wasRecovering: false)');
    }
  }

  /** `publication` with the run's publication `id` (from its data) and the `offset` it carried. */
  publication(at: number, id: number, offset: number | undefined): void {
    this.deliveries++;
    const pos = this.position;
    if (!pos) {
      this.#anomaly({ kind: 'out-of-order', at, id, detail: `publication ${id} (offset ${offset}) before the subscription was subscribed` });
      this.outOfOrder++;
      return;
    }
    if (offset === undefined || offset <= 0) {
      this.#anomaly({ kind: 'no-offset', at, id, detail: `publication ${id} carried no offset in a channel with history` });
      return;
    }
    const here: Position = { epoch: pos.epoch, offset };
    this.#ledger.delivered(id, here, this.subscriber, at);
    if (offset === pos.offset + 1) {
      this.#current!.hi = offset;
      this.position = here;
      return;
    }
    if (offset <= pos.offset) {
      if (this.delivered(here)) {
        this.duplicates++;
        this.#anomaly({ kind: 'duplicate', at, id, offset, position: pos, detail: `publication ${id} at offset ${offset} delivered again (position ${formatPosition(pos)})` });
      } else {
        this.outOfOrder++;
        this.#anomaly({ kind: 'out-of-order', at, id, offset, position: pos, detail: `publication ${id} at offset ${offset} arrived behind the position ${formatPosition(pos)}` });
      }
      return;
    }
    this.untoldGaps++;
    this.#anomaly({
      kind: 'untold-gap', at, id, offset, position: pos,
      detail: `publication ${id} at offset ${offset} right after offset ${pos.offset}: offsets ${pos.offset + 1}..${offset - 1} skipped without a word`,
    });
    this.jumps.push({ at, from: pos, to: { epoch: pos.epoch, offset: offset - 1 }, told: false, why: 'a delivery skipped offsets' });
    this.#moveTo({ epoch: pos.epoch, offset: offset - 1 });
    this.#current!.hi = offset;
    this.position = here;
  }

  /** The client lost its connection, or the subscription was unsubscribed, with `code`. */
  closed(code: number): void {
    this.codes.set(code, (this.codes.get(code) ?? 0) + 1);
  }

  /** Whether `p` was delivered to this subscription. */
  delivered(p: Position): boolean {
    for (let i = this.runs.length - 1; i >= 0; i--) {
      const r = this.runs[i]!;
      if (r.epoch === p.epoch && p.offset >= r.lo && p.offset <= r.hi) return true;
    }
    return false;
  }

  #jump(at: number, from: Position, to: Position, told: boolean, why: string): void {
    this.jumps.push({ at, from, to, told, why });
    if (!told) {
      this.untoldGaps++;
      this.#anomaly({ kind: 'untold-gap', at, position: from, detail: `${why}: moved from ${formatPosition(from)} to ${formatPosition(to)} without being told` });
    }
    this.#moveTo(to);
  }

  #moveTo(p: Position): void {
    this.position = p;
    this.#current = { epoch: p.epoch, lo: p.offset + 1, hi: p.offset };
    this.runs.push(this.#current);
  }

  #anomaly(a: Omit<Anomaly, 'subscriber' | 'channel'>): void {
    if (this.anomalies.length < DETAILS_KEPT) this.anomalies.push({ ...a, subscriber: this.subscriber, channel: this.channel });
  }
}
