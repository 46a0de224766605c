/** The NodeRegistry contract: nodes announce themselves and drop out when they go silent. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NodeRegistry, NodeSummary } from '../../src/engine/types.js';
import { until } from '../helpers/wait.js';

export interface NodesUnderTest {
  readonly nodes: NodeRegistry;
  close(): Promise<void>;
}

const summary = (uid: string, clients: number): NodeSummary => ({
  uid, name: `node-${uid}`, version: '0.0.0', num_clients: clients, num_users: 1, num_channels: 2, num_subs: 3, uptime: 4,
});

export function runNodesContract(name: string, create: () => Promise<NodesUnderTest>): void {
  describe(`NodeRegistry contract: ${name}`, () => {
    let under: NodesUnderTest;
    before(async () => {
      under = await create();
    });
    after(() => under.close());

    it('lists a node with its latest summary once it announced itself', async () => {
      const uid = `n-${process.pid}-${Date.now()}`;
      await under.nodes.announce(summary(uid, 1), 60_000);
      await under.nodes.announce(summary(uid, 7), 60_000);
      const mine = (await under.nodes.list()).filter((n) => n.uid === uid);
      assert.deepEqual(mine, [summary(uid, 7)]);
    });

    it('drops a node that stops announcing once its TTL has passed, and keeps the others', async () => {
      const gone = `gone-${process.pid}-${Date.now()}`;
      const alive = `alive-${process.pid}-${Date.now()}`;
      await under.nodes.announce(summary(gone, 1), 300);
      await under.nodes.announce(summary(alive, 2), 60_000);
      assert.ok((await under.nodes.list()).some((n) => n.uid === gone));
      let uids: string[] = [];
      await until(async () => {
        uids = (await under.nodes.list()).map((n) => n.uid);
        return !uids.includes(gone);
      }, 'the silent node is gone');
      assert.ok(uids.includes(alive), 'the other node stays');
    });
  });
}
