/**
 * The end of a chaos run: every acknowledged publication, for every subscription of its
 * channel, was delivered once, in order, or the subscription was told it was lost. Pure: it reads
 * the {@link Ledger} and the {@link SubscriptionTracker}s and returns counts and the failures.
 *
 * An acknowledged publication is owed to a subscription when it lies after the subscription's
 * start (its first `subscribed` position, epochs ranked in the order the run saw them). An owed
 * publication that was not delivered is an **honest loss** when a told jump (`recovered: false`)
 * passed over it, and a **silent loss** otherwise: skipped by an untold jump, or simply never
 * delivered by the end of the run.
 *
 * A publication nobody received and the history no longer held at the end has no known position
 * (a protocol client's publish reply carries no offset). It is owed to the subscriptions that started before it was sent, and a loss is
 * honest only when the subscription was told of a loss (`recovered: false`) after it was sent:
 * with a correct server that is the only way it can be missing, since it was in the stream before
 * it was acknowledged and a subscription that is never told moves through every offset.
 */
import { formatPosition, type Ledger, type Position, type PublicationRecord } from './ledger.js';
import type { Anomaly, Jump, SubscriptionTracker } from './tracker.js';

export type FailureKind = Anomaly['kind'] | 'silent-loss' | 'conflict' | 'needless-loss';

/** What the server was configured to do, which the verdict holds it to. */
export interface Rules {
  /**
   * `recovery_max_publications`: a resubscribe in the same epoch that missed at most this many
   * publications must recover them (the chaos namespace keeps more than this in history), so a
   * `recovered: false` for such a gap is a failure, not an honest loss.
   */
  readonly recoveryMax: number;
}

/** One reason the run fails, with what is needed to look for its cause. */
export interface Failure {
  readonly kind: FailureKind;
  /** When it was seen (ms, the run's clock); for a silent loss, when the first lost publication was acknowledged. */
  readonly at: number;
  readonly subscriber?: string;
  readonly channel: string;
  readonly detail: string;
}

export interface Verdict {
  /** Publications sent, and those acknowledged. */
  readonly published: number;
  readonly acknowledged: number;
  /** Acknowledged publications whose position no delivery and no answer gave, and the first few. */
  readonly unplaced: number;
  readonly unplacedSample: readonly PublicationRecord[];
  readonly deliveries: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly untoldGaps: number;
  readonly conflicts: number;
  readonly recoveries: number;
  /** Resubscribes that said `recovered: false`, those of them that changed epoch, and those the history could have recovered. */
  readonly toldLosses: number;
  readonly epochChanges: number;
  readonly needlessLosses: number;
  /** (subscription, acknowledged publication) pairs owed and not delivered, told and untold. */
  readonly honestLosses: number;
  readonly silentLosses: number;
  /** Every failure, oldest first (anomalies are capped per subscription; counts are not). */
  readonly failures: readonly Failure[];
  readonly passed: boolean;
}

/** Whether the told or untold `jump` passed over `p` (epochs ranked by `rank`). */
export function jumpCovers(jump: Jump, p: Position, rank: (epoch: string) => number): boolean {
  const from = rank(jump.from.epoch);
  const to = rank(jump.to.epoch);
  const at = rank(p.epoch);
  if (from === to) return at === from && p.offset > jump.from.offset && p.offset <= jump.to.offset;
  return (at === from && p.offset > jump.from.offset) || (at === to && p.offset <= jump.to.offset) || (from < at && at < to);
}

/** Whether `p` lies after the subscription's start, so the subscription is owed it. */
function owed(t: SubscriptionTracker, p: Position, rank: (epoch: string) => number): boolean {
  if (!t.start) return false;
  const start = rank(t.start.epoch);
  const at = rank(p.epoch);
  return at > start || (at === start && p.offset > t.start.offset);
}

interface Tally {
  honest: number;
  silent: number;
  firstSilent: { at: number; detail: string } | undefined;
}

