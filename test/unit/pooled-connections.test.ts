import { expect } from 'chai';
import * as k8s from '@kubernetes/client-node';
import { withPooledConnections } from '../../src/controller/pooled-connections.ts';

/** A kubeconfig with a CA, so client-node builds a TLS dispatcher for each request (as for any real apiserver). */
function config(caData: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: 'https://127.0.0.1:6443', caData, skipTLSVerify: false }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  return kc;
}

/** The dispatcher client-node sets on one request's context. */
async function dispatcherOfOneRequest(kc: k8s.KubeConfig): Promise<unknown> {
  let dispatcher: unknown;
  const context = { setDispatcher: (d: unknown) => (dispatcher = d), setHeaderParam: () => undefined, getUrl: () => 'https://127.0.0.1:6443/api', setUrl: () => undefined } as unknown as k8s.RequestContext;
  await kc.applySecurityAuthentication(context);
  return dispatcher;
}

const CA = Buffer.from('-----BEGIN CERTIFICATE-----\nnot checked here\n-----END CERTIFICATE-----\n').toString('base64');

describe('one connection pool per KubeConfig (withPooledConnections)', () => {
  it('client-node alone makes a new dispatcher (a new TLS connection) for every request', async () => {
    const kc = config(CA);
    const [a, b] = [await dispatcherOfOneRequest(kc), await dispatcherOfOneRequest(kc)];
    expect(a).to.not.equal(undefined);
    expect(a, 'if this fails, client-node pools connections itself now and the wrapper can go').to.not.equal(b);
  });

  it('with the wrapper, requests share one dispatcher; other TLS material gets its own', async () => {
    const kc = withPooledConnections(config(CA));
    const first = await dispatcherOfOneRequest(kc);
    expect(await dispatcherOfOneRequest(kc)).to.equal(first);
    expect(withPooledConnections(kc), 'wrapping twice is wrapping once').to.equal(kc);
    const other = withPooledConnections(config(Buffer.from('another CA').toString('base64')));
    expect(await dispatcherOfOneRequest(other)).to.not.equal(first);
  });
});
