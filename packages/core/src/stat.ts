/**
 * The metadata ZooKeeper keeps for every node.
 *
 * zxids are `bigint` because a zxid is a 64-bit transaction id (epoch in the high 32 bits): they
 * order every change in the ensemble and are the basis of zkit's fencing tokens.
 */
export interface Stat {
  /** zxid of the transaction that created the node. */
  readonly czxid: bigint;
  /** zxid of the transaction that last modified the node's data. */
  readonly mzxid: bigint;
  /** zxid of the transaction that last added or removed a child. */
  readonly pzxid: bigint;
  /** Creation time, milliseconds since the epoch. */
  readonly ctime: number;
  /** Last modification time, milliseconds since the epoch. */
  readonly mtime: number;
  /** Number of changes to the data. */
  readonly version: number;
  /** Number of changes to the children; also the next sequence number under this node. */
  readonly cversion: number;
  /** Number of changes to the ACL. */
  readonly aversion: number;
  /** Session id (hex) of the owner if the node is ephemeral, else `'0'`. */
  readonly ephemeralOwner: string;
  /** Length of the data in bytes. */
  readonly dataLength: number;
  /** Number of children. */
  readonly numChildren: number;
}
