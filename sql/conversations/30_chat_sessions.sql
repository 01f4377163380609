-- The chat-session API (create_chat_session, append_chat_message, get_chat_history, ...).

-- Starts a chat session for a user; chat sessions do not expire.
create or replace function llm_private.create_chat_session(
    user_id text default null, title text default null, metadata jsonb default null
)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
declare
    -- its own statement, so the alias of a non-UUID user_id is visible to the result below
    v_user uuid := llm.resolve_user(create_chat_session.user_id, false);
    v_conv llm.conversations;
begin
    v_conv := llm.new_conversation(
        null, v_user, create_chat_session.title, create_chat_session.metadata, null
    );
    return llm.as_chat_session(v_conv);
end;
$$;
comment on function llm_private.create_chat_session(text, text, jsonb) is
'Implementation of llm.create_chat_session() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.create_chat_session(text, text, jsonb) to authenticated, service_role;

-- Reads one session; user_id, when given, must be its owner (else not found).
create or replace function llm_private.get_chat_session(session_id text, user_id text default null)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
begin
    return llm.as_chat_session(
        llm.find_conversation(
            get_chat_session.session_id, 'session_id', get_chat_session.user_id, false
        )
    );
end;
$$;
comment on function llm_private.get_chat_session(text, text) is
'Implementation of llm.get_chat_session() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_chat_session(text, text) to authenticated, service_role;

-- Lists a user's live conversations, most recently active first.
create or replace function llm.list_conversations(
    p_user uuid, p_limit integer, p_offset integer, p_include_archived boolean
)
returns setof llm.conversations
language sql
stable
set search_path = ''
as $$
    select c.*
    from llm.conversations as c
    where
        c.user_id = p_user
        and c.deleted_at is null
        and (c.expires_at is null or c.expires_at > now())
        and (p_include_archived or c.archived_at is null)
    order by c.updated_at desc, c.id desc
    limit p_limit offset p_offset;
$$;
comment on function llm.list_conversations(uuid, integer, integer, boolean) is
'Internal: a user''s live conversations, newest activity first, one page.';

-- Pages through a user's sessions, most recently active first. (SQL, not plpgsql: the API
-- parameter names limit and offset are reserved words.)
create or replace function llm_private.get_user_chat_sessions(
    user_id text default null,
    "limit" integer default 50,
    "offset" integer default 0,
    include_archived boolean default false
)
returns setof llm.chat_session
language sql
security definer
set search_path = ''
as $$
    select s.*
    from llm.list_conversations(
        llm.resolve_user(get_user_chat_sessions.user_id, true),
        llm.check_page_arg(get_user_chat_sessions."limit", 'limit'),
        llm.check_page_arg(get_user_chat_sessions."offset", 'offset'),
        coalesce(get_user_chat_sessions.include_archived, false)
    ) as c
    cross join lateral llm.as_chat_session(c) as s;
$$;
comment on function llm_private.get_user_chat_sessions(
    text, integer, integer, boolean
) is
'Implementation of llm.get_user_chat_sessions() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_user_chat_sessions(
    text, integer, integer, boolean
) to authenticated, service_role;

-- The latest active-branch messages of a conversation, oldest first, as JSON.
create or replace function llm.latest_messages_json(p_conv llm.conversations, p_limit integer)
returns jsonb
language sql
stable
set search_path = ''
as $$
    select coalesce(jsonb_agg(to_jsonb(r) order by r.seq), '[]'::jsonb)
    from (
        select cm.*
        from llm.messages as m
        cross join lateral llm.as_chat_message(m, llm_private.user_label(p_conv.user_id)) as cm
        where m.conversation_id = p_conv.id and m.active
        order by m.seq desc
        limit p_limit
    ) as r;
$$;
comment on function llm.latest_messages_json(llm.conversations, integer) is
'Internal: the last p_limit messages of the active branch, oldest first, as a JSON array.';

-- Recent sessions of a user, each with its latest messages under the key messages.
create or replace function llm_private.get_chat_history(
    user_id text default null, limit_sessions integer default 10, limit_messages integer default 20
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(get_chat_history.user_id, true);
    v_messages integer := llm.check_page_arg(get_chat_history.limit_messages, 'limit_messages');
begin
    return (
        select coalesce(
            jsonb_agg(
                to_jsonb(llm.as_chat_session(c))
                || jsonb_build_object('messages', llm.latest_messages_json(c, v_messages))
                order by c.updated_at desc, c.id desc
            ),
            '[]'::jsonb
        )
        from llm.list_conversations(
            v_user, llm.check_page_arg(get_chat_history.limit_sessions, 'limit_sessions'), 0, false
        ) as c
    );
end;
$$;
comment on function llm_private.get_chat_history(
    text, integer, integer
) is
'Implementation of llm.get_chat_history() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_chat_history(
    text, integer, integer
) to authenticated, service_role;

-- Renames a session or replaces its metadata (NULL leaves a field as it is).
create or replace function llm_private.update_chat_session(
    session_id text, title text default null, metadata jsonb default null
)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        update_chat_session.session_id, 'session_id', null, true
    );
    v_metadata jsonb;
begin
    if update_chat_session.metadata is not null then
        v_metadata := llm.check_metadata(update_chat_session.metadata, 'metadata');
    end if;
    update llm.conversations as c
    set title = coalesce(update_chat_session.title, c.title),
        metadata = coalesce(v_metadata, c.metadata),
        updated_at = now()
    where c.id = v_conv.id;
    return true;
end;
$$;
comment on function llm_private.update_chat_session(text, text, jsonb) is
'Implementation of llm.update_chat_session() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.update_chat_session(text, text, jsonb) to authenticated, service_role;

-- Appends a message to a session (chat-session API names).
create or replace function llm_private.append_chat_message(
    session_id text,
    user_id text default null,
    role text default 'user',
    content text default null,
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
        append_chat_message.session_id, 'session_id', append_chat_message.user_id, true
    );
begin
    return llm.as_chat_message(
        llm.insert_message(
            v_conv.id, false, null, append_chat_message.role, append_chat_message.content,
            append_chat_message.metadata, append_chat_message.model, append_chat_message.tokens,
            append_chat_message.prompt_tokens, append_chat_message.completion_tokens
        ),
        llm_private.user_label(v_conv.user_id)
    );
end;
$$;
comment on function llm_private.append_chat_message(
    text, text, text, text, jsonb, text, integer, integer, integer
) is
'Implementation of llm.append_chat_message() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.append_chat_message(
    text, text, text, text, jsonb, text, integer, integer, integer
) to authenticated, service_role;

-- Active-branch messages in chronological order, by offset (chat-session API).
create or replace function llm_private.get_chat_messages(
    session_id text, user_id text default null, "limit" integer default 100, "offset" integer default 0
)
returns setof llm.chat_message
language sql
security definer
set search_path = ''
as $$
    select p.*
    from llm.page_messages(
        get_chat_messages.session_id, 'session_id', get_chat_messages.user_id,
        get_chat_messages."limit", true, get_chat_messages."offset", null, null
    ) as p;
$$;
comment on function llm_private.get_chat_messages(
    text, text, integer, integer
) is
'Implementation of llm.get_chat_messages() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_chat_messages(
    text, text, integer, integer
) to authenticated, service_role;
