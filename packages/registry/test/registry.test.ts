import { InvalidArgumentError, InvalidPathError } from '@zkit/core';
import { waitFor } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { expect } from 'vitest';
import {
  DuplicateInstanceError,
  type MalformedInstanceError,
  NotRegisteredError,
  RegistryClosedError,
  ServiceRegistry,
  buildUri,
  parseUriSpec,
  type CacheChange,
} from '../src/index.js';

const BASE = '/services';

test('registry - an instance is an ephemeral node with exactly the nine Curator fields', async ({
  zk,
}) => {
  const client = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: BASE });
  const reg = await registry.register({
    name: 'api',
    id: 'api-1',
    address: '10.0.0.5',
    port: 8080,
    uriSpec: '{scheme}://{address}:{port}/v1',
  });
  expect(reg.path).toBe('/services/api/api-1');
  const { data, stat } = await client.get(reg.path);
  expect(stat.ephemeralOwner).toBe(client.sessionId);
  const json = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
  expect(Object.keys(json)).toEqual([
    'name',
    'id',
    'address',
    'port',
    'sslPort',
    'payload',
    'registrationTimeUTC',
    'serviceType',
    'uriSpec',
  ]);
  expect(json).toMatchObject({
    name: 'api',
    id: 'api-1',
    address: '10.0.0.5',
    port: 8080,
    sslPort: null,
    payload: null,
    serviceType: 'DYNAMIC',
    uriSpec: {
      parts: [
        { value: 'scheme', variable: true },
        { value: '://', variable: false },
        { value: 'address', variable: true },
        { value: ':', variable: false },
        { value: 'port', variable: true },
        { value: '/v1', variable: false },
      ],
    },
  });
  expect(typeof json.registrationTimeUTC).toBe('number');
  // Parents are containers: the server reaps them once empty.
  expect((await client.exists(BASE))?.ephemeralOwner).toBe('0');
  expect(buildUri(reg.instance)).toBe('http://10.0.0.5:8080/v1');
  await registry.close();
});

test('registry - register, discover, update and unregister', async ({ zk }) => {
  const a = await zk.client();
  const b = await zk.client();
  const writer = new ServiceRegistry(a, { basePath: BASE });
  const reader = new ServiceRegistry(b, { basePath: BASE });
  expect(await reader.names()).toEqual([]);
  expect(await reader.instances('api')).toEqual([]);
  await writer.register({ name: 'api', id: 'api-2', address: 'h2', port: 2 });
  await writer.register({ name: 'api', id: 'api-1', address: 'h1', port: 1 });
  await writer.register({
    name: 'db',
    id: 'db-1',
    address: 'h3',
    port: 5432,
    payload: { zone: 'eu' },
    payloadClass: 'com.example.Meta',
  });
  expect(await reader.names()).toEqual(['api', 'db']);
  const apis = await reader.instances('api');
  expect(apis.map((i) => [i.id, i.address, i.port])).toEqual([
    ['api-1', 'h1', 1],
    ['api-2', 'h2', 2],
  ]);
  const raw = JSON.parse((await b.get('/services/db/db-1')).data.toString('utf8')) as {
    payload: Record<string, unknown>;
  };
  expect(raw.payload).toEqual({ '@class': 'com.example.Meta', zone: 'eu' });
  const db = await reader.instance('db', 'db-1');
  expect(db?.payload).toEqual({ zone: 'eu' });

  const before = (await reader.instance('api', 'api-1'))!;
  const updated = await writer.update({ name: 'api', id: 'api-1', address: 'h1', port: 11 });
  expect(updated.registrationTimeUTC).toBe(before.registrationTimeUTC);
  expect((await reader.instance('api', 'api-1'))?.port).toBe(11);

  await writer.unregister('api-2');
  expect((await reader.instances('api')).map((i) => i.id)).toEqual(['api-1']);
  await expect(writer.unregister('api-2')).rejects.toBeInstanceOf(NotRegisteredError);
  expect(await reader.instance('api', 'api-2')).toBeNull();

  await writer.close();
  expect(await reader.instances('api')).toEqual([]);
  await expect(writer.register({ name: 'api' })).rejects.toBeInstanceOf(RegistryClosedError);
});

