-- State changes from 0.15.0 to 0.16.0: the rollups leave half of each page free, so the fold's
-- updates stay on their page and off the indexes (pages written from now on; existing ones as
-- their rows move); the escrow shard's comment names the 64 shards.
alter table llm.usage_rollups set (fillfactor = 50);
comment on column llm.quota_escrow.shard is 'Shard number, 0 to 63 (llm.quota_escrow_shard()).';
