import { ZkClient } from '@zkit/core';
import { expireSession, waitFor, type ZooKeeperServer } from '@zkit/testing';
import { chapter, green, magenta, say, yellow } from './narrator.js';

/** A client session that survives a server pause and recovers from an expiry. */
export async function sessionChapter(server: ZooKeeperServer): Promise<string> {
  chapter('A session that survives trouble');
  const client = new ZkClient(server.connectString, { sessionTimeout: 3000 });
  client.on('state', (now, before) => {
    const colour = now === 'lost' || now === 'suspended' ? yellow : green;
    say(`client state ${before} → ${colour(now)}  (session ${client.sessionId ?? '-'})`);
  });
  try {
    await client.start();
    say(
      `connected: session ${magenta(client.sessionId ?? '')}, negotiated timeout ${client.sessionTimeout} ms`,
    );
    await client.create('/demo/hello', 'world', { parents: 'persistent' });
    await client.create('/demo/me', '', { mode: 'ephemeral' });
    say('wrote /demo/hello and an ephemeral /demo/me');

    say(
      yellow(
        'pausing the server (SIGSTOP) until the client notices, well within the session timeout…',
      ),
    );
    const before = client.sessionId;
    await server.pause();
    await waitFor(() => client.state === 'suspended', { timeout: 10_000 });
    await server.resume();
    await waitFor(() => client.state === 'reconnected', { timeout: 10_000 });
    const same = client.sessionId === before;
    say(
      `back on ${same ? green('the same session') : yellow('a new session')}; ephemeral still there: ${
        (await client.exists('/demo/me')) !== null
      }`,
    );

    say(yellow('expiring the session on the server…'));
    await expireSession(client);
    await waitFor(() => client.state === 'reconnected', { timeout: 15_000 });
    say(
      `recovered with new session ${magenta(client.sessionId ?? '')}; the old ephemeral is gone: ${
        (await client.exists('/demo/me')) === null
      }`,
    );
    const { data } = await client.get('/demo/hello');
    say(`persistent data survives: /demo/hello = ${JSON.stringify(data.toString())}`);
    return `survived a server pause on ${same ? 'the same session' : 'a new session'}; recovered from expiry`;
  } finally {
    await client.close();
  }
}
