-- The API (settings, callers, users, settings api, jobs, job health):
-- SECURITY INVOKER entry points of schema llm, each calling its implementation in llm_private.

create or replace function llm.setting(p_key text)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
begin
    perform llm.require_admin('read settings');
    return llm_private.setting(p_key => setting.p_key);
end;
$$;
comment on function llm.setting(text) is
'Current value of a setting as JSON (42704 if unknown). Package admins and the service role only (42501), as llm.settings itself.';
grant execute on function llm.setting(text) to authenticated, service_role;

create or replace function llm.setting_text(p_key text)
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
    perform llm.require_admin('read settings');
    return llm_private.setting_text(p_key => setting_text.p_key);
end;
$$;
comment on function llm.setting_text(text) is
'Current value of a setting as text (42704 if unknown). Package admins and the service role only (42501).';
grant execute on function llm.setting_text(text) to authenticated, service_role;

create or replace function llm.is_admin()
returns boolean
language sql
stable
set search_path = ''
as $$
    select llm_private.is_admin();
$$;
comment on function llm.is_admin() is
'True when the authenticated caller is listed in llm.admins or has app_metadata.<admin_claim> = true.';
grant execute on function llm.is_admin() to authenticated, service_role;

create or replace function llm.user_uuid(identifier text)
returns uuid
language sql
volatile
set search_path = ''
as $$
    select llm_private.user_uuid(identifier => user_uuid.identifier);
$$;
comment on function llm.user_uuid(text) is
'UUIDs pass through; any other non-empty identifier maps to uuid_v5(NAMESPACE_DNS, identifier), remembered in llm.user_aliases when a backend calls. NULL or blank raises 22023.';
grant execute on function llm.user_uuid(text) to authenticated, service_role;

create or replace function llm.user_label(p_user_id uuid)
returns text
language sql
stable
set search_path = ''
as $$
    select llm_private.user_label(p_user_id => user_label.p_user_id);
$$;
comment on function llm.user_label(uuid) is
'Original identifier of a user (e.g. user-123) when it was not a UUID, else the UUID as text. A signed-in user sees only their own identifier: for anyone else it is the UUID as text.';
grant execute on function llm.user_label(uuid) to authenticated, service_role;

create or replace function llm.set_setting(key text, value jsonb)
returns jsonb
language sql
volatile
set search_path = ''
as $$
    select llm_private.set_setting(key => set_setting.key, value => set_setting.value);
$$;
comment on function llm.set_setting(text, jsonb) is
'Sets a package setting after checking its type and declared range (22023 naming the setting and the range) and name (42704); admins and service role only.';
grant execute on function llm.set_setting(text, jsonb) to authenticated, service_role;

create or replace function llm.reset_setting(key text)
returns jsonb
language sql
volatile
set search_path = ''
as $$
    select llm_private.reset_setting(key => reset_setting.key);
$$;
comment on function llm.reset_setting(text) is 'Restores a setting to its default value.';
grant execute on function llm.reset_setting(text) to authenticated, service_role;

create or replace function llm.set_job_enabled(job_name text, enabled boolean)
returns boolean
language sql
volatile
set search_path = ''
as $$
    select llm_private.set_job_enabled(
        job_name => set_job_enabled.job_name,
        enabled => set_job_enabled.enabled
    );
$$;
comment on function llm.set_job_enabled(text, boolean) is
'Enables or disables a package job and resyncs pg_cron; admins and service role only.';
grant execute on function llm.set_job_enabled(text, boolean) to authenticated, service_role;

create or replace function llm.job_health()
returns table (
    job_name text, enabled boolean, schedule text, scheduled boolean, points_here boolean,
    last_run_at timestamptz, last_status text, last_error text, failing_since timestamptz,
    failed_runs bigint
)
language sql
stable
set search_path = ''
as $$
    select * from llm_private.job_health();
$$;
comment on function llm.job_health() is
'Each package job: enabled, schedule, scheduled in pg_cron, points_here (scheduled for this server''s host and port: false means it cannot run until llm.sync_jobs() repairs it), last run (time, status, error) and, while failing, since when and how many failed runs since the last success. Admins and service role.';
grant execute on function llm.job_health() to authenticated, service_role;
