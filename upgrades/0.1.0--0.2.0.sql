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
