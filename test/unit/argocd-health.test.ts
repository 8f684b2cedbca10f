import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { HEALTH_LUA } from '../../src/deploy/argocd-health.ts';

/** A JSON value as a Lua table constructor: what Argo CD hands the script as `obj`. */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return `{${value.map(toLua).join(', ')}}`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `[${JSON.stringify(k)}] = ${toLua(v)}`).join(', ')}}`;
  return JSON.stringify(value);
}

/** Runs the health script with Lua 5.1 (Argo CD embeds gopher-lua, a Lua 5.1). */
function health(object: unknown): { status: string; message: string } {
  const program = `obj = ${toLua(object)}\nlocal function check()\n${HEALTH_LUA}\nend\nlocal hs = check()\nio.write(hs.status, "\\n", hs.message)`;
  const [status, ...message] = execFileSync('lua5.1', ['-e', program], { encoding: 'utf8' }).split('\n');
  return { status: status!, message: message.join('\n') };
}

const condition = (type: string, status: string, reason: string, message = '') => ({ type, status, reason, message, lastTransitionTime: '2026-01-01T00:00:00Z' });

describe('Argo CD health check (Lua 5.1)', () => {
  it('is Progressing until the operator reports', () => {
    expect(health({ metadata: { generation: 1 } })).to.deep.equal({ status: 'Progressing', message: 'waiting for the operator' });
  });

  it('is Progressing while the reported status is for an older spec, even if it said Ready', () => {
    const object = { metadata: { generation: 3 }, status: { observedGeneration: 2, conditions: [condition('Ready', 'True', 'VolumeStarted')] } };
    expect(health(object)).to.deep.equal({ status: 'Progressing', message: 'waiting for the operator to act on generation 3' });
  });

  it('is Healthy when Ready and not Degraded', () => {
    const object = {
      metadata: { generation: 2 },
      status: { observedGeneration: 2, conditions: [condition('Ready', 'True', 'VolumeStarted', 'started'), condition('Degraded', 'False', 'VolumeStarted')] },
    };
    expect(health(object)).to.deep.equal({ status: 'Healthy', message: 'started' });
  });

  it('is Degraded when Degraded, with its reason and message (a failed placement, a node down)', () => {
    const object = {
      metadata: { generation: 1 },
      status: { observedGeneration: 1, conditions: [condition('Ready', 'False', 'PlacementFailed', 'no space'), condition('Degraded', 'True', 'PlacementFailed', 'no brick layout')] },
    };
    expect(health(object)).to.deep.equal({ status: 'Degraded', message: 'PlacementFailed: no brick layout' });
  });

  it('is Progressing with the reason while not Ready and not Degraded', () => {
    const object = { metadata: { generation: 1 }, status: { observedGeneration: 1, conditions: [condition('Ready', 'False', 'WaitingForNodes', 'no node Ready')] } };
    expect(health(object)).to.deep.equal({ status: 'Progressing', message: 'WaitingForNodes: no node Ready' });
  });
});
