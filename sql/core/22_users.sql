-- User identifiers: any id maps to a UUID (llm.user_uuid), labels, the user_id argument.

-- Maps any user identifier to a UUID so non-UUID ids are never rejected or lost.
create or replace function llm_private.user_uuid(identifier text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_hash bytea;
    v_id uuid;
begin
    if identifier is null or identifier !~ '\S' then
        raise exception 'user_id must be a UUID or a non-empty identifier, got %',
            coalesce(quote_literal(identifier), 'NULL')
            using errcode = '22023';
    end if;
    if identifier ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return identifier::uuid;
    end if;
    -- RFC 4122 name-based UUID, version 5, in the DNS namespace: the same value as
    -- Python's uuid.uuid5(uuid.NAMESPACE_DNS, identifier).
    v_hash := extensions.digest(
        '\x6ba7b8109dad11d180b400c04fd430c8'::bytea || convert_to(identifier, 'UTF8'), 'sha1'
    );
    v_hash := set_byte(v_hash, 6, (get_byte(v_hash, 6) & 15) | 80);
    v_hash := set_byte(v_hash, 8, (get_byte(v_hash, 8) & 63) | 128);
    v_id := encode(substring(v_hash from 1 for 16), 'hex')::uuid;
    -- only backends record aliases: a signed-in user is a UUID already, and must not grow
    -- a shared table with made-up identifiers
    if llm.is_backend() and not exists (select from llm.user_aliases as a where a.user_id = v_id) then
        begin
            insert into llm.user_aliases (user_id, identifier)
            values (v_id, identifier)
            on conflict do nothing;
        exception when read_only_sql_transaction then
            null;  -- a read-only request still gets its UUID; the alias is stored on a write
        end;
    end if;
    return v_id;
end;
$$;
comment on function llm_private.user_uuid(text) is
'Implementation of llm.user_uuid() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.user_uuid(text) to authenticated, service_role;

-- Shows a user the way reports should: the original identifier when there is one, to callers
-- who may see that user (backends, admins, the user themself); anyone else gets the UUID text.
create or replace function llm_private.user_label(p_user_id uuid)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_label text;
begin
    if p_user_id is null then
        return null;
    end if;
    if p_user_id is not distinct from auth.uid() or llm.is_backend() or llm_private.is_admin() then
        select a.identifier into v_label from llm.user_aliases as a where a.user_id = p_user_id;
    end if;
    return coalesce(v_label, p_user_id::text);
end;
$$;
comment on function llm_private.user_label(uuid) is
'Implementation of llm.user_label() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.user_label(uuid) to authenticated, service_role;

-- Resolves the user_id argument of an API function for the current caller.
create or replace function llm.resolve_user(p_user_id text, p_admin_may_name_others boolean)
returns uuid
language plpgsql
set search_path = ''
as $$
declare
    v_uid uuid := auth.uid();
    v_user uuid;
begin
    if llm.is_backend() then
        if p_user_id is null then
            raise exception 'user_id is required when calling as %', llm.request_role()
                using errcode = '22023';
        end if;
        return llm_private.user_uuid(p_user_id);
    end if;
    if llm.request_role() <> 'authenticated' or v_uid is null then
        raise exception 'sign in to use this function' using errcode = '42501';
    end if;
    if p_user_id is null then
        return v_uid;
    end if;
    v_user := llm_private.user_uuid(p_user_id);
    if v_user <> v_uid and not (p_admin_may_name_others and llm_private.is_admin()) then
        raise exception 'user_id % is not the signed-in user', p_user_id
            using errcode = '42501';
    end if;
    return v_user;
end;
$$;
comment on function llm.resolve_user(text, boolean) is
'user_id argument handling: backends must name a user; authenticated callers default to auth.uid() and may name another user only if admin and allowed (else 42501).';
grant execute on function llm.resolve_user(text, boolean) to authenticated, service_role;
