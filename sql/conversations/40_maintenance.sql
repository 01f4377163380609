-- Statistics, TTL cleanup, purging soft-deleted conversations, deleted auth users.

-- Conversation statistics: global for backends and admins, the caller's own for users.
create or replace function llm_private.conversation_stats()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_all boolean := llm.is_backend() or llm_private.is_admin();
    v_result jsonb;
begin
    if not v_all and (llm.request_role() <> 'authenticated' or auth.uid() is null) then
        raise exception 'sign in to use conversations' using errcode = '42501';
    end if;
    select jsonb_build_object(
        'total_conversations', count(*) filter (where live),
        'total_messages', coalesce(sum(c.message_count) filter (where live), 0),
        'total_tokens', coalesce(sum(c.total_tokens) filter (where live), 0),
        'archived_conversations', count(*) filter (where live and c.archived_at is not null),
        'expired_conversations', count(*) filter (where c.deleted_at is null and not live),
        'deleted_conversations', count(*) filter (where c.deleted_at is not null),
        'ttl_hours', llm_private.setting_text('conversation_ttl_hours')::integer
    )
    into v_result
    from llm.conversations as c
    cross join lateral (
        select c.deleted_at is null and (c.expires_at is null or c.expires_at > now()) as live
    ) as l
    where v_all or c.user_id = auth.uid();
    return v_result;
end;
$$;
comment on function llm_private.conversation_stats() is
'Implementation of llm.conversation_stats() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.conversation_stats() to authenticated, service_role;

-- Removes expired conversations and their messages (job llm_cleanup_expired_conversations).
create or replace function llm_private.cleanup_expired_conversations()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count integer;
begin
    perform llm.require_admin('clean up expired conversations');
    delete from llm.conversations as c where c.expires_at <= now();
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function llm_private.cleanup_expired_conversations() is
'Implementation of llm.cleanup_expired_conversations() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.cleanup_expired_conversations() to authenticated, service_role;

-- Removes soft-deleted conversations older than the retention (job llm_purge_deleted_conversations).
create or replace function llm_private.purge_deleted_conversations()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count integer;
begin
    perform llm.require_admin('purge deleted conversations');
    delete from llm.conversations as c
    where c.deleted_at <= now() - llm_private.setting_text('deleted_conversation_retention')::interval;
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function llm_private.purge_deleted_conversations() is
'Implementation of llm.purge_deleted_conversations() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.purge_deleted_conversations() to authenticated, service_role;

-- Deleting an auth user deletes their conversations (no foreign key: owners may be non-auth ids).
create or replace function llm.delete_user_conversations()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    delete from llm.conversations as c where c.user_id = old.id;
    return old;
end;
$$;
comment on function llm.delete_user_conversations() is
'Trigger on auth.users: removes the deleted user''s conversations, messages and summaries.';

create or replace trigger llm_delete_user_conversations
after delete on auth.users
for each row execute function llm.delete_user_conversations();
