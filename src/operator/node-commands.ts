import { z } from 'zod';
import { command, type NodeCommand } from '../gluster/commands/command.ts';
import { assertAbsolutePath } from '../gluster/commands/fs.ts';
import { ParseError } from '../gluster/errors.ts';

/**
 * Size of the filesystem holding `path`, for LoopFile and Directory clusters where the brick root, not a
 * raw device, is what bricks take space from. `df -B1 --output=size,avail` prints a header and one line.
 */
const dfLine = z.tuple([z.coerce.number().int().min(0), z.coerce.number().int().min(0)]);

export function filesystemSize(path: string): NodeCommand<{ sizeBytes: number; availableBytes: number }> {
  assertAbsolutePath(path);
  return command({
    argv: ['df', '-B1', '--output=size,avail', path],
    outcome: 'exit-code',
    mutatesCluster: false,
    parse: (stdout) => {
      const line = stdout.trim().split('\n')[1];
      const parsed = dfLine.safeParse(line?.trim().split(/\s+/));
      if (!parsed.success) throw new ParseError('df output', stdout, parsed.error);
      return { sizeBytes: parsed.data[0], availableBytes: parsed.data[1] };
    },
  });
}
