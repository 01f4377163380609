-- Settings: value checks, declaration and typed reads; the JSON-object argument check.

-- Validates a value against a setting type so a bad value is refused before it is stored.
create or replace function llm.check_setting_value(p_key text, p_type text, p_value jsonb)
returns jsonb
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_text text := p_value #>> '{}';
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        raise exception 'setting % must not be null', p_key using errcode = '22023';
    end if;
    if p_type = 'boolean' and jsonb_typeof(p_value) <> 'boolean' then
        raise exception 'setting % must be a boolean, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'integer' and (jsonb_typeof(p_value) <> 'number' or v_text !~ '^-?\d+$') then
        raise exception 'setting % must be an integer, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'numeric' and jsonb_typeof(p_value) <> 'number' then
        raise exception 'setting % must be a number, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type in ('text', 'interval', 'cron') and jsonb_typeof(p_value) <> 'string' then
        raise exception 'setting % must be a string, got %', p_key, p_value
            using errcode = '22023';
    elsif p_type = 'interval' then
        begin
            perform v_text::interval;
        exception when others then
            raise exception 'setting % must be an interval, got %', p_key, p_value
                using errcode = '22023';
        end;
    elsif p_type = 'cron' and v_text !~ '^(@(hourly|daily|weekly|monthly|yearly)|\d+ seconds|(\S+\s+){4}\S+)$'
        then
        raise exception 'setting % must be a cron schedule, got %', p_key, p_value
            using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_setting_value(text, text, jsonb) is
'Raises 22023 unless the value fits the setting type; returns the value.';

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

-- Declares a setting (used by migrations). Re-running keeps the current value.
create or replace function llm.define_setting(
    p_key text, p_type text, p_default jsonb, p_description text
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform llm.check_setting_value(p_key, p_type, p_default);
    insert into llm.settings as s (key, value_type, value, default_value, description)
    values (p_key, p_type, p_default, p_default, p_description)
    on conflict (key) do update
        set value_type = excluded.value_type,
            default_value = excluded.default_value,
            description = excluded.description
        where (s.value_type, s.default_value, s.description)
            is distinct from (excluded.value_type, excluded.default_value, excluded.description);
end;
$$;
comment on function llm.define_setting(text, text, jsonb, text) is
'Declares a package setting with its type, default and description; keeps an existing value.';

-- Reads a setting; a typo in a key is an error, never a silent NULL.
create or replace function llm.setting(p_key text)
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
comment on function llm.setting(text) is 'Current value of a setting as JSON (42704 if unknown).';
grant execute on function llm.setting(text) to authenticated, service_role;

-- Text form of a setting, for casting: llm.setting_text('x')::integer. plpgsql (not SQL) so
-- its plan is cached: it is on every hot path.
create or replace function llm.setting_text(p_key text)
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
comment on function llm.setting_text(text) is 'Current value of a setting as text.';
grant execute on function llm.setting_text(text) to authenticated, service_role;
