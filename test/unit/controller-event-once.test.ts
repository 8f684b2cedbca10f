import { expect } from 'chai';
import { MemoryEventRecorder } from '../../src/controller/events.ts';
import { warningsOnce } from '../../src/controller/event-once.ts';

const object = { apiVersion: 'v1', kind: 'GlusterVolume', metadata: { name: 'data', namespace: 'ns', uid: 'u1' } };

describe("the operator's Event recorder", () => {
  it('records a repeated Warning once per period, every Normal, and a Warning with another message at once', async () => {
    let now = 0;
    const memory = new MemoryEventRecorder();
    const events = warningsOnce(memory, { now: () => now, sleep: async () => undefined }, 60_000);
    for (let pass = 0; pass < 5; pass++) {
      await events.warning(object, 'VolumeInUse', 'deletion waits: PersistentVolume pv-1 is bound');
      await events.normal(object, 'BricksRestarted', 'started them');
      now += 10_000;
    }
    await events.warning(object, 'VolumeInUse', 'deletion waits: 1 client(s) still mount it');
    expect(memory.recorded.filter((e) => e.type === 'Warning').map((e) => e.note)).to.deep.equal([
      'deletion waits: PersistentVolume pv-1 is bound',
      'deletion waits: 1 client(s) still mount it',
    ]);
    expect(memory.recorded.filter((e) => e.type === 'Normal')).to.have.length(5);
    now += 60_000;
    await events.warning(object, 'VolumeInUse', 'deletion waits: PersistentVolume pv-1 is bound');
    expect(memory.recorded.filter((e) => e.type === 'Warning')).to.have.length(3);
  });
});
