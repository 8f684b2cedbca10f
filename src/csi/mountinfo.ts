import { readFile } from 'node:fs/promises';
import { z } from 'zod';

/**
 * The kernel's mount table as this process sees it (/proc/self/mountinfo, proc(5)). Read fresh for every
 * decision: kubelet, other plugins and the FUSE client change it behind our back, so nothing is cached.
 */
export const mountEntrySchema = z.object({
  id: z.number().int().nonnegative(),
  parentId: z.number().int().nonnegative(),
  majorMinor: z.string().regex(/^\d+:\d+$/),
  root: z.string().min(1),
  mountPoint: z.string().startsWith('/'),
  mountOptions: z.array(z.string()),
  optionalFields: z.array(z.string()),
  fsType: z.string().min(1),
  source: z.string(),
  superOptions: z.array(z.string()),
});
export type MountEntry = z.infer<typeof mountEntrySchema>;

/** The kernel escapes space, tab, newline and backslash in paths as three-digit octal (`\040`). */
export function unescapeMountField(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

/**
 * One mountinfo line: `id parent major:minor root mountpoint options [optional...] - fstype source superoptions`.
 * The optional fields vary in number, so the ` - ` separator, not a column index, splits the line.
 */
export function parseMountInfoLine(line: string): MountEntry {
  const fields = line.split(' ');
  const separator = fields.indexOf('-', 6);
  if (separator < 0 || fields.length < separator + 3) throw new Error(`malformed mountinfo line: ${JSON.stringify(line)}`);
  const [id, parentId, majorMinor, root, mountPoint, mountOptions] = fields;
  const [fsType, source, superOptions] = fields.slice(separator + 1);
  return mountEntrySchema.parse({
    id: Number(id),
    parentId: Number(parentId),
    majorMinor,
    root: unescapeMountField(root ?? ''),
    mountPoint: unescapeMountField(mountPoint ?? ''),
    mountOptions: (mountOptions ?? '').split(','),
    optionalFields: fields.slice(6, separator),
    fsType,
    source: unescapeMountField(source ?? ''),
    superOptions: (superOptions ?? '').split(','),
  });
}

export function parseMountInfo(text: string): MountEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map(parseMountInfoLine);
}

export async function readMountInfo(path = '/proc/self/mountinfo'): Promise<MountEntry[]> {
  return parseMountInfo(await readFile(path, 'utf8'));
}

/**
 * The mount visible at `path`: with stacked mounts on one point, the last one in the table is on top and is
 * the one a process sees.
 */
export function mountAt(entries: readonly MountEntry[], path: string): MountEntry | undefined {
  return entries.findLast((entry) => entry.mountPoint === path);
}

/** FUSE mounts made by mount.glusterfs have type `fuse.glusterfs`. */
export function isGlusterMount(entry: MountEntry): boolean {
  return entry.fsType === 'fuse.glusterfs' || entry.fsType === 'glusterfs';
}

export function isReadOnly(entry: MountEntry): boolean {
  return entry.mountOptions.includes('ro');
}
