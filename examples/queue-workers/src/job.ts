/** What goes through the queue: a thumbnail to render. */
export interface Job {
  readonly image: string;
}

/** The queue every process of this example shares (`QUEUE` picks another). */
export const QUEUE_PATH = `/examples/queues/${process.env['QUEUE'] ?? 'thumbnails'}`;
