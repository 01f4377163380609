-- Callers: the request role, backends, package admins.

-- The API role the request runs as, also inside SECURITY DEFINER functions, classified by an
-- allow-list: backends keep their own name; any other role (a custom JWT role from Supabase's
-- custom access token hook, which inherits authenticated) is the signed-in user its JWT
-- carries ('authenticated'), or nobody ('anon') when it does not inherit authenticated.
-- The caller helpers are plpgsql so their plans are cached: they run on every request.
create or replace function llm.request_role()
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
    v_role text := coalesce(nullif(current_setting('role', true), 'none'), session_user::text);
begin
    if v_role in ('authenticated', 'anon', 'service_role', 'postgres', 'supabase_admin') then
        return v_role;
    end if;
    -- the owner of schema llm (pg_cron jobs run as it), of the database, and superusers
    if exists (
        select from pg_catalog.pg_roles as r
        where r.rolname = v_role
            and (
                r.rolsuper
                or r.oid = (select n.nspowner from pg_catalog.pg_namespace as n where n.nspname = 'llm')
                or r.oid = (
                    select d.datdba from pg_catalog.pg_database as d
                    where d.datname = pg_catalog.current_database()
                )
            )
    ) then
        return v_role;
    end if;
    if pg_catalog.pg_has_role(v_role, 'authenticated', 'MEMBER') then
        return 'authenticated';
    end if;
    return 'anon';
end;
$$;
comment on function llm.request_role() is
'Role of the caller as the package treats it: service_role, postgres, supabase_admin, the owner of schema llm or of the database, or a superuser by name (backends); any other role that inherits authenticated (a custom JWT role) is ''authenticated'', the user of its JWT sub; any other is ''anon''.';
grant execute on function llm.request_role() to authenticated, service_role;

-- True for backends, by an allow-list (see llm.request_role()): a custom JWT role never is one.
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
'True for backends only: service_role, postgres, supabase_admin, the owner of schema llm or of the database (pg_cron jobs run as it), superusers. Custom JWT roles are signed-in users, never backends.';
grant execute on function llm.is_backend() to authenticated, service_role;

-- Package admin check used by every admin policy.
create or replace function llm_private.is_admin()
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
        (auth.jwt() -> 'app_metadata' -> llm_private.setting_text('admin_claim')) = 'true'::jsonb, false
    )
    or exists (select from llm.admins as a where a.user_id = auth.uid());
end;
$$;
comment on function llm_private.is_admin() is
'Implementation of llm.is_admin() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.is_admin() to authenticated, service_role;

-- Raises 42501 unless the caller is a backend or a package admin.
create or replace function llm.require_admin(p_action text)
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
    if not (llm.is_backend() or llm_private.is_admin()) then
        raise exception 'only package admins or the service role may %', p_action
            using errcode = '42501';
    end if;
end;
$$;
comment on function llm.require_admin(text) is
'Raises insufficient_privilege (42501) unless the caller is the service role or a package admin.';
grant execute on function llm.require_admin(text) to authenticated, service_role;
