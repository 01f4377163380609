-- Retention of old rollups.

-- Drops old daily, weekly and monthly rollups; yearly ones (folded directly) are kept.
create or replace function llm_private.apply_usage_rollup_retention()
returns table (period_type text, kept_from date, rollup_rows bigint, member_rows bigint)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_today date := llm.usage_period_start('daily', now());
    v_keep integer;
    p record;
begin
    perform llm.require_admin('apply usage rollup retention');
    for p in
        select *
        from (
            values
            ('daily', 'usage_rollup_daily_retention_days', interval '1 day'),
            ('weekly', 'usage_rollup_weekly_retention_weeks', interval '7 days'),
            ('monthly', 'usage_rollup_monthly_retention_months', interval '1 month')
        ) as v (period_type, setting, unit)
    loop
        v_keep := llm_private.setting_text(p.setting)::integer;
        continue when v_keep <= 0;
        period_type := p.period_type;
        kept_from := (llm.period_floor(p.period_type, v_today) - v_keep * p.unit)::date;
        delete from llm.usage_rollups as r
        where r.period_type = p.period_type and r.period_start < kept_from;
        get diagnostics rollup_rows = row_count;
        delete from llm.usage_rollup_members as m
        where m.period_type = p.period_type and m.period_start < kept_from;
        get diagnostics member_rows = row_count;
        return next;
    end loop;
end;
$$;
comment on function llm_private.apply_usage_rollup_retention() is
'Implementation of llm.apply_usage_rollup_retention() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.apply_usage_rollup_retention() to authenticated, service_role;
