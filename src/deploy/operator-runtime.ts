/**
 * How the operator's Node runs, in its Deployment and wherever the tests and benchmarks start it as a process,
 * so what they measure is what ships.
 *
 * The heap is capped: V8 sizes its old space from the memory it sees, which on a large host (the benchmarks'
 * 24 GiB) lets garbage pile up to 600 MiB of RSS before a full collection, and inside the pod's 512Mi limit
 * leaves too little room above the heap. 192 MiB of old space holds the informer caches of thousands of
 * objects; RSS stays near 300 MiB.
 */
export const OPERATOR_NODE_OPTIONS = '--max-old-space-size=192';
/** The Deployment's memory limit, MiB: the heap above plus code, buffers and the other spaces. */
export const OPERATOR_MEMORY_LIMIT_MIB = 512;
