import { expect } from 'chai';
import { anyBrickDown, bricksToRestart } from '../../src/operator/reconcilers/brick-restart.ts';

describe('bricks to restart', () => {
  const bricks = [
    { glusterName: '10.0.0.1:/b/1', node: 'a' },
    { glusterName: '10.0.0.2:/b/2', node: 'b' },
    { glusterName: '10.0.0.3:/b/3', node: 'c' },
  ];

  it('restarts the bricks that are down on Ready nodes only', () => {
    const online = new Map([
      ['10.0.0.1:/b/1', true],
      ['10.0.0.2:/b/2', false],
      ['10.0.0.3:/b/3', false],
    ]);
    expect(bricksToRestart(bricks, online, new Set(['a', 'b']))).to.deep.equal(['10.0.0.2:/b/2']);
    expect(anyBrickDown(online)).to.equal(true);
  });

  it('does nothing when every brick is up, or when volume status said nothing about a brick', () => {
    const online = new Map([['10.0.0.1:/b/1', true]]);
    expect(bricksToRestart(bricks, online, new Set(['a', 'b', 'c']))).to.deep.equal([]);
    expect(anyBrickDown(online)).to.equal(false);
    expect(anyBrickDown(new Map())).to.equal(false);
  });
});
