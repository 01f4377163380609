-- The hit journal: one appended row per counted cache hit, folded into the hit counters.

-- No primary key, no foreign key and no update: a hit appends one row and locks nothing, so
-- concurrent hits of one entry never wait for each other and never touch the entry row. The
-- row carries what the hit saved, so a hit whose entry was removed meanwhile still counts.
create table if not exists llm.response_cache_hit_journal (
    entry_id uuid not null,
    scope text not null,
    provider text not null,
    model text not null,
    prompt_tokens bigint,
    completion_tokens bigint,
    total_tokens bigint,
    cost_usd numeric,
    hit_at timestamptz not null default now()
);
comment on table llm.response_cache_hit_journal is
'Append-only cache hits not yet folded into llm.response_cache_hits (by the llm_cache_hit_fold job): a hit count is the counter rows plus these rows. A row leaves the journal in the transaction that adds it to the counters (or, when its entry was removed, to llm.response_cache_totals).';
comment on column llm.response_cache_hit_journal.entry_id is
'The llm.response_cache entry that was hit (not a foreign key: checking one would lock the entry row on every hit).';
comment on column llm.response_cache_hit_journal.scope is 'Scope of the entry, for statistics.';
comment on column llm.response_cache_hit_journal.total_tokens is
'Tokens the hit saved (the entry''s), so the hit keeps its savings if the entry is removed before the fold.';
comment on column llm.response_cache_hit_journal.cost_usd is 'Cost the hit saved (the entry''s cost_usd).';

-- counting an entry's unfolded hits, and its most recent one for eviction
create index if not exists response_cache_hit_journal_entry_id_hit_at_idx
on llm.response_cache_hit_journal (entry_id, hit_at);
alter table llm.response_cache_hit_journal enable row level security;
revoke all on llm.response_cache_hit_journal from anon, authenticated, service_role;
grant select on llm.response_cache_hit_journal to authenticated, service_role;
