import { z } from 'zod';

/**
 * The test bed's coordinates, from the environment `hack/testbed up` writes to .testbed/env. The e2e
 * suites fail (never skip) without it: a skipped suite reported as passing would hide a broken test bed.
 */
const spaceList = z
  .string()
  .transform((value) => value.split(/\s+/).filter(Boolean))
  .pipe(z.array(z.string()).min(1));

const testbedEnvSchema = z.object({
  KUBECONFIG: z.string().min(1),
  TESTBED_NODES: spaceList,
  TESTBED_SSH_KEY: z.string().min(1),
  TESTBED_SSH_USER: z.string().min(1),
  TESTBED_SSH_PORT: z.coerce.number().int().default(22),
  TESTBED_BRICK_ROOT: z.string().default('/bricks'),
  TESTBED_BIN_DIR: z.string().min(1),
});

export type TestbedEnv = z.infer<typeof testbedEnvSchema>;

export function testbedEnv(): TestbedEnv {
  const result = testbedEnvSchema.safeParse(process.env);
  if (!result.success) {
    throw new Error(
      `the test bed is not up (${result.error.issues.map((i) => i.path.join('.')).join(', ')} missing): ` +
        'run `npm test`, or `hack/testbed up && . .testbed/env` before mocha',
    );
  }
  return result.data;
}
