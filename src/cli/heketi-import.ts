import { importHeketiDb, type DbImportOptions } from '../heketi/db-convert.ts';
import { HeketiImportError } from '../heketi/problems.ts';
import { importCommand, type Command } from './command.ts';
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

Not built yet: --check (compare the database with the live cluster) and kubectl gluster migrate pvs.

Example:
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

export const heketiImportCommand: Command = importCommand(HEKETI_IMPORT_USAGE, 'db', (text, cluster, clusterName) => heketiImport({ text, ...cluster, clusterName }));
