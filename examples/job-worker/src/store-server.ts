/**
 * `node dist/store-server.js [port]`: the store on its own (default port 8080), for running
 * workers by hand. Prints its URL; Ctrl-C prints the counter and stops it.
 */
import { FencedStore } from './store.js';

const store = new FencedStore();
process.once('SIGINT', () => {
  console.log(`counter = ${store.value}, stale writes refused: ${store.rejected}`);
  void store.close();
});
const url = await store.listen(Number(process.argv[2] ?? 8080));
console.log(`store at ${url} (Ctrl-C to stop)`);
