-- The conversation API with client ids and TTLs (create_conversation, add_message, get_messages, ...).

-- Starts a conversation, optionally with the client's own id and a TTL; returns its id.
create or replace function llm_private.create_conversation(
    user_id text default null,
    conversation_id text default null,
    ttl_hours integer default null,
    metadata jsonb default null,
    title text default null
)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_ttl integer := coalesce(
        create_conversation.ttl_hours, llm_private.setting_text('conversation_ttl_hours')::integer
    );
    v_user uuid;
    v_conv llm.conversations;
begin
    if v_ttl < 0 or v_ttl > 876000 then
        raise exception 'ttl_hours must be 0 (never expires) or a number of hours up to 876000 (100 years), got %',
            v_ttl
            using errcode = '22023';
    end if;
    if create_conversation.user_id is not null or not llm.is_backend() then
        v_user := llm.resolve_user(create_conversation.user_id, false);
    end if;
    v_conv := llm.new_conversation(
        create_conversation.conversation_id, v_user, create_conversation.title,
        create_conversation.metadata,
        case when v_ttl > 0 then now() + make_interval(hours => v_ttl) end
    );
    return coalesce(v_conv.external_id, v_conv.id::text);
end;
$$;
comment on function llm_private.create_conversation(
    text, text, integer, jsonb, text
) is
'Implementation of llm.create_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.create_conversation(
    text, text, integer, jsonb, text
) to authenticated, service_role;

-- Reads one conversation.
create or replace function llm_private.get_conversation(conversation_id text)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
begin
    return llm.as_chat_session(
        llm.find_conversation(get_conversation.conversation_id, 'conversation_id', null, false)
    );
end;
$$;
comment on function llm_private.get_conversation(text) is
'Implementation of llm.get_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_conversation(text) to authenticated, service_role;

-- A user's conversations, most recently active first.
create or replace function llm_private.get_user_conversations(
    user_id text default null, "limit" integer default 10, include_archived boolean default false
)
returns setof llm.chat_session
language sql
security definer
set search_path = ''
as $$
    select s.*
    from llm.list_conversations(
        llm.resolve_user(get_user_conversations.user_id, true),
        llm.check_page_arg(get_user_conversations."limit", 'limit'), 0,
        coalesce(get_user_conversations.include_archived, false)
    ) as c
    cross join lateral llm.as_chat_session(c) as s;
$$;
comment on function llm_private.get_user_conversations(
    text, integer, boolean
) is
'Implementation of llm.get_user_conversations() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_user_conversations(
    text, integer, boolean
) to authenticated, service_role;

-- Appends a message to a conversation (conversation API names).
create or replace function llm_private.add_message(
    conversation_id text,
    role text,
    content text,
    metadata jsonb default null,
    model text default null,
    tokens integer default null,
    prompt_tokens integer default null,
    completion_tokens integer default null
)
returns llm.chat_message
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        add_message.conversation_id, 'conversation_id', null, true
    );
begin
    return llm.as_chat_message(
        llm.insert_message(
            v_conv.id, false, null, add_message.role, add_message.content, add_message.metadata,
            add_message.model, add_message.tokens, add_message.prompt_tokens,
            add_message.completion_tokens
        ),
        llm_private.user_label(v_conv.user_id)
    );
end;
$$;
comment on function llm_private.add_message(
    text, text, text, jsonb, text, integer, integer, integer
) is
'Implementation of llm.add_message() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.add_message(
    text, text, text, jsonb, text, integer, integer, integer
) to authenticated, service_role;

-- The active branch, paginated by keyset: the latest messages, or those just before/after one.
create or replace function llm_private.get_messages(
    conversation_id text, "limit" integer default 10, before uuid default null, after uuid default null
)
returns setof llm.chat_message
language sql
security definer
set search_path = ''
as $$
    select p.*
    from llm.page_messages(
        get_messages.conversation_id, 'conversation_id', null, get_messages."limit", false, null,
        get_messages.before, get_messages.after
    ) as p;