test('registry - bad input is rejected before any request', async ({ zk }) => {
  const client = await zk.client();
  expect(() => new ServiceRegistry(client, { basePath: 'services' })).toThrow(InvalidPathError);
  const registry = new ServiceRegistry(client, { basePath: BASE });
  await expect(registry.register({ name: 'a/b' })).rejects.toBeInstanceOf(InvalidPathError);
  await expect(registry.register({ name: 'api', port: 70_000 })).rejects.toBeInstanceOf(
    InvalidArgumentError,
  );
  await expect(registry.register({ name: 'api', payload: { a: 1 } })).rejects.toBeInstanceOf(
    InvalidArgumentError,
  );
  await expect(registry.register({ name: 'api', uriSpec: '{open' })).rejects.toBeInstanceOf(
    InvalidArgumentError,
  );
  expect(() => registry.provider('api', { strategy: 'fastest' as 'random' })).toThrow(
    InvalidArgumentError,
  );
  expect(await client.exists(BASE)).toBeNull();
});

test('registry - an id owned by another live session is a conflict unless taken over', async ({
  zk,
}) => {
  const a = await zk.client();
  const b = await zk.client();
  const first = new ServiceRegistry(a, { basePath: BASE });
  const second = new ServiceRegistry(b, { basePath: BASE });
  await first.register({ name: 'api', id: 'api-1', address: 'first', port: 1 });
  const error = await second
    .register({ name: 'api', id: 'api-1', address: 'second', port: 2 })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(DuplicateInstanceError);
  expect((error as DuplicateInstanceError).owner).toBe(a.sessionId);
  expect((error as DuplicateInstanceError).code).toBe('REGISTRY_DUPLICATE_ID');
  expect((await second.instance('api', 'api-1'))?.address).toBe('first');
  expect(second.registered).toEqual([]);

  await second.register(
    { name: 'api', id: 'api-1', address: 'second', port: 2 },
    { takeover: true },
  );
  const stat = await b.exists('/services/api/api-1');
  expect(stat?.ephemeralOwner).toBe(b.sessionId);
  expect((await first.instance('api', 'api-1'))?.address).toBe('second');
  // The first registry does not delete a node it no longer owns.
  await first.unregister('api-1');
  expect((await b.exists('/services/api/api-1'))?.ephemeralOwner).toBe(b.sessionId);
});

test('registry - a malformed node is quarantined, the others are still read', async ({ zk }) => {
  const client = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: BASE });
  await registry.register({ name: 'api', id: 'good', address: 'h', port: 1 });
  await client.create('/services/api/bad', '{not json');
  await client.create('/services/api/liar', JSON.stringify({ name: 'api', id: 'other' }));
  await client.create(
    '/services/api/extra',
    JSON.stringify({
      name: 'api',
      id: 'extra',
      address: 'x',
      port: 3,
      enabled: true,
      futureField: { a: 1 },
      payload: { '@class': 'com.example.Meta', zone: 'us' },
    }),
  );
  const quarantined: MalformedInstanceError[] = [];
  registry.on('quarantined', (e) => quarantined.push(e));
  const found = await registry.instances('api');
  expect(found.map((i) => i.id)).toEqual(['extra', 'good']);
  expect(found[0]?.payload).toEqual({ zone: 'us' });
  expect(found[0]?.sslPort).toBeNull();
  expect(quarantined.map((e) => e.path).sort()).toEqual([
    '/services/api/bad',
    '/services/api/liar',
  ]);
  expect(quarantined.every((e) => e.code === 'REGISTRY_MALFORMED_INSTANCE')).toBe(true);

  const cache = registry.cache('api');
  const cacheQuarantined: string[] = [];
  cache.on('quarantined', (e) => cacheQuarantined.push(e.path ?? ''));
  await cache.ready();
  expect(cache.instances().map((i) => i.id)).toEqual(['extra', 'good']);
  expect(cacheQuarantined.sort()).toEqual(['/services/api/bad', '/services/api/liar']);
  // A fixed node enters the view.
  await client.set('/services/api/bad', JSON.stringify({ name: 'api', id: 'bad', port: 9 }));
  await waitFor(() => cache.instance('bad'), { message: 'the repaired node in the cache' });
  await registry.close();
});

