// A lock, as the guide's first block created it.
declare const mutex: import('@zkit/lock').Mutex;
