// Stand-ins for the application's own code that samples call.
interface Work {
  signal: AbortSignal;
  fencingToken: bigint;
}
declare const id: string;
declare const job: { id: string };
declare const url: string;
declare const body: string;
declare function doWork(work: Work): Promise<void>;
declare function processJob(job: { id: string }, work: Work): Promise<void>;
declare function runMyShare(): Promise<void>;
declare function compactNextBatch(work: Work): Promise<void>;
declare const router: { setUpstream(id: string | null): void };
declare const db: {
  query(sql: string, params: unknown[]): Promise<{ rowCount: number | null }>;
};
declare const log: { info(fields: object, message: string): void };
declare const logger: {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
};
declare const requestDuration: { record(ms: number, labels: Record<string, string>): void };
