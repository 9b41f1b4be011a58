import { randomUUID } from 'node:crypto';
import { InvalidArgumentError, validateName } from '@zkit/core';
import { MalformedInstanceError } from './errors.js';
import { parseUriSpec, type UriSpec, type UriSpecPart } from './uri-spec.js';

/**
 * How an instance's node lives (Curator's `ServiceType`): `DYNAMIC` is ephemeral (gone with the
 * registering session), `STATIC` and `PERMANENT` are persistent. Instances read from other
 * writers may carry any string here.
 *
 * @example
 * ```ts
 * // Stays after this process exits, until unregistered.
 * await registry.register({ name: 'dns', address: '10.0.0.2', port: 53, serviceType: 'STATIC' });
 * ```
 */
export type ServiceType = 'DYNAMIC' | 'STATIC' | 'PERMANENT';

/**
 * A registered service instance, as stored in `basePath/<name>/<id>` in Curator's
 * compatible-mode JSON. `payload` is the caller's object without Java's `"@class"` key.
 *
 * @example
 * ```ts
 * const [api] = await registry.instances('api');
 * if (api) console.log(`${api.id} at ${api.address}:${api.port}, since ${new Date(api.registrationTimeUTC)}`);
 * ```
 */
export interface ServiceInstance<P = unknown> {
  readonly name: string;
  readonly id: string;
  readonly address: string | null;
  readonly port: number | null;
  readonly sslPort: number | null;
  readonly payload: P | null;
  /** When the instance was registered, ms since the epoch (UTC). */
  readonly registrationTimeUTC: number;
  readonly serviceType: ServiceType | (string & {});
  readonly uriSpec: UriSpec | null;
  /**
   * Curator's `enabled` flag: `false` marks an instance its owner has taken out of rotation
   * while it stays registered ({@link ServiceProvider} skips it). Data without the field — what
   * Curator's default (compatible-mode) serializer writes — reads as `true`.
   */
  readonly enabled: boolean;
}

/**
 * What `register()` takes: only `name` is required.
 *
 * @example
 * ```ts
 * await registry.register({
 *   name: 'billing',
 *   address: '10.0.0.7',
 *   port: 8080,
 *   payload: { zone: 'eu-west-1' },
 *   payloadClass: 'com.example.InstanceDetails', // what Curator readers deserialize into
 * });
 * ```
 */
export interface InstanceInput<P = unknown> {
  readonly name: string;
  /** Default: a random UUID. */
  readonly id?: string;
  readonly address?: string | null;
  readonly port?: number | null;
  readonly sslPort?: number | null;
  /**
   * Any JSON object, together with {@link InstanceInput.payloadClass}: a payload without one is
   * refused with `InvalidArgumentError`, since Curator readers could not deserialize it.
   */
  readonly payload?: P | null;
  /**
   * The Java class Curator services deserialize the payload into (written as `"@class"`, as
   * Jackson expects). Without a payload nothing needs it: the payload is written as `null`,
   * which is what a Curator `ServiceDiscovery<Void>` reads.
   */
  readonly payloadClass?: string;
  /** Default `'DYNAMIC'` (ephemeral). */
  readonly serviceType?: ServiceType;
  /** A template such as `'{scheme}://{address}:{port}'`, or parsed parts. */
  readonly uriSpec?: string | UriSpec | null;
  /** Default: now. */
  readonly registrationTimeUTC?: number;
  /**
   * Default `true`. `false` keeps the instance registered but out of rotation (Curator's
   * `enabled`); it is then written as `"enabled": false` after the nine compatible-mode fields.
   */
  readonly enabled?: boolean;
}

const SERVICE_TYPES: ReadonlySet<string> = new Set(['DYNAMIC', 'STATIC', 'PERMANENT']);

/** Validates an input and fills the defaults; throws before any I/O. */
export function normalize<P>(input: InstanceInput<P>): {
  instance: ServiceInstance<P>;
  payloadClass: string | undefined;
} {
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError('the instance must be an object');
  }
  validateName(input.name);
  const id = input.id ?? randomUUID();
  validateName(id);
  const port = optionalPort(input.port, 'port');
  const sslPort = optionalPort(input.sslPort, 'sslPort');
  if (input.address !== undefined && input.address !== null && typeof input.address !== 'string') {
    throw new InvalidArgumentError('address must be a string');
  }
  const serviceType = input.serviceType ?? 'DYNAMIC';
  if (!SERVICE_TYPES.has(serviceType)) {
    throw new InvalidArgumentError(`serviceType must be DYNAMIC, STATIC or PERMANENT`);
  }
  const time = input.registrationTimeUTC ?? Date.now();
  if (!Number.isSafeInteger(time)) {
    throw new InvalidArgumentError('registrationTimeUTC must be an integer');
  }
  const payloadClass = input.payloadClass;
  const payload = input.payload ?? null;
  if (payloadClass !== undefined) {
    if (typeof payloadClass !== 'string' || payloadClass === '') {
      throw new InvalidArgumentError('payloadClass must be a non-empty Java class name');
    }
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      throw new InvalidArgumentError('a payload with a payloadClass must be a JSON object');
    }
  } else if (payload !== null) {
    throw new InvalidArgumentError(
      'a payload needs a payloadClass (the Java class Curator readers deserialize it into)',
    );
  }
  const uriSpec = toUriSpec(input.uriSpec);
  const enabled = input.enabled ?? true;
  if (typeof enabled !== 'boolean') throw new InvalidArgumentError('enabled must be a boolean');
  return {
    instance: {
      name: input.name,
      id,
      address: input.address ?? null,
      port,
      sslPort,
      payload,
      registrationTimeUTC: time,
      serviceType,
      uriSpec,
      enabled,
    },
    payloadClass,
  };
}

