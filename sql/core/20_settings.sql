-- Settings: value checks, declaration and typed reads; the JSON-object and date-range argument checks.

-- Validates a value against a setting's type and declared range (p_min, p_max: JSON of the
-- setting's type, NULL for no bound), so a bad value is refused before it is stored.
create or replace function llm.check_setting_value(
    p_key text, p_type text, p_value jsonb, p_min jsonb default null, p_max jsonb default null
)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    v_text text := p_value #>> '{}';
    v_cron_problem text := case
        when p_type = 'cron' then llm.cron_schedule_problem(v_text, llm.pg_cron_version())
    end;
    v_range text;
    v_bad boolean := false;
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        raise exception 'setting % must not be null', p_key using errcode = '22023';
    end if;
    if p_type = 'boolean' and jsonb_typeof(p_value) <> 'boolean' then
        raise exception 'setting % must be a boolean, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'integer' and (
        jsonb_typeof(p_value) <> 'number' or v_text !~ '^-?\d{1,19}$'
        or v_text::numeric not between -9223372036854775808 and 9223372036854775807
    ) then
        raise exception 'setting % must be an integer, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'numeric' and (jsonb_typeof(p_value) <> 'number' or v_text::numeric in ('NaN', 'Infinity', '-Infinity')) then
        raise exception 'setting % must be a finite number, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type in ('text', 'interval', 'cron', 'timezone') and jsonb_typeof(p_value) <> 'string' then
        raise exception 'setting % must be a string, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'text' and v_text !~ '\S' then
        raise exception 'setting % must not be blank', p_key using errcode = '22023';
    elsif p_type = 'interval' then
        begin
            perform v_text::interval;
        exception when others then
            raise exception 'setting % must be an interval, got %', p_key, p_value
                using errcode = '22023';
        end;
    elsif p_type = 'timezone'
        and not exists (select from pg_catalog.pg_timezone_names as z where z.name = v_text) then
        raise exception 'setting % must be a time zone name of pg_timezone_names (e.g. UTC, Europe/Paris), got %',
            p_key, p_value
            using errcode = '22023';
    elsif v_cron_problem is not null then
        raise exception 'setting % must be a pg_cron schedule, got %: %', p_key, p_value, v_cron_problem
            using errcode = '22023';
    end if;
    if p_min is null and p_max is null then
        return p_value;
    end if;
    if p_type in ('integer', 'numeric') then
        v_bad := v_text::numeric < (p_min #>> '{}')::numeric or v_text::numeric > (p_max #>> '{}')::numeric;
    elsif p_type = 'interval' then
        v_bad := v_text::interval < (p_min #>> '{}')::interval or v_text::interval > (p_max #>> '{}')::interval;
    end if;
    if coalesce(v_bad, false) then
        v_range := case
            when p_max is null then 'at least ' || (p_min #>> '{}')
            when p_min is null then 'at most ' || (p_max #>> '{}')
            else 'between ' || (p_min #>> '{}') || ' and ' || (p_max #>> '{}')
        end;
        raise exception 'setting % must be %, got %', p_key, v_range, p_value
            using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_setting_value(text, text, jsonb, jsonb, jsonb) is
'Raises 22023 naming the setting unless the value fits its type (integers fit bigint, numbers are finite, text is not blank, time zones are in pg_timezone_names) and its range [p_min, p_max] (integer, numeric and interval settings); returns the value.';

-- JSON-object arguments (metadata, parameters): NULL means none, any other JSON type is refused.
create or replace function llm.check_metadata(p_value jsonb, p_field text)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return '{}'::jsonb;
    end if;
    if jsonb_typeof(p_value) <> 'object' then
        raise exception '% must be a JSON object, got %', p_field, jsonb_typeof(p_value)
            using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_metadata(jsonb, text) is
'Returns metadata as a JSON object ({} for NULL); any other JSON type raises 22023 naming the field.';

-- Declares a setting (used by migrations) with its valid range. Re-running keeps the current
-- value unless it falls outside a new range, which restores the default with a warning.
create or replace function llm.define_setting(
    p_key text, p_type text, p_default jsonb, p_description text,
    p_min jsonb default null, p_max jsonb default null
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_value jsonb;
begin
    perform llm.check_setting_value(p_key, p_type, p_default, p_min, p_max);
    insert into llm.settings as s (
        key, value_type, value, default_value, description, min_value, max_value
    )
    values (p_key, p_type, p_default, p_default, p_description, p_min, p_max)
    on conflict (key) do update
        set value_type = excluded.value_type,
            -- a value left at the old default follows the new one
            value = case when s.value = s.default_value then excluded.default_value else s.value end,
            default_value = excluded.default_value,
            description = excluded.description,
            min_value = excluded.min_value,
            max_value = excluded.max_value
        where (s.value_type, s.default_value, s.description, s.min_value, s.max_value)
            is distinct from (
                excluded.value_type, excluded.default_value, excluded.description,
                excluded.min_value, excluded.max_value
            )
    returning s.value into v_value;
    if v_value is null then
        return;  -- unchanged declaration
    end if;
    begin
        perform llm.check_setting_value(p_key, p_type, v_value, p_min, p_max);
    exception when invalid_parameter_value then
        raise warning 'llm setting % was %, which is no longer valid (%); restored the default %',
            p_key, v_value, sqlerrm, p_default;
        update llm.settings as s set value = p_default, updated_at = now(), updated_by = null
        where s.key = p_key;
    end;
end;
$$;
comment on function llm.define_setting(text, text, jsonb, text, jsonb, jsonb) is
'Declares a package setting with its type, default, description and valid range [p_min, p_max]; a value left at the previous default takes the new default, any other value is kept while still valid, else the default is restored with a warning.';

-- Reads a setting; a typo in a key is an error, never a silent NULL.
create or replace function llm_private.setting(p_key text)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v jsonb;
begin
    select s.value into v from llm.settings as s where s.key = p_key;
    if not found then
        raise exception 'unknown llm setting "%"', p_key using errcode = '42704';
    end if;
    return v;
end;
$$;
comment on function llm_private.setting(text) is
'Implementation of llm.setting() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.setting(text) to authenticated, service_role;

-- Text form of a setting, for casting: llm.setting_text('x')::integer. plpgsql (not SQL) so
-- its plan is cached: it is on every hot path.
create or replace function llm_private.setting_text(p_key text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v text;
begin
    select s.value #>> '{}' into v from llm.settings as s where s.key = p_key;
    if not found then
        raise exception 'unknown llm setting "%"', p_key using errcode = '42704';
    end if;
    return v;
end;
$$;
comment on function llm_private.setting_text(text) is
'Implementation of llm.setting_text() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.setting_text(text) to authenticated, service_role;

-- Date-range arguments: both ends given and finite, at most 36,525 days (100 years) apart, so
-- work over a range is bounded by its size. Order is left to the caller.
create or replace function llm.check_day_range(
    p_from date, p_to date, p_from_field text, p_to_field text
)
returns void
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_from is null then
        raise exception '% must not be null', p_from_field using errcode = '22004';
    end if;
    if p_to is null then
        raise exception '% must not be null', p_to_field using errcode = '22004';
    end if;
    if not isfinite(p_from) then
        raise exception '% must be a finite date, got %', p_from_field, p_from using errcode = '22023';
    end if;
    if not isfinite(p_to) then
        raise exception '% must be a finite date, got %', p_to_field, p_to using errcode = '22023';
    end if;
    if abs(p_to - p_from) > 36525 then
        raise exception '% and % must be at most 36525 days (100 years) apart, got % days',
            p_from_field, p_to_field, abs(p_to - p_from)
            using errcode = '22023';
    end if;
end;
$$;
comment on function llm.check_day_range(date, date, text, text) is
'Raises 22004 when an end of a date range is NULL, 22023 when one is infinite or they are more than 36525 days (100 years) apart; messages name the fields.';
grant execute on function llm.check_day_range(date, date, text, text) to authenticated, service_role;
