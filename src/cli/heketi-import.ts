import { importHeketiDb, type DbImportOptions } from '../heketi/db-convert.ts';
import { HeketiImportError } from '../heketi/problems.ts';
import { importCommand, readInput, usageError, type Command } from './command.ts';
import { CHECK_OPTIONS, checkTargetOf, heketiCheck, openLiveCluster, type OpenLive } from './heketi-check.ts';
import { importOutput, refusal, type CommandOutput } from './output.ts';

/**
 * `kubectl gluster heketi import`: heketi's database export in, a YAML stream of GlusterCluster, GlusterNode
 * and GlusterVolume objects out that take heketi's volumes over in place. All or nothing, as topology import.
 */

export const HEKETI_IMPORT_USAGE = `Usage: kubectl gluster heketi import --db FILE [options]

Converts heketi's database, exported as JSON (heketi db export --dbfile heketi.db --jsonfile db.json,
or heketi-cli db dump), into GlusterCluster, GlusterNode and GlusterVolume objects, printed as YAML for
kubectl apply -f -. Every volume is adopted in place (adoptExisting, reclaimPolicy Retain, heketi's
Gluster volume name): the operator takes it over only after Gluster shows it as the object says, and
never re-creates or moves its bricks. heketi's ids are kept in storage.gluster-operator.dev/heketi-*
annotations. A database with pending operations, block volumes or broken references prints nothing
and lists every problem.

Options:
  --db FILE            heketi database export (JSON); - reads standard input (required)
  --cluster NAME       name of the GlusterCluster when the database has one cluster
                       (default: heketi-<first 8 characters of heketi's cluster id>)
  --namespace NS       metadata.namespace of every object (default: none, kubectl's namespace)
  --mode MODE          External (default): reach the nodes over SSH, as heketi's ssh executor did;
                       InCluster: run glusterd in the operator's DaemonSet on Kubernetes nodes
  --ssh-secret NAME    Secret with the SSH private key for External mode (default: gluster-ssh)
  --brick-backend B    LVM (default, as heketi's bricks), LoopFile or Directory, for new bricks
  --directory-root P   where LoopFile or Directory bricks go on every node
  -h, --help           show this help

Checking the database against the live cluster first (prints no YAML, changes nothing):
  --check              compare heketi's volumes, bricks, options and nodes with what Gluster reports
                       (volume info, pool list on one node); print every difference, one line each,
                       then a summary. Exit code 0: they match; 1: differences, or the node could
                       not be reached; 2: bad usage
  --via pod:NS/POD     run gluster in that glusterd pod (gk-deploy: kubectl get pods -n NS -l
                       glusterfs=pod), through your kubeconfig's pods/exec
  --container NAME     the pod's glusterd container (default: the pod's default or only container)
  --via ssh:HOST       run gluster on HOST over SSH, as heketi's ssh executor did
  --ssh-key FILE       private key for --via ssh (required)
  --known-hosts FILE   OpenSSH known_hosts file that lists HOST's key (required: a host key is
                       never trusted on first use)
  --ssh-user USER      (default: root)
  --ssh-port PORT      (default: 22)

Moving the PVs of the in-tree provisioner over is a separate command: kubectl gluster migrate pvs.

Examples:
  kubectl gluster heketi import --db db.json --check --via pod:glusterfs/glusterfs-abcde
  kubectl gluster heketi import --db db.json --check --via ssh:10.0.0.11 --ssh-key heketi_key --known-hosts ~/.ssh/known_hosts
  kubectl gluster heketi import --db db.json --namespace gluster | kubectl apply -f -
`;

export function heketiImport(options: DbImportOptions & { text: string }): CommandOutput {
  try {
    const { clusters, nodes, volumes, warnings } = importHeketiDb(options.text, options);
    return importOutput([...clusters, ...nodes, ...volumes], warnings);
  } catch (error) {
    if (error instanceof HeketiImportError) return refusal('the heketi database', error.problems);
    throw error;
  }
}

const importOnly = importCommand(HEKETI_IMPORT_USAGE, 'db', (text, cluster, clusterName) => heketiImport({ text, ...cluster, clusterName }));

/** The import, or with --check the comparison with the live cluster; `openLive` reaches it (tests pass a fake). */
export function heketiImportCommandWith(openLive: OpenLive = openLiveCluster): Command {
  return {
    usage: HEKETI_IMPORT_USAGE,
    options: { ...importOnly.options, ...CHECK_OPTIONS },
    async run(values, io) {
      // Usage first, as the plain import: a bad flag is said before a file is read or a node reached.
      if (typeof values.db !== 'string') return usageError('--db FILE is required', HEKETI_IMPORT_USAGE);
      const target = checkTargetOf(values, HEKETI_IMPORT_USAGE);
      if (target === undefined) return importOnly.run(values, io);
      if ('code' in target) return target;
      const text = readInput(values, 'db', HEKETI_IMPORT_USAGE, io);
      if (typeof text !== 'string') return text;
      return heketiCheck(text, target, io, openLive);
    },
  };
}

export const heketiImportCommand: Command = heketiImportCommandWith();
