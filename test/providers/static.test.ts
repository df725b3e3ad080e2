import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseStaticNodes, staticProvider } from '../../src/providers/static.js';
import { catchErr, collect } from './server.js';

const dir = mkdtempSync(join(tmpdir(), 'fw-static-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};

describe('staticProvider()', () => {
  it('listNodes() - from an inline array, with defaults', async () => {
    const p = staticProvider({
      id: 'lab',
      nodes: [
        { id: 'pi-1', publicIps: ['192.0.2.10'], tags: { role: 'dns' } },
        {
          id: 'nas',
          name: 'Speicher-Ω',
          state: 'stopped',
          privateIps: ['10.0.0.5', 'fd00::5'],
          createdAt: '2024-01-02T03:04:05Z',
        },
      ],
    });
    const nodes = await collect(p.listNodes());
    expect(nodes[0]).toEqual({
      uid: 'lab:pi-1',
      id: 'pi-1',
      name: 'pi-1',
      provider: 'lab',
      kind: 'static',
      state: 'running',
      rawState: 'running',
      region: undefined,
      zone: undefined,
      publicIps: ['192.0.2.10'],
      privateIps: [],
      size: undefined,
      image: undefined,
      createdAt: undefined,
      tags: { role: 'dns' },
      extra: {},
    });
    expect(nodes[1]).toMatchObject({
      name: 'Speicher-Ω',
      state: 'stopped',
      privateIps: ['10.0.0.5', 'fd00::5'],
      createdAt: new Date('2024-01-02T03:04:05Z'),
    });
  });

  it('listNodes() - from a YAML file ({ nodes: [...] }) and a JSON file (array), re-read each time', async () => {
    const yamlFile = write(
      'servers.yaml',
      'nodes:\n  - id: 101\n    name: db-1\n    publicIps: [198.51.100.7]\n    tags: { role: db, rack: 12 }\n    extra: { owner: ops, password: hunter2 }\n',
    );
    const p = staticProvider({ id: 'dc', file: yamlFile });
    const [db] = await collect(p.listNodes());
    expect(db).toMatchObject({
      id: '101',
      uid: 'dc:101',
      name: 'db-1',
      tags: { role: 'db', rack: '12' },
      extra: { owner: 'ops', password: '[REDACTED]' },
    });
    writeFileSync(yamlFile, 'nodes:\n  - id: 102\n');
    expect((await collect(p.listNodes())).map((n) => n.id)).toEqual(['102']);
    const jsonFile = write('servers.json', JSON.stringify([{ id: 'a' }, { id: 'b', state: 'error' }]));
    expect(
      (await collect(staticProvider({ id: 'j', file: jsonFile, nodes: [{ id: 'c' }] }).listNodes())).map(
        (n) => `${n.id}:${n.state}`,
      ),
    ).toEqual(['a:running', 'b:error', 'c:running']);
  });

  it('bad input names the field path (E_VALIDATION)', async () => {
    expect(() => parseStaticNodes([{ id: 'a' }, { id: 'b', publicIps: ['1.2.3.4', 'not-an-ip'] }])).toThrow(
      expect.objectContaining({ code: 'E_VALIDATION', path: 'nodes[1].publicIps[1]' }),
    );
    expect(() => parseStaticNodes([{ id: 'a', state: 'on' }])).toThrow(
      expect.objectContaining({ path: 'nodes[0].state' }),
    );
    expect(() => parseStaticNodes([{ id: 'a' }, { id: 'a' }])).toThrow(
      expect.objectContaining({ path: 'nodes[1].id' }),
    );
    expect(() => parseStaticNodes([{ name: 'x' }])).toThrow(expect.objectContaining({ path: 'nodes[0].id' }));
    expect(() => parseStaticNodes([{ id: 'a', colour: 'red' }])).toThrow(
      expect.objectContaining({ path: 'nodes[0].colour' }),
    );
    expect(() => parseStaticNodes([{ id: 'a', tags: { k: ['x'] } }])).toThrow(
      expect.objectContaining({ path: 'nodes[0].tags.k' }),
    );
    expect(() => parseStaticNodes({ nodes: 'x' })).toThrow(expect.objectContaining({ path: 'nodes.nodes' }));
    expect(() => staticProvider({ id: 's', nodes: [{ id: 'a', createdAt: 'yesterday' }] })).toThrow(
      expect.objectContaining({ path: 'options.nodes[0].createdAt' }),
    );
    expect(() => staticProvider({ id: 's' })).toThrow(expect.objectContaining({ code: 'E_VALIDATION' }));
    const bad = write('bad.yaml', 'nodes:\n  - id: a\n    privateIps: [10.0.0.300]\n');
    const err = await catchErr(collect(staticProvider({ id: 's', file: bad }).listNodes()));
    expect(err.code).toBe('E_VALIDATION');
    expect(err.path).toBe('file.nodes[0].privateIps[0]');
    expect(err.message).toContain('bad.yaml');
    const broken = write('broken.json', '{"nodes": [');
    expect((await catchErr(collect(staticProvider({ id: 's', file: broken }).listNodes()))).code).toBe(
      'E_VALIDATION',
    );
  });

  it('an unreadable file is E_CONFIG', async () => {
    const err = await catchErr(
      collect(staticProvider({ id: 's', file: join(dir, 'missing.yaml') }).listNodes()),
    );
    expect(err.code).toBe('E_CONFIG');
    expect(err.message).toContain('ENOENT');
  });

  it('getNode() - node or undefined', async () => {
    const p = staticProvider({ id: 's', nodes: [{ id: 'a' }] });
    expect((await p.getNode('a'))?.uid).toBe('s:a');
    expect(await p.getNode('b')).toBeUndefined();
  });

  it('setTags() / removeTags() - in memory, merging the given tags; unknown node is E_NOT_FOUND', async () => {
    const p = staticProvider({ id: 's', nodes: [{ id: 'a', tags: { role: 'web', env: 'prod' } }] });
    await p.setTags!('a', { role: 'db', team: 'x' });
    expect((await p.getNode('a'))?.tags).toEqual({ role: 'db', env: 'prod', team: 'x' });
    await p.removeTags!('a', ['team', 'env']);
    expect((await p.getNode('a'))?.tags).toEqual({ role: 'db' });
    expect((await catchErr(p.setTags!('zz', {}))).code).toBe('E_NOT_FOUND');
    const nodes = await collect(p.listNodes());
    nodes[0]!.tags.mutated = 'yes';
    expect((await p.getNode('a'))?.tags).toEqual({ role: 'db' });
  });
});
