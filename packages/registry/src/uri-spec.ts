import { InvalidArgumentError } from '@zkit/core';

/**
 * One piece of a {@link UriSpec}: literal text, or the name of a variable (`{port}`).
 *
 * @example
 * ```ts
 * const parts: UriSpecPart[] = [{ value: 'scheme', variable: true }, { value: '://', variable: false }];
 * ```
 */
export interface UriSpecPart {
  readonly value: string;
  readonly variable: boolean;
}

/**
 * A URL template stored with an instance, in Curator's JSON shape
 * (`{ "parts": [{ "value": "…", "variable": bool }] }`), so Java and Node services build the same
 * URLs. Parse one from a template such as `'{scheme}://{address}:{port}/v1'`.
 *
 * Known variables: `scheme` (`https` when the instance has an `sslPort`, else `http`), `name`,
 * `id`, `address`, `port`, `ssl-port`, `registration-time-utc`, `service-type`; more can be
 * given to {@link buildUri}.
 *
 * @example
 * ```ts
 * const spec = parseUriSpec('{scheme}://{address}:{port}/health');
 * await registry.register({ name: 'api', address: '10.0.0.5', port: 8080, uriSpec: spec });
 * ```
 */
export interface UriSpec {
  readonly parts: readonly UriSpecPart[];
}

/**
 * Parses a template: text between `{` and `}` is a variable, the rest is literal.
 *
 * @throws `InvalidArgumentError` for an unclosed or nested `{`, or a stray `}`
 * @example
 * ```ts
 * parseUriSpec('{scheme}://{address}:{port}').parts.length; // 5
 * ```
 */
export function parseUriSpec(template: string): UriSpec {
  if (typeof template !== 'string') {
    throw new InvalidArgumentError('uriSpec must be a template string or { parts }');
  }
  const parts: UriSpecPart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i] as string;
    if (c === '{') {
      const end = template.indexOf('}', i + 1);
      const inner = end === -1 ? '' : template.slice(i + 1, end);
      if (end === -1 || inner.includes('{')) {
        throw new InvalidArgumentError(`uriSpec has an unclosed "{" at ${i}: ${template}`);
      }
      if (text !== '') parts.push({ value: text, variable: false });
      text = '';
      parts.push({ value: inner, variable: true });
      i = end + 1;
      continue;
    }
    if (c === '}') throw new InvalidArgumentError(`uriSpec has a stray "}" at ${i}: ${template}`);
    text += c;
    i++;
  }
  if (text !== '') parts.push({ value: text, variable: false });
  return { parts };
}

/**
 * The fields of an instance that {@link buildUri} reads (every `ServiceInstance` has them).
 *
 * @example
 * ```ts
 * buildUri({ ...instance, address: 'localhost' }); // the same URL on another host
 * ```
 */
export interface UriSource {
  readonly name: string;
  readonly id: string;
  readonly address: string | null;
  readonly port: number | null;
  readonly sslPort: number | null;
  readonly registrationTimeUTC: number;
  readonly serviceType: string;
  readonly uriSpec: UriSpec | null;
}

/**
 * Builds a URL from an instance's `uriSpec`, filling the known variables from the instance and
 * the others from `variables`. A variable with no value stays as `{name}` in the output, so a
 * missing value is visible rather than silently empty.
 *
 * @throws `InvalidArgumentError` when the instance has no `uriSpec`
 * @example
 * ```ts
 * const api = await provider.getInstance();
 * if (api) await fetch(buildUri(api) + '/orders');
 * ```
 */
export function buildUri(
  instance: UriSource,
  variables: Readonly<Record<string, string | number>> = {},
): string {
  if (typeof instance !== 'object' || instance === null) {
    throw new InvalidArgumentError('buildUri needs an instance');
  }
  if (!instance.uriSpec) throw new InvalidArgumentError(`instance ${instance.id} has no uriSpec`);
  const known: Record<string, string | number | null> = {
    scheme: instance.sslPort !== null ? 'https' : 'http',
    name: instance.name,
    id: instance.id,
    address: instance.address,
    port: instance.port,
    'ssl-port': instance.sslPort,
    'registration-time-utc': instance.registrationTimeUTC,
    'service-type': instance.serviceType.toLowerCase(),
  };
  let out = '';
  for (const part of instance.uriSpec.parts) {
    if (!part.variable) {
      out += part.value;
      continue;
    }
    const value = Object.hasOwn(variables, part.value)
      ? variables[part.value]
      : Object.hasOwn(known, part.value)
        ? known[part.value]
        : undefined;
    out += value === undefined || value === null ? `{${part.value}}` : String(value);
  }
  return out;
}
