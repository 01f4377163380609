-- The job registry mirrored into pg_cron by name.

-- Declares a maintenance job (used by migrations) and schedules it when pg_cron is present.
create or replace function llm.register_job(
    p_name text, p_schedule_setting text, p_command text, p_description text
)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into llm.jobs as j (name, schedule_setting, command, description)
    values (p_name, p_schedule_setting, p_command, p_description)
    on conflict (name) do update
        set schedule_setting = excluded.schedule_setting,
            command = excluded.command,
            description = excluded.description
        where (j.schedule_setting, j.command, j.description)
            is distinct from (excluded.schedule_setting, excluded.command, excluded.description);
    perform llm.sync_jobs();
end;
$$;
comment on function llm.register_job(text, text, text, text) is
'Declares a named maintenance job whose schedule lives in a cron setting; idempotent.';

-- Mirrors llm.jobs into pg_cron: schedules enabled jobs, unschedules disabled ones.
create or replace function llm.sync_jobs()
returns table (job_name text, schedule text, command text, scheduled boolean)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_cron boolean := exists (select from pg_catalog.pg_extension where extname = 'pg_cron');
    v_cron_schema text := 'cron';  -- resolved at run time: pg_cron may be absent
    v_port integer := current_setting('port')::integer;
    v_host text := coalesce(nullif(current_setting('cron.host', true), ''), 'localhost');
    j record;
begin
    for j in
        select jb.name, jb.command, jb.enabled, llm_private.setting_text(jb.schedule_setting) as sched
        from llm.jobs as jb
        order by jb.name
    loop
        if v_cron and j.enabled then
            -- pg_cron connects to the host and port a job was scheduled with, and replacing a
            -- named job keeps them: after a restart on another port, a restore or a move, drop
            -- the stale job so it is scheduled again with this server's (cron.host, port)
            execute format(
                'select %1$I.unschedule(c.jobid) from %1$I.job as c where c.jobname = $1'
                ' and (c.nodeport is distinct from $2 or c.nodename is distinct from $3)',
                v_cron_schema
            ) using j.name, v_port, v_host;
            -- named pg_cron jobs are replaced in place, so this is idempotent
            execute format('select %I.schedule($1, $2, $3)', v_cron_schema)
                using j.name, j.sched, j.command;
        elsif v_cron then
            execute format('select %1$I.unschedule(jobid) from %1$I.job where jobname = $1', v_cron_schema)
                using j.name;
        end if;
        job_name := j.name;
        schedule := j.sched;
        command := j.command;
        scheduled := v_cron and j.enabled;
        return next;
    end loop;
end;
$$;
comment on function llm.sync_jobs() is
'Schedules every enabled llm job in pg_cron (by name, idempotent), rescheduling any that points at another host or port than this server''s (after a restart on a new port or a restore); without pg_cron reports them as unscheduled.';
grant execute on function llm.sync_jobs() to service_role;

-- Turns a job on or off.
create or replace function llm_private.set_job_enabled(job_name text, enabled boolean)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform llm.require_admin('change jobs');
    update llm.jobs as j set enabled = set_job_enabled.enabled
    where j.name = set_job_enabled.job_name;
    if not found then
        raise exception 'unknown llm job "%"', set_job_enabled.job_name using errcode = '42704';
    end if;
    perform llm.sync_jobs();
    return set_job_enabled.enabled;
end;
$$;
comment on function llm_private.set_job_enabled(text, boolean) is
'Implementation of llm.set_job_enabled() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.set_job_enabled(text, boolean) to authenticated, service_role;
