-- Typed values read from a JSON document (import_conversation): bad values raise 22023
-- naming the field, never a raw cast error.

-- A UUID from JSON: NULL when absent or null, else a UUID string.
create or replace function llm.json_uuid(p_value jsonb, p_field text)
returns uuid
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if jsonb_typeof(p_value) <> 'string'
        or (p_value #>> '{}') !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        raise exception '% must be a UUID, got %', p_field, left(p_value::text, 100)
            using errcode = '22023';
    end if;
    return (p_value #>> '{}')::uuid;
end;
$$;
comment on function llm.json_uuid(jsonb, text) is
'A UUID from JSON: NULL when absent or null; 22023 naming the field for anything but a UUID string.';

-- A timestamp from JSON: NULL when absent or null, else a timestamp string of the years 1 to 9999.
create or replace function llm.json_timestamptz(p_value jsonb, p_field text)
returns timestamptz
language plpgsql
stable
set search_path = ''
as $$
declare
    v_at timestamptz;
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if jsonb_typeof(p_value) = 'string' then
        begin
            v_at := (p_value #>> '{}')::timestamptz;
        exception when invalid_datetime_format or datetime_field_overflow or invalid_text_representation
            or invalid_parameter_value then
            v_at := null;
        end;
    end if;
    -- years 1 to 9999: what every client (JavaScript, Python) can read back
    if v_at is null or v_at not between '0001-01-01 00:00:00+00' and '9999-12-31 23:59:59+00' then
        raise exception '% must be a timestamp between the years 1 and 9999 such as 2025-10-04T10:00:00Z, got %',
            p_field,
            left(p_value::text, 100)
            using errcode = '22023';
    end if;
    return v_at;
end;
$$;
comment on function llm.json_timestamptz(jsonb, text) is
'A timestamp from a JSON string, years 1 to 9999: NULL when absent or null; 22023 naming the field otherwise.';

-- A boolean from JSON: NULL when absent or null, else true or false.
create or replace function llm.json_boolean(p_value jsonb, p_field text)
returns boolean
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if jsonb_typeof(p_value) <> 'boolean' then
        raise exception '% must be true or false, got %', p_field, left(p_value::text, 100)
            using errcode = '22023';
    end if;
    return p_value::boolean;
end;
$$;
comment on function llm.json_boolean(jsonb, text) is
'A boolean from JSON: NULL when absent or null; 22023 naming the field for anything but true or false.';

-- A required string from JSON: 22004 when absent or null, 22023 when not a string.
create or replace function llm.json_text(p_value jsonb, p_field text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        raise exception '% must not be null', p_field using errcode = '22004';
    end if;
    if jsonb_typeof(p_value) <> 'string' then
        raise exception '% must be a string, got %', p_field, jsonb_typeof(p_value)
            using errcode = '22023';
    end if;
    return p_value #>> '{}';
end;
$$;
comment on function llm.json_text(jsonb, text) is
'A required string from JSON: 22004 naming the field when absent or null, 22023 when not a string.';
