-- Repairing what lives outside schema llm: realtime publication membership, the trigger on
-- auth.users and the pg_cron jobs, which a schema-only dump (pg_dump --schema=llm) leaves out.

-- Re-establishes every piece of the package outside schema llm; idempotent. Re-applying the
-- bundle (dist/llm.sql) does the same.
create or replace function llm.repair_installation()
returns table (piece text, status text)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_job record;
begin
    perform llm.require_admin('repair the installation');

    piece := 'publication supabase_realtime: llm.messages';
    if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
        status := 'skipped: no publication supabase_realtime';
    elsif exists (
        select from pg_catalog.pg_publication_tables
        where pubname = 'supabase_realtime' and schemaname = 'llm' and tablename = 'messages'
    ) then
        status := 'present';
    else
        execute 'alter publication supabase_realtime add table llm.messages';
        status := 'added';
    end if;
    return next;

    piece := 'trigger llm_delete_user_conversations on auth.users';
    if pg_catalog.to_regclass('auth.users') is null then
        status := 'skipped: no table auth.users';
    elsif exists (
        select from pg_catalog.pg_trigger
        where tgrelid = 'auth.users'::regclass and tgname = 'llm_delete_user_conversations'
    ) then
        status := 'present';
    else
        execute 'create trigger llm_delete_user_conversations after delete on auth.users'
            ' for each row execute function llm.delete_user_conversations()';
        status := 'added';
    end if;
    return next;

    for v_job in select s.job_name, s.scheduled from llm.sync_jobs() as s loop
        piece := 'job ' || v_job.job_name;
        status := case when v_job.scheduled then 'scheduled' else 'not scheduled (disabled or no pg_cron)' end;
        return next;
    end loop;
end;
$$;
comment on function llm.repair_installation() is
'Re-establishes what lives outside schema llm after a schema-only restore: llm.messages in the supabase_realtime publication, the trigger on auth.users, the pg_cron jobs (llm.sync_jobs()); idempotent, one row per piece with what it found or did. Re-applying dist/llm.sql does the same. Admins and service role.';
grant execute on function llm.repair_installation() to service_role;
