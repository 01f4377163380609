-- Resolving a conversation or message id (UUID or client id) for the caller.

-- The one place that turns a session/conversation id into a conversation the caller may use:
-- UUID or client id; unknown, expired, deleted or someone else's all raise the same P0002.
create or replace function llm.find_conversation(
    p_id text, p_field text, p_user_id text, p_write boolean, p_deleted boolean default false
)
returns llm.conversations
language plpgsql
set search_path = ''
as $$
declare
    v_conv llm.conversations;
    v_uuid uuid;
    v_owner uuid;
    v_backend boolean := llm.is_backend();
begin
    if p_id is null or p_id !~ '\S' then
        raise exception '% must not be null or blank', p_field using errcode = '22004';
    end if;
    if not v_backend and (llm.request_role() <> 'authenticated' or auth.uid() is null) then
        raise exception 'sign in to use conversations' using errcode = '42501';
    end if;
    if p_user_id is not null then
        v_owner := llm.resolve_user(p_user_id, not p_write);
    end if;
    if p_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        v_uuid := p_id::uuid;
    end if;
    if p_write then
        select c.* into v_conv from llm.conversations as c
        where c.id = v_uuid or c.external_id = p_id
        for no key update;
    else
        select c.* into v_conv from llm.conversations as c
        where c.id = v_uuid or c.external_id = p_id;
    end if;
    if not found
        or (v_conv.deleted_at is not null and not p_deleted)
        or v_conv.expires_at <= now()
        or (v_owner is not null and v_conv.user_id is distinct from v_owner)
        or (
            not v_backend and v_conv.user_id is distinct from auth.uid()
            and (p_write or not llm_private.is_admin())
        )
        then
        raise exception '% % not found', p_field, quote_literal(p_id)
            using errcode = 'P0002',
            hint = 'a conversation that does not exist, expired, was deleted or is not yours';
    end if;
    return v_conv;
end;
$$;
comment on function llm.find_conversation(text, text, text, boolean, boolean) is
'Resolves a UUID or client id to a conversation the caller may read (or write, locking it); raises P0002 otherwise, 22004 for NULL, 42501 for anon.';

-- Finds the conversation of a message for the caller (locking it for writes).
create or replace function llm.find_message_conversation(p_message_id uuid, p_write boolean)
returns llm.conversations
language plpgsql
set search_path = ''
as $$
declare
    v_conv_id uuid;
begin
    if p_message_id is null then
        raise exception 'message_id must not be null' using errcode = '22004';
    end if;
    select m.conversation_id into v_conv_id from llm.messages as m where m.id = p_message_id;
    if found then
        begin
            return llm.find_conversation(v_conv_id::text, 'conversation', null, p_write);
        exception when no_data_found then
            null;  -- reported below like an unknown message, so nothing leaks
        end;
    end if;
    raise exception 'message_id % not found', p_message_id using errcode = 'P0002';
end;
$$;
comment on function llm.find_message_conversation(uuid, boolean) is
'Conversation of a message the caller may use (P0002 for unknown or not theirs, 22004 for NULL).';
