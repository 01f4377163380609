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

-- llm.log_request() takes conversation_id as text (a UUID or a conversation's client id).
drop function if exists llm.log_request(
    text, text, text, text, integer, integer, integer, numeric, integer, boolean, integer, text,
    boolean, text, uuid, uuid, jsonb, integer, integer, numeric, integer, text, uuid, text, text,
    jsonb, jsonb, timestamptz, uuid
);

-- llm.daily_usage() returns saved_tokens (the tokens of cache hits) too, a new result type.
do $$
begin
    if pg_catalog.pg_get_function_result(
        pg_catalog.to_regprocedure('llm.daily_usage(timestamptz, timestamptz)')
    ) not like '%saved_tokens bigint%' then
        drop function llm.daily_usage(timestamptz, timestamptz);
    end if;
end
$$;

-- import_conversation gained as_new; the cache's embedding check takes the caller's scope.
drop function if exists llm.import_conversation(jsonb, text);
drop function if exists llm.cache_check_embedding(extensions.vector, text);

-- llm.log_cache_hit() takes conversation_id as text too (a UUID or a client id).
drop function if exists llm.log_cache_hit(uuid, text, text, uuid, integer, jsonb);

-- Settings declare their valid range, and time zones have a type of their own.
alter table llm.settings add column if not exists min_value jsonb;
alter table llm.settings add column if not exists max_value jsonb;
comment on column llm.settings.min_value is
'Smallest valid value (integer, numeric and interval settings), checked on every write; NULL: no bound.';
comment on column llm.settings.max_value is
'Largest valid value (integer, numeric and interval settings), checked on every write; NULL: no bound.';
alter table llm.settings drop constraint if exists settings_value_type_check;
alter table llm.settings add constraint settings_value_type_check check (
    value_type in ('boolean', 'integer', 'numeric', 'text', 'interval', 'cron', 'jsonb', 'timezone')
);
comment on column llm.settings.value_type is
'Type every value must have: boolean, integer, numeric, text, interval, cron, jsonb or timezone.';
drop function if exists llm.check_setting_value(text, text, jsonb);
drop function if exists llm.define_setting(text, text, jsonb, text);
