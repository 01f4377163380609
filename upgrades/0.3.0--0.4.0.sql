-- State changes from 0.3.0 to 0.4.0. Every step is guarded: it changes nothing where it was
-- applied already, so the bundle can run it on any install.

-- A cache hit is counted by appending to llm.response_cache_hit_journal (new state file
-- sql/response_cache/12_hit_journal.sql): the counter that took the entry id, and updated a
-- shard row, takes the hit itself now. Existing counter rows are kept as they are: every hit
-- counted before the upgrade stays in the counts.
drop function if exists llm.cache_count_hit(uuid);

-- The implementation of get_cached_llm_response returns the hit as jsonb itself (the API
-- wrapper returned jsonb already): a changed return type needs the old function dropped.
do $$
begin
    if (
        select prorettype from pg_catalog.pg_proc
        where oid = pg_catalog.to_regprocedure(
            'llm_private.get_cached_llm_response(text, text, text, jsonb, text, text)'
        )
    ) = pg_catalog.to_regtype('llm.cache_hit') then
        drop function llm_private.get_cached_llm_response(text, text, text, jsonb, text, text);
    end if;
end
$$;