test('registry - the cache reports typed diffs as events and as an async iterable', async ({
  zk,
}) => {
  const a = await zk.client();
  const b = await zk.client();
  const writer = new ServiceRegistry(a, { basePath: BASE });
  const watcher = new ServiceRegistry(b, { basePath: BASE });
  const cache = watcher.cache('api');
  await cache.ready();
  expect(cache.instances()).toEqual([]);
  expect(cache.stale).toBe(false);
  const seen: CacheChange[] = [];
  const iterated = (async () => {
    const out: string[] = [];
    for await (const c of cache.changes()) {
      out.push(`${c.type}:${c.instance.id}`);
      if (out.length === 4) break;
    }
    return out;
  })();
  cache.on('change', (c) => seen.push(c));

  await writer.register({ name: 'api', id: 'i1', address: 'h', port: 1 });
  await writer.register({ name: 'api', id: 'i2', address: 'h', port: 2 });
  await waitFor(() => cache.instances().length === 2, { message: 'two instances' });
  await writer.update({ name: 'api', id: 'i1', address: 'h', port: 10 });
  await waitFor(() => cache.instance('i1')?.port === 10, { message: 'the update' });
  await writer.unregister('i2');
  await waitFor(() => cache.instances().length === 1, { message: 'the removal' });

  expect(seen.map((c) => `${c.type}:${c.instance.id}`)).toEqual([
    'added:i1',
    'added:i2',
    'updated:i1',
    'removed:i2',
  ]);
  const updated = seen[2];
  expect(updated?.type === 'updated' && updated.previous.port).toBe(1);
  expect(await iterated).toEqual(['added:i1', 'added:i2', 'updated:i1', 'removed:i2']);
  await watcher.close();
  await expect(cache.ready()).rejects.toBeInstanceOf(RegistryClosedError);
});

test('registry - the cache waits for a service that does not exist yet', async ({ zk }) => {
  const client = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: BASE });
  const cache = registry.cache('late');
  await cache.ready();
  expect(cache.instances()).toEqual([]);
  await registry.register({ name: 'late', id: 'x', port: 1 });
  await waitFor(() => cache.instance('x'), { message: 'the first instance' });
  await registry.close();
});

test('registry - provider strategies distribute as specified', async ({ zk }) => {
  const client = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: BASE });
  for (const id of ['a', 'b', 'c']) await registry.register({ name: 'api', id, port: 1 });

  const rr = registry.provider('api', { strategy: 'roundRobin' });
  const picks: string[] = [];
  for (let i = 0; i < 9; i++) picks.push((await rr.getInstance())!.id);
  expect(picks).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'a', 'b', 'c']);

  const random = registry.provider('api', { strategy: 'random' });
  const counts = new Map<string, number>();
  for (let i = 0; i < 600; i++) {
    const id = (await random.getInstance())!.id;
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c']);
  for (const n of counts.values()) expect(n).toBeGreaterThan(120);

  const sticky = registry.provider('api', { strategy: 'sticky' });
  const first = (await sticky.getInstance())!;
  for (let i = 0; i < 5; i++) expect((await sticky.getInstance())?.id).toBe(first.id);
  await registry.unregister(first.id);
  await waitFor(() => sticky.getAllInstances().length === 2, { message: 'the removal' });
  const next = (await sticky.getInstance())!;
  expect(next.id).not.toBe(first.id);
  for (let i = 0; i < 5; i++) expect((await sticky.getInstance())?.id).toBe(next.id);
  await registry.close();
});