function optionalPort(value: unknown, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new InvalidArgumentError(`${field} must be an integer in [0, 65535]`);
  }
  return value;
}

function toUriSpec(spec: string | UriSpec | null | undefined): UriSpec | null {
  if (spec === undefined || spec === null) return null;
  if (typeof spec === 'string') return parseUriSpec(spec);
  if (typeof spec !== 'object' || !Array.isArray(spec.parts)) {
    throw new InvalidArgumentError('uriSpec must be a template string or { parts }');
  }
  for (const p of spec.parts) {
    if (typeof p?.value !== 'string' || typeof p.variable !== 'boolean') {
      throw new InvalidArgumentError('uriSpec parts must be { value: string, variable: boolean }');
    }
  }
  return { parts: spec.parts.map((p) => ({ value: p.value, variable: p.variable })) };
}

/**
 * The node data: exactly Curator's nine compatible-mode fields, in its order, and `enabled` only
 * when it is `false` (as Curator's full mode writes it; its readers default it to `true`). The
 * payload gets `"@class"` first when a Java class is named.
 */
export function serialize(instance: ServiceInstance, payloadClass: string | undefined): string {
  const payload =
    payloadClass === undefined || instance.payload === null
      ? null
      : { '@class': payloadClass, ...(instance.payload as object) };
  return JSON.stringify({
    name: instance.name,
    id: instance.id,
    address: instance.address,
    port: instance.port,
    sslPort: instance.sslPort,
    payload,
    registrationTimeUTC: instance.registrationTimeUTC,
    serviceType: instance.serviceType,
    uriSpec: instance.uriSpec,
    ...(instance.enabled ? {} : { enabled: false }),
  });
}

/**
 * Reads node data tolerantly: unknown fields are ignored, `"@class"` is stripped from the
 * payload, missing optional fields read as `null` (`enabled` as `true`).
 *
 * @throws {@link MalformedInstanceError} when the data is not an instance, or names another id
 */
export function parse(data: Buffer, path: string, expectedId: string): ServiceInstance {
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch (error) {
    throw new MalformedInstanceError(path, 'not JSON', error);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new MalformedInstanceError(path, 'not a JSON object');
  }
  const o = raw as Record<string, unknown>;
  if (typeof o.name !== 'string' || o.name === '') {
    throw new MalformedInstanceError(path, 'no name');
  }
  if (typeof o.id !== 'string' || o.id === '') throw new MalformedInstanceError(path, 'no id');
  if (o.id !== expectedId) {
    throw new MalformedInstanceError(path, `its id ${JSON.stringify(o.id)} is not its node name`);
  }
  return {
    name: o.name,
    id: o.id,
    address: typeof o.address === 'string' ? o.address : null,
    port: portOf(o.port, path, 'port'),
    sslPort: portOf(o.sslPort, path, 'sslPort'),
    payload: payloadOf(o.payload),
    registrationTimeUTC: typeof o.registrationTimeUTC === 'number' ? o.registrationTimeUTC : 0,
    serviceType: typeof o.serviceType === 'string' ? o.serviceType : 'DYNAMIC',
    uriSpec: uriSpecOf(o.uriSpec),
    enabled: o.enabled !== false,
  };
}

function portOf(value: unknown, path: string, field: string): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new MalformedInstanceError(path, `${field} is not an integer`);
  }
  return value;
}

function payloadOf(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const { '@class': _javaClass, ...rest } = value as Record<string, unknown>;
  return rest;
}

function uriSpecOf(value: unknown): UriSpec | null {
  if (typeof value !== 'object' || value === null) return null;
  const parts = (value as { parts?: unknown }).parts;
  if (!Array.isArray(parts)) return null;
  const out: UriSpecPart[] = [];
  for (const p of parts as unknown[]) {
    if (typeof p !== 'object' || p === null) continue;
    const { value: v, variable } = p as { value?: unknown; variable?: unknown };
    if (typeof v === 'string') out.push({ value: v, variable: variable === true });
  }
  return { parts: out };
}
