-- Callers: the request role, backends, package admins.

-- The API role the request runs as, also inside SECURITY DEFINER functions. The caller
-- helpers are plpgsql so their plans are cached: they run on every request.
create or replace function llm.request_role()
returns text
language plpgsql
stable
set search_path = ''
as $$
begin
    return coalesce(nullif(current_setting('role', true), 'none'), session_user::text);
end;
$$;
comment on function llm.request_role() is
'Role of the caller: authenticated, anon, service_role, or the login role of a direct session.';
grant execute on function llm.request_role() to authenticated, service_role;

-- True for backends: the service role, the database owner, pg_cron jobs.
create or replace function llm.is_backend()
returns boolean
language plpgsql
stable
set search_path = ''
as $$
begin
    return llm.request_role() not in ('anon', 'authenticated');
end;
$$;
comment on function llm.is_backend() is
'True unless the caller is anon or authenticated (service_role, postgres, pg_cron jobs).';
grant execute on function llm.is_backend() to authenticated, service_role;

-- Package admin check used by every admin policy.
create or replace function llm.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    if llm.request_role() <> 'authenticated' then
        return false;
    end if;
    return coalesce(
        (auth.jwt() -> 'app_metadata' -> llm.setting_text('admin_claim')) = 'true'::jsonb, false
    )
    or exists (select from llm.admins as a where a.user_id = auth.uid());
end;
$$;
comment on function llm.is_admin() is
'True when the authenticated caller is listed in llm.admins or has app_metadata.<admin_claim> = true.';
grant execute on function llm.is_admin() to authenticated, service_role;

-- Raises 42501 unless the caller is a backend or a package admin.
create or replace function llm.require_admin(p_action text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
    if not (llm.is_backend() or llm.is_admin()) then
        raise exception 'only package admins or the service role may %', p_action
            using errcode = '42501';
    end if;
end;
$$;
comment on function llm.require_admin(text) is
'Raises insufficient_privilege (42501) unless the caller is the service role or a package admin.';
grant execute on function llm.require_admin(text) to authenticated, service_role;