test('registry - the down-instance policy skips an instance after the error threshold', async ({
  zk,
}) => {
  const client = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: BASE });
  for (const id of ['a', 'b']) await registry.register({ name: 'api', id, port: 1 });
  const provider = registry.provider('api', {
    downInstancePolicy: { timeout: 300, errorThreshold: 2 },
  });
  const a = (await provider.getInstance())!;
  expect(a.id).toBe('a');
  provider.noteError(a);
  expect(provider.getAllInstances().map((i) => i.id)).toEqual(['a', 'b']);
  provider.noteError(a);
  expect(provider.getAllInstances().map((i) => i.id)).toEqual(['b']);
  for (let i = 0; i < 4; i++) expect((await provider.getInstance())?.id).toBe('b');
  provider.noteError({ id: 'b' });
  provider.noteError({ id: 'b' });
  expect(await provider.getInstance()).toBeNull();
  await waitFor(() => provider.getAllInstances().length === 2, {
    message: 'the policy timeout to pass',
  });
  await registry.close();
});

test('registry - uriSpec parses and builds URLs like Curator', () => {
  const spec = parseUriSpec('{scheme}://{address}:{ssl-port}/{custom}/{missing}');
  const url = buildUri(
    {
      name: 'api',
      id: 'x',
      address: 'h',
      port: 80,
      sslPort: 443,
      registrationTimeUTC: 0,
      serviceType: 'DYNAMIC',
      uriSpec: spec,
    },
    { custom: 'v2' },
  );
  expect(url).toBe('https://h:443/v2/{missing}');
  expect(() => parseUriSpec('a}')).toThrow(InvalidArgumentError);
});

test("registry - a disabled instance stays registered, is written with Curator's enabled flag and is skipped by providers", async ({
  zk,
}) => {
  const client = await zk.client();
  const registry = new ServiceRegistry(client, { basePath: BASE });
  await registry.register({ name: 'api', id: 'on', address: 'a', port: 1 });
  const off = await registry.register({
    name: 'api',
    id: 'off',
    address: 'b',
    port: 2,
    enabled: false,
  });
  expect(off.instance.enabled).toBe(false);
  const json = JSON.parse((await client.get(off.path)).data.toString('utf8')) as Record<
    string,
    unknown
  >;
  // Curator's full serializer writes it last; its readers default it to true when absent.
  expect(Object.keys(json).at(-1)).toBe('enabled');
  expect(json['enabled']).toBe(false);
  const on = JSON.parse((await client.get('/services/api/on')).data.toString('utf8')) as object;
  expect(Object.keys(on)).not.toContain('enabled');

  const byId = Object.fromEntries((await registry.instances('api')).map((i) => [i.id, i.enabled]));
  expect(byId).toEqual({ on: true, off: false });
  const provider = registry.provider('api');
  for (let i = 0; i < 4; i++) expect((await provider.getInstance())?.id).toBe('on');
  expect(provider.getAllInstances().map((i) => i.id)).toEqual(['on']);

  // Enabled again: the provider picks it up from its cache.
  await registry.update({ name: 'api', id: 'off', address: 'b', port: 2, enabled: true });
  await waitFor(() => provider.getAllInstances().length === 2);
  expect(
    Object.keys(JSON.parse((await client.get(off.path)).data.toString('utf8')) as object),
  ).not.toContain('enabled');

  // Written by a Curator service in full mode: the flag is read as it says.
  await client.create(
    '/services/api/java',
    JSON.stringify({ name: 'api', id: 'java', enabled: false, extra: 1 }),
  );
  await waitFor(() => provider.cache.instances().some((i) => i.id === 'java'));
  expect(provider.cache.instances().find((i) => i.id === 'java')?.enabled).toBe(false);
  expect(
    provider
      .getAllInstances()
      .map((i) => i.id)
      .sort(),
  ).toEqual(['off', 'on']);
  await registry.close();
});
