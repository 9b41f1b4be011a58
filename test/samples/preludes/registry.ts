// A registry, as the guide's first block created it.
import { buildUri } from '@zkit/registry';
declare const registry: import('@zkit/registry').ServiceRegistry;
