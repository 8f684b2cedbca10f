import { expect } from 'chai';
import { NodeCommandError } from '../../src/gluster/errors.ts';
import { brickRemovalMessage } from '../../src/operator/reconcilers/volume-deletion.ts';

describe('volume deletion: a brick that could not be removed is said on the GlusterVolume', () => {
  const failure = (message: string) => new NodeCommandError({ errorClass: 'permanent', node: 'kn3', argv: ['umount', '/var/lib/gluster-operator/bricks/ns/brick_cf00'], message });

  it('names the volume, the brick and the command\'s own words, and that it is retried', () => {
    const message = brickRemovalMessage('pvc-1', '10.77.0.23:/var/lib/gluster-operator/bricks/ns/brick_cf00/brick', failure('Input/output error'));
    expect(message).to.equal(
      'Gluster volume pvc-1 is deleted, but removing its brick 10.77.0.23:/var/lib/gluster-operator/bricks/ns/brick_cf00/brick failed: ' +
        'kn3: umount /var/lib/gluster-operator/bricks/ns/brick_cf00: Input/output error; retried every 30 s',
    );
  });

  it('"target is busy" (left after orphaned brick processes were stopped) says how to find the holder', () => {
    const message = brickRemovalMessage('pvc-1', 'b', failure('umount: /var/lib/gluster-operator/bricks/ns/brick_cf00: target is busy.'));
    expect(message).to.match(/a process other than an orphaned glusterfsd, which the operator stops itself, still has it open: `fuser -vm`/);
    expect(message).to.match(/target is busy\.; retried every 30 s$/);
  });
});
