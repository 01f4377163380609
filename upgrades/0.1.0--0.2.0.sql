-- State changes from 0.1.0 to 0.2.0. Every step is guarded: it changes nothing where it was
-- applied already, so the bundle can run it on any install.

-- Installs made before 0.1.0 was frozen still carry the request log's BRIN index, which 0.1.0
-- dropped from the hot path.
drop index if exists llm.request_logs_created_at_brin;

-- ... and llm.apply_request_log_retention() without the bytes column, whose return type
-- `create or replace` cannot change.
do $$
begin
    if pg_catalog.pg_get_function_result(
        pg_catalog.to_regprocedure('llm.apply_request_log_retention()')
    ) not like '%bytes bigint%' then
        drop function llm.apply_request_log_retention();
    end if;
end
$$;

-- import_conversation gained as_new; the cache's embedding check takes the caller's scope.
drop function if exists llm.import_conversation(jsonb, text);
drop function if exists llm.cache_check_embedding(extensions.vector, text);
