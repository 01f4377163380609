-- Settings API: set and reset a setting.

-- Changes a setting (admins and the service role); resyncs jobs when a schedule changes.
create or replace function llm_private.set_setting(key text, value jsonb)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_type text;
    v_min jsonb;
    v_max jsonb;
begin
    perform llm.require_admin('change settings');
    select s.value_type, s.min_value, s.max_value into v_type, v_min, v_max
    from llm.settings as s where s.key = set_setting.key;
    if not found then
        raise exception 'unknown llm setting "%"', set_setting.key using errcode = '42704';
    end if;
    perform llm.check_setting_value(set_setting.key, v_type, set_setting.value, v_min, v_max);
    update llm.settings as s
    set value = set_setting.value, updated_at = now(), updated_by = auth.uid()
    where s.key = set_setting.key;
    if v_type = 'cron' then
        perform llm.sync_jobs();
    end if;
    return set_setting.value;
end;
$$;
comment on function llm_private.set_setting(text, jsonb) is
'Implementation of llm.set_setting() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.set_setting(text, jsonb) to authenticated, service_role;

-- Restores a setting to its default.
create or replace function llm_private.reset_setting(key text)
returns jsonb
language sql
security definer
set search_path = ''
as $$
    select llm_private.set_setting(
        reset_setting.key,
        coalesce(
            (select s.default_value from llm.settings as s where s.key = reset_setting.key),
            'null'::jsonb
        )
    );
$$;
comment on function llm_private.reset_setting(text) is
'Implementation of llm.reset_setting() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.reset_setting(text) to authenticated, service_role;
