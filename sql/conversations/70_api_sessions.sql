-- The API of chat sessions, conversation api: SECURITY INVOKER entry points of schema llm,
-- each calling its implementation in schema llm_private.

create or replace function llm.create_chat_session(
    user_id text default null, title text default null, metadata jsonb default null
)
returns llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select llm_private.create_chat_session(
        user_id => create_chat_session.user_id,
        title => create_chat_session.title,
        metadata => create_chat_session.metadata
    );
$$;
comment on function llm.create_chat_session(text, text, jsonb) is
'Creates a chat session (a conversation without expiry) for user_id (default: the signed-in user) and returns it.';
grant execute on function llm.create_chat_session(text, text, jsonb) to authenticated, service_role;

create or replace function llm.get_chat_session(session_id text, user_id text default null)
returns llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select llm_private.get_chat_session(
        session_id => get_chat_session.session_id,
        user_id => get_chat_session.user_id
    );
$$;
comment on function llm.get_chat_session(text, text) is
'One chat session by UUID or client id; P0002 when unknown, expired, deleted or not the user''s.';
grant execute on function llm.get_chat_session(text, text) to authenticated, service_role;

create or replace function llm.get_user_chat_sessions(
    user_id text default null,
    "limit" integer default 50,
    "offset" integer default 0,
    include_archived boolean default false
)
returns setof llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.get_user_chat_sessions(
        user_id => get_user_chat_sessions.user_id,
        "limit" => get_user_chat_sessions."limit",
        "offset" => get_user_chat_sessions."offset",
        include_archived => get_user_chat_sessions.include_archived
    );
$$;
comment on function llm.get_user_chat_sessions(text, integer, integer, boolean) is
'A user''s chat sessions, most recently active first (limit/offset; archived ones only with include_archived).';
grant execute on function llm.get_user_chat_sessions(
    text, integer, integer, boolean
) to authenticated, service_role;

create or replace function llm.get_chat_history(
    user_id text default null, limit_sessions integer default 10, limit_messages integer default 20
)
returns jsonb
language sql
volatile
set search_path = ''
as $$
    select llm_private.get_chat_history(
        user_id => get_chat_history.user_id,
        limit_sessions => get_chat_history.limit_sessions,
        limit_messages => get_chat_history.limit_messages
    );
$$;
comment on function llm.get_chat_history(text, integer, integer) is
'A JSON array of the user''s most recent sessions (limit_sessions), each with messages: its latest limit_messages messages, oldest first.';
grant execute on function llm.get_chat_history(
    text, integer, integer
) to authenticated, service_role;

create or replace function llm.update_chat_session(
    session_id text, title text default null, metadata jsonb default null
)
returns boolean
language sql
volatile
set search_path = ''
as $$
    select llm_private.update_chat_session(
        session_id => update_chat_session.session_id,
        title => update_chat_session.title,
        metadata => update_chat_session.metadata
    );
$$;
comment on function llm.update_chat_session(text, text, jsonb) is
'Sets the title and/or replaces the metadata of a session; true on success, P0002 when not found.';
grant execute on function llm.update_chat_session(text, text, jsonb) to authenticated, service_role;

create or replace function llm.append_chat_message(
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
language sql
volatile
set search_path = ''
as $$
    select llm_private.append_chat_message(
        session_id => append_chat_message.session_id,
        user_id => append_chat_message.user_id,
        role => append_chat_message.role,
        content => append_chat_message.content,
        metadata => append_chat_message.metadata,
        model => append_chat_message.model,
        tokens => append_chat_message.tokens,
        prompt_tokens => append_chat_message.prompt_tokens,
        completion_tokens => append_chat_message.completion_tokens
    );
$$;
comment on function llm.append_chat_message(text, text, text, text, jsonb, text, integer, integer, integer) is
'Appends a message to the active branch of a session and returns it; users may add only user messages (42501).';
grant execute on function llm.append_chat_message(
    text, text, text, text, jsonb, text, integer, integer, integer
) to authenticated, service_role;

create or replace function llm.get_chat_messages(
    session_id text, user_id text default null, "limit" integer default 100, "offset" integer default 0
)
returns setof llm.chat_message
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.get_chat_messages(
        session_id => get_chat_messages.session_id,
        user_id => get_chat_messages.user_id,
        "limit" => get_chat_messages."limit",
        "offset" => get_chat_messages."offset"
    );
$$;
comment on function llm.get_chat_messages(text, text, integer, integer) is
'Messages of the active branch, oldest first, limit/offset.';
grant execute on function llm.get_chat_messages(
    text, text, integer, integer
) to authenticated, service_role;

create or replace function llm.create_conversation(
    user_id text default null,
    conversation_id text default null,
    ttl_hours integer default null,
    metadata jsonb default null,
    title text default null
)
returns text
language sql
volatile
set search_path = ''
as $$
    select llm_private.create_conversation(
        user_id => create_conversation.user_id,
        conversation_id => create_conversation.conversation_id,
        ttl_hours => create_conversation.ttl_hours,
        metadata => create_conversation.metadata,
        title => create_conversation.title
    );
$$;
comment on function llm.create_conversation(text, text, integer, jsonb, text) is
'Creates a conversation and returns its id (conversation_id when given). ttl_hours NULL: the conversation_ttl_hours setting; 0: never expires. Backends may omit user_id (no owner).';
grant execute on function llm.create_conversation(
    text, text, integer, jsonb, text
) to authenticated, service_role;

create or replace function llm.get_conversation(conversation_id text)
returns llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select llm_private.get_conversation(conversation_id => get_conversation.conversation_id);
$$;
comment on function llm.get_conversation(text) is
'One conversation by UUID or client id; P0002 when unknown, expired, deleted or not the caller''s.';
grant execute on function llm.get_conversation(text) to authenticated, service_role;

create or replace function llm.get_user_conversations(
    user_id text default null, "limit" integer default 10, include_archived boolean default false
)
returns setof llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.get_user_conversations(
        user_id => get_user_conversations.user_id,
        "limit" => get_user_conversations."limit",
        include_archived => get_user_conversations.include_archived
    );
$$;
comment on function llm.get_user_conversations(text, integer, boolean) is
'A user''s live conversations, most recently active first.';
grant execute on function llm.get_user_conversations(
    text, integer, boolean
) to authenticated, service_role;

create or replace function llm.add_message(
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
language sql
volatile
set search_path = ''
as $$
    select llm_private.add_message(
        conversation_id => add_message.conversation_id,
        role => add_message.role,
        content => add_message.content,
        metadata => add_message.metadata,
        model => add_message.model,
        tokens => add_message.tokens,
        prompt_tokens => add_message.prompt_tokens,
        completion_tokens => add_message.completion_tokens
    );
$$;
comment on function llm.add_message(text, text, text, jsonb, text, integer, integer, integer) is
'Appends a message to the active branch and returns it; users may add only user messages (42501).';
grant execute on function llm.add_message(
    text, text, text, jsonb, text, integer, integer, integer
) to authenticated, service_role;

create or replace function llm.get_messages(
    conversation_id text, "limit" integer default 10, before uuid default null, after uuid default null
)
returns setof llm.chat_message
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.get_messages(
        conversation_id => get_messages.conversation_id,
        "limit" => get_messages."limit",
        before => get_messages.before,
        after => get_messages.after
    );
$$;
comment on function llm.get_messages(text, integer, uuid, uuid) is
'Messages of the active branch, oldest first: the latest limit, or the limit just before (or after) a message id. Cost does not grow with conversation length.';
grant execute on function llm.get_messages(
    text, integer, uuid, uuid
) to authenticated, service_role;
