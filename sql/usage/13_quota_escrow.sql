-- Escrow of hard quotas: each user's remaining capacity per current period, split in shards.

create table if not exists llm.quota_escrow (
    user_id uuid not null,
    quota_period text not null,
    period_start date not null,
    shard smallint not null,
    ready boolean not null default false,
    free_tokens numeric,
    free_cost_usd numeric,
    free_requests numeric,
    primary key (user_id, quota_period, period_start, shard)
) with (fillfactor = 50);
comment on table llm.quota_escrow is
'Remaining capacity of each hard quota of a user in the current period, split in shards so that concurrent llm.reserve_quota() calls of one user take from different rows. The shards of a period always sum to limit - usage - open reservations: usage and reservations move them (triggers on llm.usage_journal and llm.quota_reservations), and llm.reserve_quota() recomputes them from the usage itself whenever a shard runs short, before refusing. Internal.';
comment on column llm.quota_escrow.shard is 'Shard number, 0 to 63 (llm.quota_escrow_shard()).';
comment on column llm.quota_escrow.ready is
'false until llm.reserve_quota() computed the shards of this period from the usage (and again after a quota changes): changes are then only accumulated.';
comment on column llm.quota_escrow.free_tokens is 'Tokens this shard may still grant; NULL when the quota has no token limit.';
comment on column llm.quota_escrow.free_cost_usd is 'USD this shard may still grant; NULL when the quota has no cost limit.';
comment on column llm.quota_escrow.free_requests is 'Requests this shard may still grant; NULL when the quota has no request limit.';
alter table llm.quota_escrow enable row level security;
revoke all on llm.quota_escrow from anon, authenticated, service_role;
grant select on llm.quota_escrow to authenticated, service_role;
