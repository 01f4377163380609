-- Settings and jobs of the response cache.

select llm.define_setting(
    'cache_ignored_parameters', 'jsonb',
    '["user", "stream", "stream_options", "store", "metadata", "request_id", "timeout"]',
    'Top-level request parameters left out of cache keys (they do not change the response).'
);
select llm.define_setting(
    'cache_hit_shards', 'integer', '16',
    'Counter rows per provider, model and scope for cache misses, so concurrent misses do not queue on one row.',
    '1', '1024'
);
-- Every 5 seconds where pg_cron has second-level schedules, else every minute: hit counts are
-- exact either way; folding often keeps the journal, and counting it, short.
select llm.define_setting(
    'cache_hit_fold_schedule', 'cron',
    case when llm.pg_cron_version() >= array[1, 5] then '"5 seconds"' else '"* * * * *"' end::jsonb,
    'When the job folding the cache hit journal into the hit counters runs: "5 seconds" where pg_cron has second-level schedules (1.5 or later), else every minute.'
);
select llm.define_setting(
    'cache_hit_fold_batch_rows', 'integer', '10000',
    'Most hit journal rows one batch of the llm_cache_hit_fold job folds.',
    '1', '1000000'
);
-- 3 of the 5 seconds between runs; 30 of the minute where pg_cron has no second-level schedules
select llm.define_setting(
    'cache_hit_fold_run_time', 'interval',
    case when llm.pg_cron_version() >= array[1, 5] then '"3 seconds"' else '"30 seconds"' end::jsonb,
    'How long one run of the llm_cache_hit_fold job goes on folding batches while they come back full; it stops at once when the journal is empty. "3 seconds" (of the 5-second schedule) where pg_cron has second-level schedules, else "30 seconds".',
    '"0 seconds"', '"10 minutes"'
);
select llm.define_setting(
    'cache_max_entries', 'integer', '100000',
    'Entries the response cache keeps; llm_cache_evict removes the least recently used above it.',
    '1', '2000000000'
);
select llm.define_setting(
    'cache_max_bytes', 'integer', '1073741824',
    'Bytes (prompt, response, metadata, embedding) the response cache keeps before eviction.',
    '1', '1099511627776'
);
select llm.define_setting(
    'cache_embedding_dimensions', 'jsonb', '[384, 768, 1536, 3072]',
    'Embedding sizes the cache accepts; each has an HNSW index (halfvec above 2000).'
);
select llm.define_setting(
    'cache_hnsw_ef_search', 'integer', '200',
    'hnsw.ef_search for semantic lookups (higher: better recall, slower).',
    '1', '1000'
);
select llm.define_setting(
    'cache_exact_search_max', 'integer', '5000',
    'Semantic lookups in a scope with at most this many embeddings of the size compare them all (exact); larger scopes use the HNSW index.',
    '0', '1000000'
);
select llm.define_setting(
    'cache_cleanup_schedule', 'cron', '"17 * * * *"',
    'When llm_cache_cleanup removes expired cache entries and leases.'
);
select llm.define_setting(
    'cache_evict_schedule', 'cron', '"*/15 * * * *"',
    'When llm_cache_evict enforces cache_max_entries and cache_max_bytes.'
);

select llm.register_job(
    'llm_cache_cleanup', 'cache_cleanup_schedule', 'select llm.cleanup_expired_llm_cache()',
    'Removes expired response cache entries (their savings stay in the totals) and expired leases.'
);
select llm.register_job(
    'llm_cache_evict', 'cache_evict_schedule', 'select llm.evict_llm_cache()',
    'Evicts least recently used response cache entries above cache_max_entries or cache_max_bytes.'
);
select llm.register_job(
    'llm_cache_hit_fold', 'cache_hit_fold_schedule', 'select llm.run_cache_hit_fold()',
    'Folds the cache hit journal into the hit counters (hits of removed entries into the totals).'
);
