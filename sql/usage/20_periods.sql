-- Periods: day, week, month and year bounds in the configured time zone; effective quotas.

-- Checks a period name argument so a typo is an error naming the field, not an empty result.
create or replace function llm.check_period_type(p_field text, p_value text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null then
        raise exception '% is required (daily, weekly, monthly or yearly)', p_field
            using errcode = '22004';
    end if;
    if p_value not in ('daily', 'weekly', 'monthly', 'yearly') then
        raise exception '% must be daily, weekly, monthly or yearly, got %', p_field, quote_literal(p_value)
            using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_period_type(text, text) is
'Returns the period type, or raises 22004 (NULL) or 22023 (not daily, weekly, monthly or yearly) naming the field.';
grant execute on function llm.check_period_type(text, text) to authenticated, service_role;

-- First day of the period containing a local time: days, ISO weeks (Monday), months, years.
-- The small helpers here are plpgsql: with its pinned search_path a SQL function is not
-- inlined, and is parsed and planned again by every statement that calls it.
create or replace function llm.period_floor(p_period_type text, p_local timestamp)
returns date
language plpgsql
immutable
set search_path = ''
as $$
begin
    return case p_period_type
        when 'daily' then p_local::date
        when 'weekly' then pg_catalog.date_trunc('week', p_local)::date
        when 'monthly' then pg_catalog.date_trunc('month', p_local)::date
        when 'yearly' then pg_catalog.date_trunc('year', p_local)::date
    end;
end;
$$;
comment on function llm.period_floor(text, timestamp) is
'First day of the daily, weekly (ISO, Monday), monthly or yearly period containing a local time.';
grant execute on function llm.period_floor(text, timestamp) to authenticated, service_role;

-- Length of a period, to step from one period start to the next.
create or replace function llm.period_step(p_period_type text)
returns interval
language plpgsql
immutable
set search_path = ''
as $$
begin
    return case p_period_type
        when 'daily' then interval '1 day'
        when 'weekly' then interval '7 days'
        when 'monthly' then interval '1 month'
        when 'yearly' then interval '1 year'
    end;
end;
$$;
comment on function llm.period_step(text) is
'Length of a daily, weekly, monthly or yearly period.';
grant execute on function llm.period_step(text) to authenticated, service_role;

-- The four periods an instant belongs to, so folding and reading bucket usage the same way.
-- Statements that bucket many rows (the fold, llm.usage_live) spell the same four values out
-- in place: with its pinned search_path this function is called, not inlined.
create or replace function llm.usage_periods(p_at timestamptz, p_tz text)
returns table (period_type text, period_start date)
language plpgsql
immutable
rows 4
set search_path = ''
as $$
declare
    v_local timestamp := pg_catalog.timezone(p_tz, p_at);
begin
    return query
    values
    ('daily', v_local::date),
    ('weekly', pg_catalog.date_trunc('week', v_local)::date),
    ('monthly', pg_catalog.date_trunc('month', v_local)::date),
    ('yearly', pg_catalog.date_trunc('year', v_local)::date);
end;
$$;
comment on function llm.usage_periods(timestamptz, text) is
'The daily, weekly (ISO, Monday), monthly and yearly period starts of an instant in a time zone.';
grant execute on function llm.usage_periods(timestamptz, text) to authenticated, service_role;

-- Start of the period containing an instant, in the period_timezone setting.
create or replace function llm.usage_period_start(p_period_type text, p_at timestamptz)
returns date
language plpgsql
stable
set search_path = ''
as $$
begin
    return llm.period_floor(p_period_type, p_at at time zone llm_private.setting_text('period_timezone'));
end;
$$;
comment on function llm.usage_period_start(text, timestamptz) is
'First day of the daily, weekly, monthly or yearly period containing an instant, in the period_timezone setting.';
grant execute on function llm.usage_period_start(text, timestamptz) to authenticated, service_role;

-- Instants where a period starts and ends, for reset times and raw-log windows.
create or replace function llm.usage_period_bounds(
    p_period_type text, p_period_start date, out starts_at timestamptz, out ends_at timestamptz
)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_tz text := llm_private.setting_text('period_timezone');
begin
    -- a NULL or unknown argument is an error: through the Data API a NULL row would arrive as
    -- an object whose fields are null
    perform llm.check_period_type('p_period_type', p_period_type);
    if p_period_start is null then
        raise exception 'p_period_start is required' using errcode = '22004';
    end if;
    starts_at := p_period_start::timestamp at time zone v_tz;
    ends_at := (p_period_start + llm.period_step(p_period_type))::timestamp at time zone v_tz;
end;
$$;
comment on function llm.usage_period_bounds(text, date) is
'Start (included) and end (excluded) instants of the period beginning on a day, in the period_timezone setting. 22004 for a NULL argument, 22023 for an unknown period type.';
grant execute on function llm.usage_period_bounds(text, date) to authenticated, service_role;

-- How far back the raw request log is complete, so recomputing never erases folded history.
create or replace function llm.raw_usage_kept_since()
returns timestamptz
language sql
stable
set search_path = ''
as $$
    select case
        when llm_private.setting_text('request_log_retention_days')::integer <= 0 then '-infinity'::timestamptz
        else ((now() at time zone 'UTC')::date - llm_private.setting_text('request_log_retention_days')::integer)
            ::timestamp at time zone 'UTC'
    end;
$$;
comment on function llm.raw_usage_kept_since() is
'Earliest instant from which the raw request log is still complete (request_log_retention_days); -infinity when it is kept forever.';

-- The quota row in force for each period of a user: their own, else the default. plpgsql so
-- its plan is cached across calls (it runs on every reservation).
create or replace function llm.effective_quotas(p_user_id uuid)
returns setof llm.usage_quotas
language plpgsql
stable
rows 4
set search_path = ''
as $$
begin
    return query
    select distinct on (q.quota_period) q.*
    from llm.usage_quotas as q
    where q.user_id = p_user_id or q.user_id is null
    order by q.quota_period, q.user_id nulls last;
end;
$$;
comment on function llm.effective_quotas(uuid) is
'For each quota period, the user''s own quota row if any, else the default row (user_id NULL).';
grant execute on function llm.effective_quotas(uuid) to authenticated, service_role;
