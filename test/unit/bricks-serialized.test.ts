import { expect } from 'chai';
import type { BrickBackend, BrickRecord, BrickRequest } from '../../src/bricks/backend.ts';
import { serializedPerBrick } from '../../src/bricks/serialized.ts';

/** A backend that records how many operations run at once per brick, and in total. */
function recordingBackend() {
  const running = new Map<string, number>();
  const stats = { maxPerBrick: 0, maxTotal: 0, total: 0, order: [] as string[] };
  const op = async (id: string, label: string) => {
    running.set(id, (running.get(id) ?? 0) + 1);
    stats.total += 1;
    stats.maxPerBrick = Math.max(stats.maxPerBrick, running.get(id)!);
    stats.maxTotal = Math.max(stats.maxTotal, stats.total);
    stats.order.push(`${label}:${id}:start`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    stats.order.push(`${label}:${id}:end`);
    running.set(id, running.get(id)! - 1);
    stats.total -= 1;
    if (label === 'fail') throw new Error('boom');
  };
  const record = (id: string) => ({ id }) as BrickRecord;
  const backend: BrickBackend = {
    kind: 'LoopFile',
    prepareDevice: async () => ({ location: '/x', sizeBytes: null, freeBytes: null, extentSizeBytes: null }),
    createBrick: async (_node, request: BrickRequest) => {
      await op(request.id, request.location === 'fail' ? 'fail' : 'create');
      return record(request.id);
    },
    deleteBrick: async (_node, r) => op(r.id, 'delete'),
    growBrick: async (_node, r) => (await op(r.id, 'grow'), r),
    ensureMounted: async (_node, r) => op(r.id, 'mount'),
  };
  return { backend, stats };
}

describe('bricks: one operation at a time per brick', () => {
  const node = { name: 'n1', manageAddress: '10.0.0.1' };
  const request = (id: string, location = '/bricks') => ({ id, location, sizeBytes: 1 });

  it('runs two creates of the same brick one after the other, other bricks alongside', async () => {
    const { backend, stats } = recordingBackend();
    const serialized = serializedPerBrick(backend);
    await Promise.all([serialized.createBrick(node, request('a')), serialized.createBrick(node, request('a')), serialized.createBrick(node, request('b')), serialized.deleteBrick(node, { id: 'a' } as BrickRecord)]);
    expect(stats.maxPerBrick).to.equal(1);
    expect(stats.maxTotal).to.equal(2); // a and b overlapped
    expect(stats.order.filter((e) => e.includes(':a:'))).to.deep.equal(['create:a:start', 'create:a:end', 'create:a:start', 'create:a:end', 'delete:a:start', 'delete:a:end']);
  });

  it('a failed operation does not block the next one on that brick, and its error reaches its caller', async () => {
    const { backend, stats } = recordingBackend();
    const serialized = serializedPerBrick(backend);
    const failing = serialized.createBrick(node, request('a', 'fail'));
    const next = serialized.createBrick(node, request('a'));
    await failing.catch((error: Error) => expect(error.message).to.equal('boom'));
    expect((await next).id).to.equal('a');
    expect(stats.maxPerBrick).to.equal(1);
  });
});
