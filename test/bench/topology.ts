/**
 * Topology benchmark (`npm run bench:topology`): place 10,000 replica-3 volumes of 1–100 GiB, one after another,
 * on 300 nodes × 4 devices in 3 zones, committing every placement into the database; then back the database up
 * into Secret-sized chunks and restore it with part b's codec.
 *
 * Prints human-readable lines, then ONE JSON object as the last line.
 * Goals: placement p99 <= 2 ms, total <= 10 s, restore <= 1 s, every Secret <= 1 MiB.
 */
import { decodeBackup, encodeBackup } from '../../src/topology/backup/codec.ts';
import { addVolume, overcommittedDevices, type TopologyDatabase } from '../../src/topology/model.ts';
import { placeVolume } from '../../src/topology/placement/index.ts';
import { randomInt, seededRandom } from '../../src/topology/random.ts';
import { GiB, TiB } from '../../src/topology/sizing.ts';
import { syntheticTopology } from '../../src/topology/placement/synthetic.ts';

const VOLUMES = Number(process.env.BENCH_VOLUMES ?? 10_000);
const NODES = 300;
const DEVICES_PER_NODE = 4;
const ZONES = 3;
const DEVICE_SIZE = 4 * TiB;
const SECRET_LIMIT = 1024 * 1024;
const GOALS = { p99_ms: 2, total_ms: 10_000, restore_ms: 1_000, secret_bytes: SECRET_LIMIT };

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const round = (ms: number) => Math.round(ms * 1000) / 1000;

const random = seededRandom(20240604);
let db: TopologyDatabase = syntheticTopology(
  { nodes: NODES, zones: ZONES, devicesPerNode: DEVICES_PER_NODE, deviceSize: DEVICE_SIZE, zoneChecking: 'Strict' },
  random,
);
console.log(`topology: ${db.nodes.length} nodes, ${db.devices.length} devices of ${DEVICE_SIZE / TiB}Ti in ${ZONES} zones (strict zone checking)`);

const placeMs = new Float64Array(VOLUMES);
const commitMs = new Float64Array(VOLUMES);
let requestedBytes = 0;
const started = performance.now();
for (let i = 0; i < VOLUMES; i++) {
  const size = (1 + randomInt(random, 100)) * GiB;
  requestedBytes += size;
  const t0 = performance.now();
  const result = placeVolume(
    db,
    { volume: `pvc-${String(i).padStart(5, '0')}`, cluster: 'main', size, durability: { type: 'Replicate', replica: 3, arbiter: false } },
    random,
  );
  const t1 = performance.now();
  if (!result.ok) throw new Error(`volume ${i} (${size / GiB}Gi) not placed: ${result.reason}`);
  db = addVolume(db, result.volume);
  const t2 = performance.now();
  placeMs[i] = t1 - t0;
  commitMs[i] = t2 - t1;
}
const totalMs = performance.now() - started;
if (overcommittedDevices(db).length > 0) throw new Error('over-committed devices after the run');

const placeSorted = placeMs.slice().sort();
const commitSorted = commitMs.slice().sort();
const bricks = db.volumes.reduce((n, v) => n + v.bricks.length, 0);
console.log(`placed ${VOLUMES} volumes (${bricks} bricks, ${(requestedBytes / TiB).toFixed(1)}Ti requested) in ${totalMs.toFixed(0)} ms`);
console.log(
  `placement: p50 ${percentile(placeSorted, 50).toFixed(3)} ms, p99 ${percentile(placeSorted, 99).toFixed(3)} ms, max ${placeSorted[placeSorted.length - 1]!.toFixed(3)} ms`,
);
console.log(`commit (addVolume): p50 ${percentile(commitSorted, 50).toFixed(3)} ms, p99 ${percentile(commitSorted, 99).toFixed(3)} ms`);

// Backup: the chunks are what part b's SecretBackupStore writes, one Secret each. Measure each Secret as the
// JSON object the apiserver receives (base64 data plus metadata shaped like the store's chunk Secrets).
const databaseJsonBytes = Buffer.byteLength(JSON.stringify(db));
const s0 = performance.now();
const encoded = encodeBackup(db);
const serializeMs = performance.now() - s0;
const secretBytes = encoded.chunks.map((chunk, index) =>
  Buffer.byteLength(
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'Opaque',
      immutable: true,
      metadata: {
        name: `gluster-operator-topology-${encoded.generation}-${encoded.checksum.slice(0, 8)}-${index}`,
        namespace: 'gluster-operator-system',
        labels: {
          'storage.gluster-operator.dev/topology-backup': 'gluster-operator-topology',
          'storage.gluster-operator.dev/topology-role': 'chunk',
          'storage.gluster-operator.dev/topology-generation': String(encoded.generation),
          'storage.gluster-operator.dev/topology-chunk': String(index),
        },
      },
      data: { chunk: chunk.toString('base64') },
    }),
  ),
);
const maxSecret = Math.max(...secretBytes);
console.log(
  `backup: database ${(databaseJsonBytes / 1024 / 1024).toFixed(1)} MiB JSON -> ${(encoded.compressedBytes / 1024).toFixed(0)} KiB gzip in ` +
    `${encoded.chunks.length} Secret(s), largest ${(maxSecret / 1024).toFixed(0)} KiB, serialized in ${serializeMs.toFixed(0)} ms`,
);

const r0 = performance.now();
const restored = decodeBackup(encoded.chunks, encoded.meta);
const restoreMs = performance.now() - r0;
if (restored.generation !== db.generation || restored.volumes.length !== db.volumes.length) throw new Error('restore does not match');
console.log(`restore: ${restoreMs.toFixed(0)} ms (generation ${restored.generation}, ${restored.volumes.length} volumes)`);

const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;
const result = {
  volumes: VOLUMES,
  nodes: NODES,
  devices: db.devices.length,
  bricks,
  'placement.p50_ms': round(percentile(placeSorted, 50)),
  'placement.p99_ms': round(percentile(placeSorted, 99)),
  'placement.total_ms': Math.round(totalMs),
  'commit.p99_ms': round(percentile(commitSorted, 99)),
  database_json_bytes: databaseJsonBytes,
  backup_bytes_max_secret: maxSecret,
  backup_secrets: encoded.chunks.length,
  serialize_ms: Math.round(serializeMs),
  restore_ms: Math.round(restoreMs),
  heap_mb: Math.round(heapMb),
  goals_met:
    percentile(placeSorted, 99) <= GOALS.p99_ms && totalMs <= GOALS.total_ms && restoreMs <= GOALS.restore_ms && maxSecret <= GOALS.secret_bytes,
};
console.log(
  `goals: p99 <= ${GOALS.p99_ms} ms, total <= ${GOALS.total_ms} ms, restore <= ${GOALS.restore_ms} ms, Secret <= 1 MiB: ${result.goals_met ? 'met' : 'NOT met'}`,
);
console.log(JSON.stringify(result));