function account(t: SubscriptionTracker, acked: readonly PublicationRecord[], ledger: Ledger, tally: Tally): void {
  const rank = (epoch: string): number => ledger.epochRank(t.channel, epoch);
  let silentHere = 0;
  let first: { at: number; detail: string } | undefined;
  const silent = (r: PublicationRecord, why: string): void => {
    silentHere++;
    if (!first) first = { at: r.ackAt ?? r.sentAt, detail: why };
  };
  for (const r of acked) {
    const p = ledger.position(r.id);
    if (!p) {
      if (t.startedAt === undefined || r.sentAt <= t.startedAt) continue;
      if (t.jumps.some((j) => j.told && j.at >= r.sentAt)) tally.honest++;
      else silent(r, `publication ${r.id} (sent by ${r.via}, acknowledged, nobody received it) missing and no recovered: false came after it was sent`);
      continue;
    }
    if (!owed(t, p, rank) || t.delivered(p)) continue;
    const told = t.jumps.find((j) => j.told && jumpCovers(j, p, rank));
    if (told) {
      tally.honest++;
      continue;
    }
    const untold = t.jumps.find((j) => !j.told && jumpCovers(j, p, rank));
    if (untold) silent(r, `publication ${r.id} at ${formatPosition(p)} skipped when the position moved from ${formatPosition(untold.from)} to ${formatPosition(untold.to)} (${untold.why})`);
    else silent(r, `publication ${r.id} at ${formatPosition(p)} never delivered; the subscription ended at ${formatPosition(t.position)}`);
  }
  tally.silent += silentHere;
  if (first && silentHere > 0) {
    const more = silentHere > 1 ? ` (and ${silentHere - 1} more silent losses in this subscription)` : '';
    tally.firstSilent = { at: first.at, detail: `${first.detail}${more}` };
  }
}

/**
 * Judges the run: counts, failures, and whether it passed: no silent loss, duplicate, reordering,
 * untold gap or conflict, and no `recovered: false` for a gap the history could fill.
 */
export function judge(ledger: Ledger, trackers: readonly SubscriptionTracker[], rules: Rules): Verdict {
  const failures: Failure[] = [];
  let published = 0;
  let acknowledged = 0;
  let unplaced = 0;
  const unplacedSample: PublicationRecord[] = [];
  const ackedBy = new Map<string, PublicationRecord[]>();
  for (const r of ledger.records()) {
    published++;
    if (r.ackAt === undefined) continue;
    acknowledged++;
    if (!ledger.position(r.id) && unplaced++ < 5) unplacedSample.push(r);
    let list = ackedBy.get(r.channel);
    if (!list) ackedBy.set(r.channel, (list = []));
    list.push(r);
  }
  let deliveries = 0, duplicates = 0, outOfOrder = 0, untoldGaps = 0, recoveries = 0, toldLosses = 0, epochChanges = 0;
  let honest = 0, silent = 0, needless = 0;
  for (const t of trackers) {
    deliveries += t.deliveries;
    duplicates += t.duplicates;
    outOfOrder += t.outOfOrder;
    untoldGaps += t.untoldGaps;
    recoveries += t.recoveries;
    toldLosses += t.toldLosses;
    epochChanges += t.epochChanges;
    for (const a of t.anomalies) failures.push({ kind: a.kind, at: a.at, subscriber: a.subscriber, channel: a.channel, detail: a.detail });
    for (const j of t.jumps) {
      if (!j.told || j.from.epoch !== j.to.epoch || j.to.offset - j.from.offset > rules.recoveryMax) continue;
      needless++;
      failures.push({
        kind: 'needless-loss', at: j.at, subscriber: t.subscriber, channel: t.channel,
        detail: `recovered: false from ${formatPosition(j.from)} to ${formatPosition(j.to)}, a gap of ${j.to.offset - j.from.offset} in one epoch that the history held (recovery_max_publications ${rules.recoveryMax})`,
      });
    }
    const tally: Tally = { honest: 0, silent: 0, firstSilent: undefined };
    account(t, ackedBy.get(t.channel) ?? [], ledger, tally);
    honest += tally.honest;
    silent += tally.silent;
    if (tally.firstSilent) failures.push({ kind: 'silent-loss', at: tally.firstSilent.at, subscriber: t.subscriber, channel: t.channel, detail: tally.firstSilent.detail });
  }
  for (const c of ledger.conflicts) {
    failures.push({
      kind: 'conflict', at: c.at, channel: c.channel,
      detail: `publication ${c.id} is at ${formatPosition(c.first)} by ${c.firstFrom} but at ${formatPosition(c.second)} by ${c.secondFrom}`,
    });
  }
  failures.sort((a, b) => a.at - b.at);
  const noOffset = failures.filter((f) => f.kind === 'no-offset').length;
  const passed = silent === 0 && needless === 0 && duplicates === 0 && outOfOrder === 0 && untoldGaps === 0 && ledger.conflicts.length === 0 && noOffset === 0;
  return {
    published, acknowledged, unplaced, unplacedSample, deliveries, duplicates, outOfOrder, untoldGaps, conflicts: ledger.conflicts.length,
    recoveries, toldLosses, epochChanges, needlessLosses: needless, honestLosses: honest, silentLosses: silent, failures, passed,
  };
}
