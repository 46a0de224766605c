/**
 * A channel's pushes in the order the node made them, on Bun's native fan-out (issue 17): while
 * subscribers publish and clients come and go in a dev-mode `chat:` channel (history, join and
 * leave), every subscriber that asked for joins and leaves must see the same interleaving of
 * joins, leaves and publications — a join before the publication the node made after it — and
 * each of them once. On Bun a publication goes out through a topic publish that reaches every
 * member at once, while a join can wait in a subscriber's outbox until the end of the turn. On
 * Node, a channel of more than 512 subscribers goes out in slices, one per turn, with the
 * publications that come meanwhile joining the pass: the second case has a crowd that large, and
 * every member of it must get every publication once, in offset order.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RUNTIMES, serveProcess } from '../helpers/cli.js';
import { connectedClient, type ProtocolClient, type Wire } from '../helpers/protocol-client.js';
import { until } from '../helpers/wait.js';

const CHANNEL = 'chat:order';
/** Subscribers that take joins and leaves, and publish in a loop. */
const WATCHERS = 4;
/** Subscribers without joins and leaves: they write a publication first, through the topic. */
const QUIET = 4;
/** A crowd of subscribers without joins and leaves, more than one slice of the hub's pass on Node. */
const CROWD = 600;
const PUBLISHES_PER_WATCHER = 60;
/** Clients that subscribe (a join) and then close (a leave), a few at a time. */
const VISITORS = 60;

/** What a watcher saw in the channel, in order: publications by offset, the visitors' joins and leaves by client. */
function eventsOf(client: ProtocolClient, visitors: ReadonlySet<string>): string[] {
  const events: string[] = [];
  for (const line of client.lines) {
    const push = (JSON.parse(line) as Wire).push;
    if (push?.channel !== CHANNEL) continue;
    if (push.pub) events.push(`pub ${push.pub.offset}`);
    else if (push.join && visitors.has(push.join.info.client)) events.push(`join ${push.join.info.client}`);
    else if (push.leave && visitors.has(push.leave.info.client)) events.push(`leave ${push.leave.info.client}`);
  }
  return events;
}

/** For each join and leave, the last publication seen before it: the same for every watcher when the order is the node's. */
function joinsAfter(events: readonly string[]): Map<string, string> {
  const placed = new Map<string, string>();
  let last = 'none';
  for (const e of events) {
    if (e.startsWith('pub ')) last = e;
    else placed.set(e, last);
  }
  return placed;
}

for (const runtime of RUNTIMES) {
  describe(`channel order on ${runtime}`, () => {
    const clients: ProtocolClient[] = [];
    after(() => {
      for (const c of clients) c.close();
    });

    for (const quietCount of [QUIET, CROWD]) it(`shows every join-and-leave subscriber the joins, leaves and publications in one order, each once, while others publish (${quietCount} subscribers without joins and leaves)`, async () => {
      const server = await serveProcess([], { runtime });
      const open = async (): Promise<ProtocolClient> => {
        const c = await connectedClient(server.wsUrl);
        clients.push(c);
        return c;
      };
      const watchers = await Promise.all(Array.from({ length: WATCHERS }, open));
      for (const w of watchers) await w.subscribe(CHANNEL, { join_leave: true });
      const quiet = await Promise.all(Array.from({ length: quietCount }, open));
      await Promise.all(quiet.map((q) => q.subscribe(CHANNEL)));

      const publishing = watchers.map(async (w, i) => {
        for (let n = 0; n < PUBLISHES_PER_WATCHER; n++) {
          const reply = await w.call('publish', { channel: CHANNEL, data: { from: i, n } });
          assert.ok(reply.publish, `publish failed: ${JSON.stringify(reply)}`);
        }
      });
      const visitorIds = new Set<string>();
      const visiting = (async () => {
        for (let v = 0; v < VISITORS; v += 3) {
          const visitors = await Promise.all([open(), open(), open()]);
          for (const c of visitors) visitorIds.add(c.clientId);
          await Promise.all(visitors.map((c) => c.subscribe(CHANNEL)));
          for (const c of visitors) c.close();
        }
      })();
      await Promise.all([publishing, visiting]);

      const total = WATCHERS * PUBLISHES_PER_WATCHER;
      const expected = total + 2 * VISITORS; // every publication, and each visitor's join and leave
      await until(() => watchers.every((w) => eventsOf(w, visitorIds).length >= expected),
        () => `every watcher saw ${expected} events: ${watchers.map((w) => eventsOf(w, visitorIds).length).join(', ')}`, 15_000);

      const views = watchers.map((w) => eventsOf(w, visitorIds));
      for (const [i, events] of views.entries()) {
        assert.equal(new Set(events).size, events.length, `watcher ${i} saw an event twice`);
        const offsets = events.filter((e) => e.startsWith('pub ')).map((e) => Number(e.slice(4)));
        assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b), `watcher ${i} saw publications out of offset order`);
        assert.equal(offsets.length, total, `watcher ${i}: every publication`);
      }
      await until(() => quiet.every((q) => eventsOf(q, visitorIds).length >= total),
        () => `every quiet subscriber saw ${total} publications: ${Math.min(...quiet.map((q) => eventsOf(q, visitorIds).length))} at least`, 15_000);
      for (const [i, q] of quiet.entries()) {
        const offsets = eventsOf(q, visitorIds).map((e) => Number(e.slice(4)));
        assert.deepEqual(offsets, Array.from({ length: total }, (_, k) => offsets[0]! + k), `quiet subscriber ${i}: every publication once, in offset order`);
      }
      const reference = joinsAfter(views[0]!);
      assert.equal(reference.size, 2 * VISITORS);
      for (const [i, events] of views.entries()) {
        const placed = joinsAfter(events);
        const moved = [...reference].filter(([event, before]) => placed.get(event) !== before)
          .map(([event, before]) => `${event}: after ${before} for watcher 0, after ${placed.get(event)} for watcher ${i}`);
        assert.deepEqual(moved, [], `watcher ${i} saw joins or leaves elsewhere among the publications`);
      }
    });
  });
}
