-- Job health: each job's schedule, last run, last error and since when it fails, from pg_cron.

-- One row per package job: is it scheduled here (and pointing at this server), how did its
-- runs go (%1$I.job_run_details), and since when has it been failing.
create or replace function llm_private.job_health()
returns table (
    job_name text, enabled boolean, schedule text, scheduled boolean, points_here boolean,
    last_run_at timestamptz, last_status text, last_error text, failing_since timestamptz,
    failed_runs bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_cron boolean := exists (select from pg_catalog.pg_extension where extname = 'pg_cron');
    v_details boolean := pg_catalog.to_regclass('cron.job_run_details') is not null;
    v_cron_schema text := 'cron';  -- resolved at run time: pg_cron may be absent
    v_port integer := current_setting('port')::integer;
    v_host text := coalesce(nullif(current_setting('cron.host', true), ''), 'localhost');
begin
    perform llm.require_admin('read job health');
    if not v_cron or not v_details then
        -- without pg_cron (or before pg_cron 1.3, which has no run details) nothing is known
        return query
        select jb.name, jb.enabled, llm_private.setting_text(jb.schedule_setting), v_cron and jb.enabled, null::boolean,
            null::timestamptz, null::text, null::text, null::timestamptz, null::bigint
        from llm.jobs as jb
        order by jb.name;
        return;
    end if;
    return query execute format(
        $q$
        select jb.name, jb.enabled, llm_private.setting_text(jb.schedule_setting), c.jobid is not null,
            c.nodeport = $1 and c.nodename = $2,
            last.start_time, last.status, case when last.status = 'failed' then last.return_message end,
            fail.since, fail.runs
        from llm.jobs as jb
        left join %1$I.job as c on c.jobname = jb.name
        left join lateral (
            select d.start_time, d.status, d.return_message from %1$I.job_run_details as d
            where d.jobid = c.jobid
            order by d.start_time desc nulls last, d.runid desc
            limit 1
        ) as last on true
        left join lateral (
            -- the failed runs after the last success
            select min(d.start_time) as since, count(*) as runs from %1$I.job_run_details as d
            where d.jobid = c.jobid and d.status = 'failed'
                and d.start_time > coalesce((
                    select max(s.start_time) from %1$I.job_run_details as s
                    where s.jobid = c.jobid and s.status = 'succeeded'
                ), '-infinity')
        ) as fail on true
        order by jb.name
        $q$,
        v_cron_schema
    ) using v_port, v_host;
end;
$$;
comment on function llm_private.job_health() is
'Implementation of llm.job_health() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.job_health() to authenticated, service_role;
