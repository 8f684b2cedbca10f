import { expect } from 'chai';
import { z } from 'zod';
import { customResourceDefinition, KINDS } from '../../src/crd/definitions.ts';
import { toStructuralSchema, type JsonSchema } from '../../src/crd/structural-schema.ts';

/** Walks a schema and calls visit on every node with its path. */
function walk(node: JsonSchema, path: string, visit: (node: JsonSchema, path: string) => void): void {
  visit(node, path);
  for (const [name, child] of Object.entries((node.properties ?? {}) as Record<string, JsonSchema>)) walk(child, `${path}.${name}`, visit);
  if (node.items) walk(node.items as JsonSchema, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object') walk(node.additionalProperties as JsonSchema, `${path}{}`, visit);
}

describe('structural CRD schemas from zod', () => {
  for (const definition of KINDS) {
    it(`${definition.kind}: every node typed and described where it is a field, nothing non-structural`, () => {
      const crd = customResourceDefinition(definition) as any;
      const schema = crd.spec.versions[0].schema.openAPIV3Schema as JsonSchema;
      walk(schema, '', (node, path) => {
        expect(node.type, `type at ${path}`).to.be.a('string');
        expect(node, `no $ref at ${path}`).to.not.have.any.keys('$ref', 'anyOf', 'oneOf', 'allOf', 'not');
        if (node.properties) expect(node.additionalProperties, `additionalProperties at ${path}`).to.equal(undefined);
      });
      for (const part of ['spec', 'status'] as const) {
        const partSchema = (schema.properties as Record<string, JsonSchema>)[part]!;
        walk(partSchema, part, (node, path) => {
          if (!path.endsWith('[]') && !path.endsWith('{}')) expect(node.description, `description at ${path}`).to.be.a('string');
        });
      }
    });
  }

  it('carries CEL rules and list-map keys through to the CRD', () => {
    const volume = customResourceDefinition(KINDS.find((k) => k.kind === 'GlusterVolume')!) as any;
    const spec = volume.spec.versions[0].schema.openAPIV3Schema.properties.spec;
    const rules = spec.properties.durability['x-kubernetes-validations'].map((r: { rule: string }) => r.rule);
    expect(rules).to.include('self == oldSelf');
    expect(spec.properties.size['x-kubernetes-validations'][0].rule).to.contain('isQuantity(self)');
    const node = customResourceDefinition(KINDS.find((k) => k.kind === 'GlusterNode')!) as any;
    const devices = node.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.devices;
    expect(devices['x-kubernetes-list-type']).to.equal('map');
    expect(devices['x-kubernetes-list-map-keys']).to.deep.equal(['name']);
  });

  it('drops zod strictness and safe-integer padding', () => {
    const schema = toStructuralSchema(z.strictObject({ n: z.number().int() }).describe('x'));
    expect(schema).to.not.have.property('additionalProperties');
    expect((schema.properties as any).n).to.deep.equal({ type: 'integer' });
  });

  it('refuses unions instead of emitting a non-structural schema', () => {
    expect(() => toStructuralSchema(z.object({ v: z.union([z.string(), z.number()]) }))).to.throw(/anyOf|oneOf/);
  });
});
