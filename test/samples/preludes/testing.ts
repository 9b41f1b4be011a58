// What a test file around the sample imports.
import { expect } from 'vitest';
import { defineConfig } from 'vitest/config';
import { probeIterables, waitFor, ZooKeeperEnsemble } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
