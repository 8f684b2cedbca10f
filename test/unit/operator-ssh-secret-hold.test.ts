import { expect } from 'chai';
import { heldFinalizers, SSH_SECRET_FINALIZER } from '../../src/operator/ssh-secret-hold.ts';

describe('the SSH key Secret held while its GlusterCluster exists (pure)', () => {
  it('adds the finalizer once, beside the others, and never to a Secret already being deleted', () => {
    expect(heldFinalizers({ metadata: { finalizers: ['other'] } }, true)).to.deep.equal(['other', SSH_SECRET_FINALIZER]);
    expect(heldFinalizers({ metadata: { finalizers: [SSH_SECRET_FINALIZER] } }, true)).to.equal(undefined);
    expect(heldFinalizers({ metadata: { deletionTimestamp: '2026-12-01T00:00:00Z' } }, true)).to.equal(undefined);
  });

  it('releases only its own finalizer, also from a Secret being deleted', () => {
    expect(heldFinalizers({ metadata: { finalizers: ['other', SSH_SECRET_FINALIZER], deletionTimestamp: '2026-12-01T00:00:00Z' } }, false)).to.deep.equal(['other']);
    expect(heldFinalizers({ metadata: { finalizers: ['other'] } }, false)).to.equal(undefined);
  });
});