$$;
comment on function llm_private.get_messages(
    text, integer, uuid, uuid
) is
'Implementation of llm.get_messages() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_messages(
    text, integer, uuid, uuid
) to authenticated, service_role;

-- Pushes a conversation's expiry further out.
create or replace function llm_private.extend_ttl(conversation_id text, hours integer)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations;
begin
    if extend_ttl.hours is null then
        raise exception 'hours must not be null' using errcode = '22004';
    end if;
    if extend_ttl.hours <= 0 or extend_ttl.hours > 876000 then
        raise exception 'hours must be a positive number up to 876000 (100 years), got %', extend_ttl.hours
            using errcode = '22023';
    end if;
    v_conv := llm.find_conversation(extend_ttl.conversation_id, 'conversation_id', null, true);
    if v_conv.expires_at + make_interval(hours => extend_ttl.hours) > now() + interval '876000 hours' then
        raise exception 'hours: the conversation would expire more than 876000 hours (100 years) from now'
            using errcode = '22023';
    end if;
    update llm.conversations as c
    set expires_at = c.expires_at + make_interval(hours => extend_ttl.hours), updated_at = now()
    where c.id = v_conv.id
    returning c.* into v_conv;
    return llm.as_chat_session(v_conv);
end;
$$;
comment on function llm_private.extend_ttl(text, integer) is
'Implementation of llm.extend_ttl() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.extend_ttl(text, integer) to authenticated, service_role;

-- Removes every message of a conversation and resets its counters; the conversation stays.
create or replace function llm_private.clear_conversation(conversation_id text)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        clear_conversation.conversation_id, 'conversation_id', null, true
    );
    v_count integer;
begin
    update llm.conversations as c
    set message_count = 0, prompt_tokens = 0, completion_tokens = 0, total_tokens = 0,
        last_seq = 0, active_leaf_id = null, last_message_at = null, updated_at = now()
    where c.id = v_conv.id;
    delete from llm.messages as m where m.conversation_id = v_conv.id;
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function llm_private.clear_conversation(text) is
'Implementation of llm.clear_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.clear_conversation(text) to authenticated, service_role;

-- Archives (or unarchives) a conversation: it leaves the lists but stays readable.
create or replace function llm_private.archive_conversation(conversation_id text, archived boolean default true)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        archive_conversation.conversation_id, 'conversation_id', null, true
    );
begin
    if archive_conversation.archived is null then
        raise exception 'archived must not be null' using errcode = '22004';
    end if;
    update llm.conversations as c
    set archived_at = case when archive_conversation.archived then coalesce(c.archived_at, now()) end
    where c.id = v_conv.id
    returning c.* into v_conv;
    return llm.as_chat_session(v_conv);
end;
$$;
comment on function llm_private.archive_conversation(text, boolean) is
'Implementation of llm.archive_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.archive_conversation(text, boolean) to authenticated, service_role;

-- Soft-deletes a conversation; purge_deleted_conversations removes it after the retention.
create or replace function llm_private.delete_conversation(conversation_id text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        delete_conversation.conversation_id, 'conversation_id', null, true
    );
begin
    update llm.conversations as c set deleted_at = now() where c.id = v_conv.id;
    return true;
end;
$$;
comment on function llm_private.delete_conversation(text) is
'Implementation of llm.delete_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.delete_conversation(text) to authenticated, service_role;

-- Undoes a soft delete within the retention period.
create or replace function llm_private.restore_conversation(conversation_id text)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        restore_conversation.conversation_id, 'conversation_id', null, true, true
    );
begin
    update llm.conversations as c set deleted_at = null where c.id = v_conv.id
    returning c.* into v_conv;
    return llm.as_chat_session(v_conv);
end;
$$;
comment on function llm_private.restore_conversation(text) is
'Implementation of llm.restore_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.restore_conversation(text) to authenticated, service_role;
