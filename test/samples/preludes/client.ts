// A started client, as the sample's previous block created it.
declare const client: import('@zkit/core').ZkClient;
