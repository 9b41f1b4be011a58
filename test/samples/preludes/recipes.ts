// The recipes a service has started, as earlier blocks created them.
declare const latch: import('@zkit/election').LeaderLatch;
declare const registry: import('@zkit/registry').ServiceRegistry;
