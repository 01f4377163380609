-- Settings and jobs of the response cache.

select llm.define_setting(
    'cache_ignored_parameters', 'jsonb',
    '["user", "stream", "stream_options", "store", "metadata", "request_id", "timeout"]',
    'Top-level request parameters left out of cache keys (they do not change the response).'
);
select llm.define_setting(
    'cache_hit_shards', 'integer', '16',
    'Counter rows per cache entry (and per provider, model and scope for misses).',
    '1', '1024'
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
