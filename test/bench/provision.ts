/**
 * `npm run bench:provision`: what dynamic provisioning costs on top of Gluster itself. In one run, against
 * the running test bed and the operator as a process (its own ServiceAccount):
 *   - single: PVC created → PVC Bound, versus the raw Gluster floor: `gluster volume create` (the same
 *     replica-3 layout) + `volume start`, run on the node itself; interleaved, median of BENCH_RUNS (10) each;
 *   - concurrent: 50 PVCs created at once → all Bound, versus 50 times the single floor.
 * The bench cluster uses the Directory brick backend, so brick creation is as cheap as the floor's mkdir and
 * what is measured is the operator, the provisioner and the Kubernetes round trips.
 * Last line: one JSON object with `ratio` (single / floor) and `concurrent_ratio` (concurrent / 50 × floor).
 * Needs a running test bed (`hack/testbed up`); it never starts or stops one.
 */
import { eventually, notYet } from '../support/eventually.ts';
import { REPO_ROOT } from '../support/paths.ts';
import { claim, deleteClaims, median, onNode, openBench, round, setUpBench, tearDownBench } from './common.ts';

const bench = openBench('bench:provision');
const { namespace, nodes, brickRoot, core } = bench;
const runs = Number(process.env.BENCH_RUNS ?? 10);
const concurrent = Number(process.env.BENCH_CONCURRENT ?? 50);

async function floorOnce(i: number): Promise<number> {
  const name = `${namespace}-raw-${i}`;
  const bricks = nodes.map((node) => `${node}:${brickRoot}/raw-${i}`);
  const started = performance.now();
  await onNode(['gluster', '--mode=script', 'volume', 'create', name, 'replica', '3', ...bricks, 'force']);
  await onNode(['gluster', '--mode=script', 'volume', 'start', name]);
  const elapsed = performance.now() - started;
  await onNode(['gluster', '--mode=script', 'volume', 'stop', name, 'force']);
  await onNode(['gluster', '--mode=script', 'volume', 'delete', name]);
  return elapsed;
}

async function bound(names: string[]): Promise<void> {
  await eventually(`${names.length} claim(s) Bound`, async () => {
    const list = await core.listNamespacedPersistentVolumeClaim({ namespace });
    const phase = new Map(list.items.map((c) => [c.metadata!.name!, c.status?.phase]));
    const waiting = names.filter((name) => phase.get(name) !== 'Bound');
    return waiting.length === 0 ? true : notYet(`${waiting.length} not Bound: ${waiting.slice(0, 10).map((name) => `${name}=${phase.get(name) ?? 'absent'}`).join(' ')}`);
  }, 600_000);
}

async function provisionOnce(i: number): Promise<number> {
  const name = `single-${i}`;
  const started = performance.now();
  await core.createNamespacedPersistentVolumeClaim({ namespace, body: claim(bench, name) });
  await bound([name]);
  const elapsed = performance.now() - started;
  await deleteClaims(bench);
  return elapsed;
}

async function main(): Promise<void> {
  process.chdir(REPO_ROOT);
  await setUpBench(bench);
  let result: Record<string, unknown>;
  try {
    const floors: number[] = [];
    const singles: number[] = [];
    for (let i = 0; i < runs; i += 1) {
      // ABBA, so drift during the run weighs on both sides alike.
      if (i % 2 === 0) {
        floors.push(await floorOnce(i));
        singles.push(await provisionOnce(i));
      } else {
        singles.push(await provisionOnce(i));
        floors.push(await floorOnce(i));
      }
      console.log(`run ${i + 1}/${runs}: PVC→Bound ${round(singles.at(-1)!)} ms, gluster create+start ${round(floors.at(-1)!)} ms`);
    }
    const names = Array.from({ length: concurrent }, (_, i) => `burst-${i}`);
    const started = performance.now();
    await Promise.all(names.map((name) => core.createNamespacedPersistentVolumeClaim({ namespace, body: claim(bench, name) })));
    await bound(names);
    const burst = performance.now() - started;
    console.log(`${concurrent} PVCs at once → all Bound in ${round(burst)} ms`);
    const floor = median(floors);
    const single = median(singles);
    result = {
      runs,
      single_ms_median: round(single),
      floor_ms_median: round(floor),
      ratio: Math.round((single / floor) * 100) / 100,
      concurrent,
      concurrent_ms: round(burst),
      concurrent_floor_ms: round(concurrent * floor),
      concurrent_ratio: Math.round((burst / (concurrent * floor)) * 100) / 100,
      goals: { ratio: 1.3, concurrent_ratio: 1.2 },
    };
  } finally {
    await tearDownBench(bench);
  }
  // Last, after the clean-up, so it is the last line.
  console.log(JSON.stringify(result));
}

await main();
