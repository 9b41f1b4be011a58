/**
 * Shared between core's modules, not exported from the package.
 *
 * @internal
 * @module
 */
import type { AuthInfo } from './client.js';

/**
 * Each client's credentials, the live list (`addAuth` appends to it), so that the client's
 * extra connection can present the same identity without the credentials becoming public API.
 */
export const clientAuth = new WeakMap<object, readonly AuthInfo[]>();
