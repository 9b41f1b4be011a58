import { recordListenerErrors } from '@zkit/testing';
import { test } from '@zkit/testing/vitest';
import { describe, expect } from 'vitest';
import { Queue, type MalformedItemError } from '../src/index.js';

const PATH = '/jobs/queue';

// The queue's one user callback, `onMalformed`, failing both ways: consumption goes on as if it
// had returned, and the failure is reported.
describe.each(['throws', 'rejects'] as const)('a callback that %s', (how) => {
  test(`queue - an onMalformed callback that ${how}: the item is skipped, consumption goes on, the failure is reported`, async ({
    zk,
  }) => {
    using failures = recordListenerErrors();
    const client = await zk.client();
    const reported: MalformedItemError[] = [];
    const queue = new Queue<string>(client, PATH, {
      // A promise where the option's type says void is the case under test: the queue reports
      // its rejection rather than ignore it.
      // eslint-disable-next-line @typescript-eslint/no-misused-promises
      onMalformed: (error) => {
        reported.push(error);
        const failure = new Error(`callback ${how}`);
        if (how === 'throws') throw failure;
        return Promise.reject(failure);
      },
    });
    await queue.put('good-1');
    const bad = await client.create(`${PATH}/queue-`, Buffer.from('not framed'), {
      mode: 'persistentSequential',
    });
    await queue.put('good-2');
    expect(await queue.take({ timeout: 5000 })).toBe('good-1');
    expect(await queue.take({ timeout: 5000 })).toBe('good-2');
    expect(reported.map((e) => e.path)).toEqual([bad]);
    const [message] = failures.of(queue);
    expect(message?.event).toBe('onMalformed');
    expect((message?.error as Error).message).toBe(`callback ${how}`);
    await queue.close();
  });
});
