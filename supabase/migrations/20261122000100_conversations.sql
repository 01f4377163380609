-- llm conversations: one chat store for every client. Conversations (owner, title, metadata,
-- optional client-chosen id, optional expiry, archive and soft delete, exact counters of
-- messages and tokens) and messages (role, content, token counts, model, a per-conversation
-- sequence number for a total, stable order, a parent pointer for branching), optional
-- conversation summaries; the chat-session API (create_chat_session, append_chat_message, ...)
-- and the conversation API (create_conversation, add_message, export_conversation, ...);
-- branching, keyset pagination, full-text search, import, cleanup jobs, realtime.
-- Tables are read-only for API roles: every write goes through a function, so counters,
-- order and branches stay exact.

-- ---------------------------------------------------------------------------------------
-- Types
-- ---------------------------------------------------------------------------------------

do $$
begin
    if to_regtype('llm.chat_session') is null then
        create type llm.chat_session as (
            id uuid,
            conversation_id text,
            user_id text,
            title text,
            metadata jsonb,
            created_at timestamptz,
            updated_at timestamptz,
            expires_at timestamptz,
            archived_at timestamptz,
            message_count integer,
            prompt_tokens bigint,
            completion_tokens bigint,
            total_tokens bigint,
            last_message_at timestamptz,
            active_leaf_id uuid
        );
    end if;
    if to_regtype('llm.chat_message') is null then
        create type llm.chat_message as (
            id uuid,
            conversation_id uuid,
            user_id text,
            role text,
            content text,
            metadata jsonb,
            model text,
            prompt_tokens integer,
            completion_tokens integer,
            tokens integer,
            parent_id uuid,
            seq bigint,
            active boolean,
            created_at timestamptz
        );
    end if;
end
$$;
comment on type llm.chat_session is
'A conversation as the API returns it: conversation_id is the client id (or the UUID), user_id the owner as the caller named it.';
comment on type llm.chat_message is
'A message as the API returns it; active is true on the conversation''s active branch.';

-- ---------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------

create table if not exists llm.conversations (
    id uuid primary key default gen_random_uuid(),
    external_id text unique constraint conversations_external_id_check check (
        external_id ~ '\S'
        and length(external_id) <= 255
        and external_id !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
    ),
    user_id uuid,
    title text,
    metadata jsonb not null default '{}' constraint conversations_metadata_check check (
        jsonb_typeof(metadata) = 'object'
    ),
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    expires_at timestamptz,
    archived_at timestamptz,
    deleted_at timestamptz,
    message_count integer not null default 0 check (message_count >= 0),
    prompt_tokens bigint not null default 0 check (prompt_tokens >= 0),
    completion_tokens bigint not null default 0 check (completion_tokens >= 0),
    total_tokens bigint not null default 0 check (total_tokens >= 0),
    last_message_at timestamptz,
    last_seq bigint not null default 0 check (last_seq >= 0),
    active_leaf_id uuid
);
comment on table llm.conversations is
'Chat conversations (chat sessions). Read through RLS; written only by the llm conversation functions.';
comment on column llm.conversations.external_id is
'Id chosen by the client (e.g. conv-abc, test_123); unique, never UUID-shaped (a UUID given by a client becomes id).';
comment on column llm.conversations.user_id is
'Owner: auth.uid() or llm.user_uuid(identifier); NULL for conversations a backend keeps without a user.';
comment on column llm.conversations.expires_at is
'After this instant the conversation is invisible and cleanup_expired_conversations() removes it; NULL never expires.';
comment on column llm.conversations.archived_at is 'Set by archive_conversation(); archived ones leave the lists.';
comment on column llm.conversations.deleted_at is
'Soft delete; purge_deleted_conversations() removes rows older than deleted_conversation_retention.';
comment on column llm.conversations.message_count is 'Messages stored, all branches included; exact.';
comment on column llm.conversations.total_tokens is 'Sum of llm.messages.tokens over its messages; exact.';
comment on column llm.conversations.last_seq is 'Sequence number of the newest message (next one gets last_seq + 1).';
comment on column llm.conversations.active_leaf_id is
'Last message of the active branch; new messages are appended under it.';

create table if not exists llm.messages (
    id uuid primary key default gen_random_uuid(),
    conversation_id uuid not null references llm.conversations (id) on delete cascade,
    user_id uuid,
    seq bigint not null check (seq > 0),
    parent_id uuid references llm.messages (id) on delete cascade,
    role text not null constraint messages_role_check check (
        role in ('system', 'user', 'assistant', 'tool')
    ),
    content text not null,
    metadata jsonb not null default '{}' constraint messages_metadata_check check (
        jsonb_typeof(metadata) = 'object'
    ),
    model text,
    prompt_tokens integer check (prompt_tokens >= 0),
    completion_tokens integer check (completion_tokens >= 0),
    tokens integer not null default 0 check (tokens >= 0),
    active boolean not null default true,
    created_at timestamptz not null default now(),
    search tsvector generated always as (
        to_tsvector('english'::regconfig, left(content, 100000))
    ) stored,
    constraint messages_conversation_seq_key unique (conversation_id, seq)
);
comment on table llm.messages is
'Chat messages. Read through RLS (and realtime); written only by the llm conversation functions.';
comment on column llm.messages.user_id is 'Owner of the conversation (copied for RLS and search).';
comment on column llm.messages.seq is
'Position in the conversation (1, 2, ...): total, stable order and keyset pagination key.';
comment on column llm.messages.parent_id is
'Previous message of the branch; siblings (same parent) are edits or regenerations.';
comment on column llm.messages.tokens is
'Total tokens of the message (argument, or metadata tokens / total_tokens / prompt + completion).';
comment on column llm.messages.active is 'True when the message is on the conversation''s active branch.';
comment on column llm.messages.search is 'Full-text vector (english) of the first 100,000 characters.';

create table if not exists llm.conversation_summaries (
    id uuid primary key default gen_random_uuid(),
    conversation_id uuid not null references llm.conversations (id) on delete cascade,
    user_id uuid,
    summary text not null,
    key_points jsonb not null default '[]' constraint conversation_summaries_key_points_check check (
        jsonb_typeof(key_points) in ('array', 'object')
    ),
    created_at timestamptz not null default now()
);
comment on table llm.conversation_summaries is
'Summaries of conversations (text and key points), written by backends with add_conversation_summary().';
comment on column llm.conversation_summaries.user_id is 'Owner of the conversation (copied for RLS).';

-- ---------------------------------------------------------------------------------------
-- Indexes
-- ---------------------------------------------------------------------------------------

create index if not exists conversations_user_recent_idx
on llm.conversations (user_id, updated_at desc, id desc);
create index if not exists conversations_expires_at_idx
on llm.conversations (expires_at) where expires_at is not null;
create index if not exists conversations_deleted_at_idx
on llm.conversations (deleted_at) where deleted_at is not null;
create index if not exists messages_parent_id_idx on llm.messages (parent_id);
create index if not exists messages_roots_idx on llm.messages (conversation_id) where parent_id is null;
create index if not exists messages_user_id_idx on llm.messages (user_id);
create index if not exists messages_search_idx on llm.messages using gin (search);
create index if not exists conversation_summaries_conversation_idx
on llm.conversation_summaries (conversation_id, created_at);

-- ---------------------------------------------------------------------------------------
-- Functions: checks and shapes
-- ---------------------------------------------------------------------------------------

-- Validates a limit or offset argument so a bad page request is an error, not a guess.
create or replace function llm.check_page_arg(p_value integer, p_field text)
returns integer
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null then
        raise exception '% must not be null', p_field using errcode = '22004';
    end if;
    if p_value < 0 then
        raise exception '% must be zero or more, got %', p_field, p_value using errcode = '22023';
    end if;
    return p_value;
end;
$$;
comment on function llm.check_page_arg(integer, text) is
'Returns a limit/offset argument; NULL raises 22004, a negative value 22023.';

-- Checks role, content, metadata and who may write the role; returns the metadata to store.
create or replace function llm.check_message(p_role text, p_content text, p_metadata jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
    v_max integer := llm.setting_text('max_message_bytes')::integer;
begin
    if p_role is null then
        raise exception 'role must not be null' using errcode = '22004';
    end if;
    if p_role not in ('system', 'user', 'assistant', 'tool') then
        raise exception 'role must be system, user, assistant or tool, got %', quote_literal(p_role)
            using errcode = '22023';
    end if;
    if p_content is null then
        raise exception 'content must not be null' using errcode = '22004';
    end if;
    if octet_length(p_content) > v_max then
        raise exception 'content is % bytes, above the max_message_bytes setting (%)',
            octet_length(p_content), v_max
            using errcode = '22001';
    end if;
    if p_role <> 'user' and not llm.is_backend() then
        raise exception 'only the service role may add % messages; users add user messages', p_role
            using errcode = '42501';
    end if;
    return llm.check_metadata(p_metadata, 'metadata');
end;
$$;
comment on function llm.check_message(text, text, jsonb) is
'Validates a message: role (22004/22023), content (22004, 22001 above max_message_bytes), metadata (22023); non-user roles need the service role (42501).';

-- Reads one token count from JSON: absent is NULL, anything but a non-negative integer is an error.
create or replace function llm.token_count(p_value jsonb, p_field text)
returns integer
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_value is null or jsonb_typeof(p_value) = 'null' then
        return null;
    end if;
    if jsonb_typeof(p_value) <> 'number' or (p_value #>> '{}') !~ '^\d{1,9}$' then
        raise exception '% must be a non-negative integer, got %', p_field, p_value
            using errcode = '22023';
    end if;
    return (p_value #>> '{}')::integer;
end;
$$;
comment on function llm.token_count(jsonb, text) is
'A token count from JSON: NULL when absent, else a non-negative integer (22023 naming the field otherwise).';

-- Token counts of a message from its arguments, else from the usual metadata keys.
create or replace function llm.message_tokens(
    p_metadata jsonb, p_tokens integer, p_prompt_tokens integer, p_completion_tokens integer
)
returns integer[]
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_prompt integer;
    v_completion integer;
    v_total integer;
begin
    if p_tokens < 0 or p_prompt_tokens < 0 or p_completion_tokens < 0 then
        raise exception 'tokens, prompt_tokens and completion_tokens must be zero or more'
            using errcode = '22023';
    end if;
    v_prompt := coalesce(
        p_prompt_tokens,
        llm.token_count(p_metadata -> 'prompt_tokens', 'metadata.prompt_tokens'),
        llm.token_count(p_metadata #> '{usage,prompt_tokens}', 'metadata.usage.prompt_tokens'),
        llm.token_count(
            p_metadata #> '{processingDetails,prompt_tokens}',
            'metadata.processingDetails.prompt_tokens'
        )
    );
    v_completion := coalesce(
        p_completion_tokens,
        llm.token_count(p_metadata -> 'completion_tokens', 'metadata.completion_tokens'),
        llm.token_count(p_metadata #> '{usage,completion_tokens}', 'metadata.usage.completion_tokens'),
        llm.token_count(
            p_metadata #> '{processingDetails,completion_tokens}',
            'metadata.processingDetails.completion_tokens'
        )
    );
    v_total := coalesce(
        p_tokens,
        llm.token_count(p_metadata -> 'tokens', 'metadata.tokens'),
        llm.token_count(p_metadata -> 'total_tokens', 'metadata.total_tokens'),
        llm.token_count(p_metadata #> '{usage,total_tokens}', 'metadata.usage.total_tokens'),
        llm.token_count(
            p_metadata #> '{processingDetails,total_tokens}',
            'metadata.processingDetails.total_tokens'
        ),
        coalesce(v_prompt, 0) + coalesce(v_completion, 0)
    );
    return array[v_prompt, v_completion, v_total];
end;
$$;
comment on function llm.message_tokens(jsonb, integer, integer, integer) is
'[prompt, completion, total] tokens of a message: arguments first, then metadata keys prompt_tokens, completion_tokens, tokens, total_tokens (also under usage or processingDetails).';

-- The API shape of a conversation.
create or replace function llm.as_chat_session(p_conv llm.conversations)
returns llm.chat_session
language sql
stable
set search_path = ''
as $$
    select row(
        p_conv.id, coalesce(p_conv.external_id, p_conv.id::text), llm.user_label(p_conv.user_id),
        p_conv.title, p_conv.metadata, p_conv.created_at, p_conv.updated_at, p_conv.expires_at,
        p_conv.archived_at, p_conv.message_count, p_conv.prompt_tokens, p_conv.completion_tokens,
        p_conv.total_tokens, p_conv.last_message_at, p_conv.active_leaf_id
    )::llm.chat_session;
$$;
comment on function llm.as_chat_session(llm.conversations) is
'A conversations row as llm.chat_session (client id, owner label).';

-- The API shape of a message; the owner label is computed once by the caller.
create or replace function llm.as_chat_message(p_msg llm.messages, p_user_label text)
returns llm.chat_message
language sql
immutable
set search_path = ''
as $$
    select row(
        p_msg.id, p_msg.conversation_id, p_user_label, p_msg.role, p_msg.content, p_msg.metadata,
        p_msg.model, p_msg.prompt_tokens, p_msg.completion_tokens, p_msg.tokens, p_msg.parent_id,
        p_msg.seq, p_msg.active, p_msg.created_at
    )::llm.chat_message;
$$;
comment on function llm.as_chat_message(llm.messages, text) is
'A messages row as llm.chat_message with the given owner label.';

-- ---------------------------------------------------------------------------------------
-- Functions: resolving conversations and messages
-- ---------------------------------------------------------------------------------------

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
            and (p_write or not llm.is_admin())
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

-- ---------------------------------------------------------------------------------------
-- Functions: writing messages and branches
-- ---------------------------------------------------------------------------------------

-- Makes the path from the root to p_target the active branch (NULL: no message is active).
-- Walks up only until the current active branch, so the cost is the size of the change.
create or replace function llm.activate_path(p_conversation_id uuid, p_target uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
    v_ids uuid [];
    v_junction bigint;
begin
    if p_target is null then
        update llm.messages as m set active = false
        where m.conversation_id = p_conversation_id and m.active;
        return;
    end if;
    with recursive up as (
        select m.id, m.parent_id, m.active, m.seq from llm.messages as m where m.id = p_target
        union all
        select p.id, p.parent_id, p.active, p.seq
        from up inner join llm.messages as p on p.id = up.parent_id
        where not up.active
    )
    select
        coalesce(array_agg(up.id) filter (where not up.active), '{}'),
        coalesce(max(up.seq) filter (where up.active), 0)
    into v_ids, v_junction
    from up;
    update llm.messages as m set active = false
    where m.conversation_id = p_conversation_id and m.active and m.seq > v_junction;
    update llm.messages as m set active = true where m.id = any(v_ids);
end;
$$;
comment on function llm.activate_path(uuid, uuid) is
'Switches the active flags so the branch ending at p_target is active; internal.';

-- Appends one message to a conversation the caller has locked: next sequence number, exact
-- counters, parent = active leaf (or p_parent_id when branching), new message = active leaf.
create or replace function llm.insert_message(
    p_conversation_id uuid,
    p_branch boolean,
    p_parent_id uuid,
    p_role text,
    p_content text,
    p_metadata jsonb,
    p_model text,
    p_tokens integer,
    p_prompt_tokens integer,
    p_completion_tokens integer
)
returns llm.messages
language plpgsql
set search_path = ''
as $$
declare
    v_metadata jsonb := llm.check_message(p_role, p_content, p_metadata);
    v_counts integer [] := llm.message_tokens(v_metadata, p_tokens, p_prompt_tokens, p_completion_tokens);
    v_conv llm.conversations;
    v_msg llm.messages;
begin
    if p_branch then
        perform llm.activate_path(p_conversation_id, p_parent_id);
    end if;
    select c.* into strict v_conv from llm.conversations as c where c.id = p_conversation_id;
    insert into llm.messages as m (
        conversation_id, user_id, seq, parent_id, role, content, metadata, model,
        prompt_tokens, completion_tokens, tokens
    )
    values (
        v_conv.id, v_conv.user_id, v_conv.last_seq + 1,
        case when p_branch then p_parent_id else v_conv.active_leaf_id end,
        p_role, p_content, v_metadata, coalesce(p_model, v_metadata ->> 'model'),
        v_counts[1], v_counts[2], v_counts[3]
    )
    returning m.* into v_msg;
    update llm.conversations as c
    set last_seq = v_msg.seq,
        message_count = c.message_count + 1,
        prompt_tokens = c.prompt_tokens + coalesce(v_msg.prompt_tokens, 0),
        completion_tokens = c.completion_tokens + coalesce(v_msg.completion_tokens, 0),
        total_tokens = c.total_tokens + v_msg.tokens,
        last_message_at = v_msg.created_at,
        updated_at = now(),
        active_leaf_id = v_msg.id
    where c.id = v_conv.id;
    return v_msg;
end;
$$;
comment on function llm.insert_message(uuid, boolean, uuid, text, text, jsonb, text, integer, integer, integer) is
'Internal append used by every message-writing function; the caller holds the conversation lock.';

-- Creates a conversation row for the create functions and import.
create or replace function llm.new_conversation(
    p_id text, p_user uuid, p_title text, p_metadata jsonb, p_expires_at timestamptz
)
returns llm.conversations
language plpgsql
set search_path = ''
as $$
declare
    v_conv llm.conversations;
    v_uuid uuid;
    v_external text;
begin
    if p_id is not null then
        if p_id !~ '\S' or length(p_id) > 255 then
            raise exception 'conversation_id must be a UUID or 1 to 255 characters, got %',
                quote_literal(p_id)
                using errcode = '22023';
        end if;
        if p_id ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
            v_uuid := p_id::uuid;
        else
            v_external := p_id;
        end if;
    end if;
    begin
        insert into llm.conversations as c (id, external_id, user_id, title, metadata, expires_at)
        values (
            coalesce(v_uuid, gen_random_uuid()), v_external, p_user, p_title,
            llm.check_metadata(p_metadata, 'metadata'), p_expires_at
        )
        returning c.* into v_conv;
    exception when unique_violation then
        raise exception 'conversation_id % already exists', quote_literal(p_id)
            using errcode = '23505';
    end;
    return v_conv;
end;
$$;
comment on function llm.new_conversation(text, uuid, text, jsonb, timestamptz) is
'Inserts a conversation: a UUID id becomes its id, any other id its external_id (22023 if blank or too long, 23505 if taken).';

-- One page of a conversation's active branch, for get_messages (keyset) and get_chat_messages
-- (offset); their API parameter names limit and offset are reserved words in plpgsql.
create or replace function llm.page_messages(
    p_id text,
    p_field text,
    p_user_id text,
    p_limit integer,
    p_from_start boolean,
    p_offset integer,
    p_before uuid,
    p_after uuid
)
returns setof llm.chat_message
language plpgsql
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(p_id, p_field, p_user_id, false);
    v_label text := llm.user_label(v_conv.user_id);
    v_limit integer := llm.check_page_arg(p_limit, 'limit');
    v_cursor bigint;
begin
    if p_from_start then
        return query
        select cm.*
        from llm.messages as m
        cross join lateral llm.as_chat_message(m, v_label) as cm
        where m.conversation_id = v_conv.id and m.active
        order by m.seq
        limit v_limit offset llm.check_page_arg(p_offset, 'offset');
        return;
    end if;
    if p_before is not null and p_after is not null then
        raise exception 'give before or after, not both' using errcode = '22023';
    end if;
    if coalesce(p_before, p_after) is not null then
        select m.seq into v_cursor from llm.messages as m
        where m.id = coalesce(p_before, p_after) and m.conversation_id = v_conv.id;
        if not found then
            raise exception '% message % not found in this conversation',
                case when p_before is not null then 'before' else 'after' end,
                coalesce(p_before, p_after)
                using errcode = 'P0002';
        end if;
    end if;
    if p_after is not null then
        return query
        select cm.*
        from llm.messages as m
        cross join lateral llm.as_chat_message(m, v_label) as cm
        where m.conversation_id = v_conv.id and m.active and m.seq > v_cursor
        order by m.seq
        limit v_limit;
        return;
    end if;
    return query
    select r.*
    from (
        select cm.*
        from llm.messages as m
        cross join lateral llm.as_chat_message(m, v_label) as cm
        where m.conversation_id = v_conv.id and m.active and m.seq < coalesce(v_cursor, v_conv.last_seq + 1)
        order by m.seq desc
        limit v_limit
    ) as r
    order by r.seq;
end;
$$;
comment on function llm.page_messages(text, text, text, integer, boolean, integer, uuid, uuid) is
'Internal: a page of the active branch, oldest first: by offset from the first message, or the latest / just before / just after a message.';

-- ---------------------------------------------------------------------------------------
-- Functions: chat-session API
-- ---------------------------------------------------------------------------------------

-- Starts a chat session for a user; chat sessions do not expire.
create or replace function llm.create_chat_session(
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
comment on function llm.create_chat_session(text, text, jsonb) is
'Creates a chat session (a conversation without expiry) for user_id (default: the signed-in user) and returns it.';

-- Reads one session; user_id, when given, must be its owner (else not found).
create or replace function llm.get_chat_session(session_id text, user_id text default null)
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
comment on function llm.get_chat_session(text, text) is
'One chat session by UUID or client id; P0002 when unknown, expired, deleted or not the user''s.';

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
create or replace function llm.get_user_chat_sessions(
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
comment on function llm.get_user_chat_sessions(text, integer, integer, boolean) is
'A user''s chat sessions, most recently active first (limit/offset; archived ones only with include_archived).';

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
        cross join lateral llm.as_chat_message(m, llm.user_label(p_conv.user_id)) as cm
        where m.conversation_id = p_conv.id and m.active
        order by m.seq desc
        limit p_limit
    ) as r;
$$;
comment on function llm.latest_messages_json(llm.conversations, integer) is
'Internal: the last p_limit messages of the active branch, oldest first, as a JSON array.';

-- Recent sessions of a user, each with its latest messages under the key messages.
create or replace function llm.get_chat_history(
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
comment on function llm.get_chat_history(text, integer, integer) is
'A JSON array of the user''s most recent sessions (limit_sessions), each with messages: its latest limit_messages messages, oldest first.';

-- Renames a session or replaces its metadata (NULL leaves a field as it is).
create or replace function llm.update_chat_session(
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
comment on function llm.update_chat_session(text, text, jsonb) is
'Sets the title and/or replaces the metadata of a session; true on success, P0002 when not found.';

-- Appends a message to a session (chat-session API names).
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
        llm.user_label(v_conv.user_id)
    );
end;
$$;
comment on function llm.append_chat_message(text, text, text, text, jsonb, text, integer, integer, integer) is
'Appends a message to the active branch of a session and returns it; users may add only user messages (42501).';

-- Active-branch messages in chronological order, by offset (chat-session API).
create or replace function llm.get_chat_messages(
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
comment on function llm.get_chat_messages(text, text, integer, integer) is
'Messages of the active branch, oldest first, limit/offset.';

-- ---------------------------------------------------------------------------------------
-- Functions: conversation API
-- ---------------------------------------------------------------------------------------

-- Starts a conversation, optionally with the client's own id and a TTL; returns its id.
create or replace function llm.create_conversation(
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
        create_conversation.ttl_hours, llm.setting_text('conversation_ttl_hours')::integer
    );
    v_user uuid;
    v_conv llm.conversations;
begin
    if v_ttl < 0 then
        raise exception 'ttl_hours must be 0 (never expires) or a positive number of hours, got %', v_ttl
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
comment on function llm.create_conversation(text, text, integer, jsonb, text) is
'Creates a conversation and returns its id (conversation_id when given). ttl_hours NULL: the conversation_ttl_hours setting; 0: never expires. Backends may omit user_id (no owner).';

-- Reads one conversation.
create or replace function llm.get_conversation(conversation_id text)
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
comment on function llm.get_conversation(text) is
'One conversation by UUID or client id; P0002 when unknown, expired, deleted or not the caller''s.';

-- A user's conversations, most recently active first.
create or replace function llm.get_user_conversations(
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
comment on function llm.get_user_conversations(text, integer, boolean) is
'A user''s live conversations, most recently active first.';

-- Appends a message to a conversation (conversation API names).
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
        llm.user_label(v_conv.user_id)
    );
end;
$$;
comment on function llm.add_message(text, text, text, jsonb, text, integer, integer, integer) is
'Appends a message to the active branch and returns it; users may add only user messages (42501).';

-- The active branch, paginated by keyset: the latest messages, or those just before/after one.
create or replace function llm.get_messages(
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
comment on function llm.get_messages(text, integer, uuid, uuid) is
'Messages of the active branch, oldest first: the latest limit, or the limit just before (or after) a message id. Cost does not grow with conversation length.';

-- Pushes a conversation's expiry further out.
create or replace function llm.extend_ttl(conversation_id text, hours integer)
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
    if extend_ttl.hours <= 0 then
        raise exception 'hours must be positive, got %', extend_ttl.hours using errcode = '22023';
    end if;
    v_conv := llm.find_conversation(extend_ttl.conversation_id, 'conversation_id', null, true);
    update llm.conversations as c
    set expires_at = c.expires_at + make_interval(hours => extend_ttl.hours), updated_at = now()
    where c.id = v_conv.id
    returning c.* into v_conv;
    return llm.as_chat_session(v_conv);
end;
$$;
comment on function llm.extend_ttl(text, integer) is
'Adds hours to expires_at (a conversation that never expires stays so) and returns the conversation.';

-- Removes every message of a conversation and resets its counters; the conversation stays.
create or replace function llm.clear_conversation(conversation_id text)
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
comment on function llm.clear_conversation(text) is
'Deletes all messages of a conversation (counters back to zero) and returns how many were deleted.';

-- Archives (or unarchives) a conversation: it leaves the lists but stays readable.
create or replace function llm.archive_conversation(conversation_id text, archived boolean default true)
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
comment on function llm.archive_conversation(text, boolean) is
'Sets or clears archived_at; archived conversations are left out of the lists unless include_archived.';

-- Soft-deletes a conversation; purge_deleted_conversations removes it after the retention.
create or replace function llm.delete_conversation(conversation_id text)
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
comment on function llm.delete_conversation(text) is
'Soft-deletes a conversation (invisible at once, purged after deleted_conversation_retention); true on success.';

-- Undoes a soft delete within the retention period.
create or replace function llm.restore_conversation(conversation_id text)
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
comment on function llm.restore_conversation(text) is
'Brings back a soft-deleted conversation that has not been purged yet.';

-- ---------------------------------------------------------------------------------------
-- Functions: branching
-- ---------------------------------------------------------------------------------------

-- Edits (or regenerates) a message: adds a sibling with the same role and makes it active,
-- keeping the original and everything after it as another branch.
create or replace function llm.edit_message(
    message_id uuid,
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
    v_conv llm.conversations := llm.find_message_conversation(edit_message.message_id, true);
    v_old llm.messages;
begin
    select m.* into strict v_old from llm.messages as m where m.id = edit_message.message_id;
    return llm.as_chat_message(
        llm.insert_message(
            v_conv.id, true, v_old.parent_id, v_old.role, edit_message.content,
            edit_message.metadata, edit_message.model, edit_message.tokens,
            edit_message.prompt_tokens, edit_message.completion_tokens
        ),
        llm.user_label(v_conv.user_id)
    );
end;
$$;
comment on function llm.edit_message(uuid, text, jsonb, text, integer, integer, integer) is
'Adds an alternative to a message (same parent and role) and makes it the active branch; the old branch is kept. Regenerating an assistant reply is edit_message by the service role.';

-- Makes the branch through a message active, continuing down its most recent replies.
create or replace function llm.switch_branch(message_id uuid)
returns llm.chat_message
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_message_conversation(switch_branch.message_id, true);
    v_ids uuid [];
    v_leaf llm.messages;
begin
    perform llm.activate_path(v_conv.id, switch_branch.message_id);
    with recursive down as (
        select switch_branch.message_id as id, 0 as depth
        union all
        select child.id, down.depth + 1
        from down
        cross join lateral (
            select m.id from llm.messages as m
            where m.parent_id = down.id
            order by m.seq desc
            limit 1
        ) as child
    )
    select array_agg(down.id order by down.depth) into v_ids from down;
    update llm.messages as m set active = true where m.id = any(v_ids) and not m.active;
    select m.* into strict v_leaf from llm.messages as m where m.id = v_ids[cardinality(v_ids)];
    update llm.conversations as c set active_leaf_id = v_leaf.id, updated_at = now()
    where c.id = v_conv.id;
    return llm.as_chat_message(v_leaf, llm.user_label(v_conv.user_id));
end;
$$;
comment on function llm.switch_branch(uuid) is
'Makes the branch through message_id active (following its most recent replies to a leaf) and returns the new leaf.';

-- Lists a message and its alternatives (same parent), oldest first.
create or replace function llm.get_message_alternatives(message_id uuid)
returns setof llm.chat_message
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_message_conversation(get_message_alternatives.message_id, false);
    v_label text := llm.user_label(v_conv.user_id);
    v_parent uuid;
begin
    select m.parent_id into v_parent from llm.messages as m
    where m.id = get_message_alternatives.message_id;
    return query
    select cm.*
    from llm.messages as m
    cross join lateral llm.as_chat_message(m, v_label) as cm
    where
        m.conversation_id = v_conv.id
        and (m.parent_id = v_parent or (v_parent is null and m.parent_id is null))
    order by m.seq;
end;
$$;
comment on function llm.get_message_alternatives(uuid) is
'The message and its siblings (edits, regenerations), oldest first; active marks the one on the active branch.';

-- ---------------------------------------------------------------------------------------
-- Functions: search, summaries, export and import
-- ---------------------------------------------------------------------------------------

-- Body of search_messages (whose API parameter name limit is a reserved word in plpgsql);
-- plpgsql so each search is planned with the user and the query it has.
create or replace function llm.search_user_messages(p_user_id text, p_query text, p_limit integer)
returns table (
    id uuid,
    conversation_id uuid,
    conversation_title text,
    role text,
    content text,
    created_at timestamptz,
    active boolean,
    rank real,
    snippet text
)
language plpgsql
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(p_user_id, true);
    v_limit integer := llm.check_page_arg(p_limit, 'limit');
    v_query tsquery;
begin
    if p_query is null or p_query !~ '\S' then
        raise exception 'query must not be null or blank' using errcode = '22023';
    end if;
    v_query := websearch_to_tsquery('english'::regconfig, p_query);
    return query
    select
        hit.id, hit.conversation_id, hit.title, hit.role, hit.content, hit.created_at, hit.active,
        hit.score,
        ts_headline('english'::regconfig, left(hit.content, 100000), v_query, 'MaxFragments=2')
    from (
        select
            m.id, m.conversation_id, c.title, m.role, m.content, m.created_at, m.active,
            ts_rank(m.search, v_query) as score
        from llm.messages as m
        inner join llm.conversations as c on c.id = m.conversation_id
        where
            m.user_id = v_user
            and m.search @@ v_query
            and c.deleted_at is null
            and (c.expires_at is null or c.expires_at > now())
        order by score desc, m.created_at desc, m.id
        limit v_limit
    ) as hit
    order by hit.score desc, hit.created_at desc, hit.id;
end;
$$;
comment on function llm.search_user_messages(text, text, integer) is
'Internal: the body of search_messages.';

-- Full-text search over a user's own messages, best matches first.
create or replace function llm.search_messages(
    query text, user_id text default null, "limit" integer default 20
)
returns table (
    id uuid,
    conversation_id uuid,
    conversation_title text,
    role text,
    content text,
    created_at timestamptz,
    active boolean,
    rank real,
    snippet text
)
language sql
security definer
set search_path = ''
as $$
    select s.*
    from llm.search_user_messages(
        search_messages.user_id, search_messages.query, search_messages."limit"
    ) as s;
$$;
comment on function llm.search_messages(text, text, integer) is
'Web-style full-text search (english) over the user''s messages in live conversations, ranked, with the conversation id and title and a highlighted snippet.';

-- Stores a summary of a conversation (backends, which produce them with a model).
create or replace function llm.add_conversation_summary(
    conversation_id text, summary text, key_points jsonb default null
)
returns llm.conversation_summaries
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations;
    v_row llm.conversation_summaries;
begin
    if not llm.is_backend() then
        raise exception 'only the service role may add conversation summaries' using errcode = '42501';
    end if;
    v_conv := llm.find_conversation(add_conversation_summary.conversation_id, 'conversation_id', null, true);
    if add_conversation_summary.summary is null then
        raise exception 'summary must not be null' using errcode = '22004';
    end if;
    if add_conversation_summary.key_points is not null
        and jsonb_typeof(add_conversation_summary.key_points) not in ('array', 'object', 'null') then
        raise exception 'key_points must be a JSON array or object' using errcode = '22023';
    end if;
    insert into llm.conversation_summaries as s (conversation_id, user_id, summary, key_points)
    values (
        v_conv.id, v_conv.user_id, add_conversation_summary.summary,
        coalesce(nullif(add_conversation_summary.key_points, 'null'::jsonb), '[]'::jsonb)
    )
    returning s.* into v_row;
    return v_row;
end;
$$;
comment on function llm.add_conversation_summary(text, text, jsonb) is
'Stores a summary (text and key points) of a conversation; service role only (42501).';

-- Summaries of a conversation, oldest first.
create or replace function llm.get_conversation_summaries(conversation_id text)
returns setof llm.conversation_summaries
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        get_conversation_summaries.conversation_id, 'conversation_id', null, false
    );
begin
    return query
    select s.* from llm.conversation_summaries as s
    where s.conversation_id = v_conv.id
    order by s.created_at, s.id;
end;
$$;
comment on function llm.get_conversation_summaries(text) is 'Summaries of a conversation, oldest first.';

-- A whole conversation as one JSON document, every branch included, for backup or moving.
create or replace function llm.export_conversation(conversation_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_conversation(
        export_conversation.conversation_id, 'conversation_id', null, false
    );
begin
    return jsonb_build_object(
        'id', v_conv.id,
        'conversation_id', coalesce(v_conv.external_id, v_conv.id::text),
        'user_id', llm.user_label(v_conv.user_id),
        'title', v_conv.title,
        'metadata', v_conv.metadata,
        'created_at', v_conv.created_at,
        'updated_at', v_conv.updated_at,
        'expires_at', v_conv.expires_at,
        'archived_at', v_conv.archived_at,
        'message_count', v_conv.message_count,
        'total_tokens', v_conv.total_tokens,
        'messages', (
            select coalesce(jsonb_agg(jsonb_build_object(
                'id', m.id,
                'parent_id', m.parent_id,
                'role', m.role,
                'content', m.content,
                'metadata', m.metadata,
                'model', m.model,
                'prompt_tokens', m.prompt_tokens,
                'completion_tokens', m.completion_tokens,
                'tokens', m.tokens,
                'active', m.active,
                'created_at', m.created_at
            ) order by m.seq), '[]'::jsonb)
            from llm.messages as m where m.conversation_id = v_conv.id
        ),
        'summaries', (
            select coalesce(jsonb_agg(jsonb_build_object(
                'id', s.id, 'summary', s.summary, 'key_points', s.key_points, 'created_at', s.created_at
            ) order by s.created_at, s.id), '[]'::jsonb)
            from llm.conversation_summaries as s where s.conversation_id = v_conv.id
        )
    );
end;
$$;
comment on function llm.export_conversation(text) is
'JSON with the conversation fields, metadata, summaries and every message in order (branches with parent_id and active); import_conversation() reads it back.';

-- Loads a conversation from export_conversation() output (or any {messages: [...]} document).
create or replace function llm.import_conversation(conversation jsonb, user_id text default null)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_doc jsonb := import_conversation.conversation;
    v_user uuid;
    v_conv llm.conversations;
    v_item jsonb;
    v_index integer;
    v_field text;
    v_ids uuid [] := array[]::uuid [];
    v_id uuid;
    v_parent uuid;
    v_metadata jsonb;
    v_counts integer [];
    v_leaf uuid;
    v_path integer;
begin
    if v_doc is null or jsonb_typeof(v_doc) <> 'object' then
        raise exception 'conversation must be a JSON object (what export_conversation returns)'
            using errcode = '22023';
    end if;
    if jsonb_typeof(coalesce(v_doc -> 'messages', '[]')) <> 'array' then
        raise exception 'conversation.messages must be a JSON array' using errcode = '22023';
    end if;
    if import_conversation.user_id is not null or not llm.is_backend() then
        v_user := llm.resolve_user(import_conversation.user_id, false);
    elsif v_doc ->> 'user_id' is not null then
        v_user := llm.user_uuid(v_doc ->> 'user_id');
    end if;
    v_conv := llm.new_conversation(
        coalesce(v_doc ->> 'conversation_id', v_doc ->> 'id'), v_user, v_doc ->> 'title',
        v_doc -> 'metadata', (v_doc ->> 'expires_at')::timestamptz
    );
    if (v_doc ->> 'id') is not null and v_conv.external_id is not null then
        update llm.conversations as c set id = (v_doc ->> 'id')::uuid where c.id = v_conv.id
        returning c.* into v_conv;
    end if;
    for v_item, v_index in
        select e.value, e.ordinality::integer
        from jsonb_array_elements(coalesce(v_doc -> 'messages', '[]')) with ordinality as e
    loop
        v_field := format('conversation.messages[%s]', v_index - 1);
        if jsonb_typeof(v_item) <> 'object' then
            raise exception '% must be a JSON object', v_field using errcode = '22023';
        end if;
        v_metadata := llm.check_message(v_item ->> 'role', v_item ->> 'content', v_item -> 'metadata');
        v_counts := llm.message_tokens(
            v_metadata,
            llm.token_count(v_item -> 'tokens', v_field || '.tokens'),
            llm.token_count(v_item -> 'prompt_tokens', v_field || '.prompt_tokens'),
            llm.token_count(v_item -> 'completion_tokens', v_field || '.completion_tokens')
        );
        v_id := coalesce((v_item ->> 'id')::uuid, gen_random_uuid());
        if v_item ? 'parent_id' then
            v_parent := (v_item ->> 'parent_id')::uuid;
            if v_parent is not null and not v_parent = any(v_ids) then
                raise exception '%.parent_id % is not an earlier message of this conversation',
                    v_field, v_parent
                    using errcode = '22023';
            end if;
        else
            v_parent := v_ids[cardinality(v_ids)];
        end if;
        insert into llm.messages (
            id, conversation_id, user_id, seq, parent_id, role, content, metadata, model,
            prompt_tokens, completion_tokens, tokens, active, created_at
        )
        values (
            v_id, v_conv.id, v_user, v_index, v_parent, v_item ->> 'role', v_item ->> 'content',
            v_metadata,
            case when v_item ? 'model' then v_item ->> 'model' else v_metadata ->> 'model' end,
            v_counts[1], v_counts[2], v_counts[3],
            coalesce((v_item ->> 'active')::boolean, true),
            coalesce((v_item ->> 'created_at')::timestamptz, (v_item ->> 'timestamp')::timestamptz, now())
        );
        v_ids := v_ids || v_id;
    end loop;
    select m.id into v_leaf from llm.messages as m
    where m.conversation_id = v_conv.id and m.active
    order by m.seq desc limit 1;
    with recursive up as (
        select m.id, m.parent_id from llm.messages as m where m.id = v_leaf
        union all
        select p.id, p.parent_id from up inner join llm.messages as p on p.id = up.parent_id and p.active
    )
    select count(*) into v_path from up;
    if v_path <> (select count(*) from llm.messages as m where m.conversation_id = v_conv.id and m.active)
        then
        raise exception 'conversation.messages: the active ones must form one branch from a first message'
            using errcode = '22023';
    end if;
    update llm.conversations as c
    set message_count = agg.n,
        prompt_tokens = agg.prompt,
        completion_tokens = agg.completion,
        total_tokens = agg.total,
        last_seq = agg.n,
        last_message_at = agg.last_at,
        active_leaf_id = v_leaf,
        archived_at = (v_doc ->> 'archived_at')::timestamptz,
        created_at = coalesce((v_doc ->> 'created_at')::timestamptz, c.created_at),
        updated_at = coalesce((v_doc ->> 'updated_at')::timestamptz, c.updated_at)
    from (
        select
            count(*)::integer as n,
            coalesce(sum(m.prompt_tokens), 0) as prompt,
            coalesce(sum(m.completion_tokens), 0) as completion,
            coalesce(sum(m.tokens), 0) as total,
            max(m.created_at) as last_at
        from llm.messages as m where m.conversation_id = v_conv.id
    ) as agg
    where c.id = v_conv.id
    returning c.* into v_conv;
    if jsonb_array_length(coalesce(nullif(v_doc -> 'summaries', 'null'::jsonb), '[]')) > 0 then
        if not llm.is_backend() then
            raise exception 'only the service role may import conversation summaries'
                using errcode = '42501';
        end if;
        insert into llm.conversation_summaries (id, conversation_id, user_id, summary, key_points, created_at)
        select
            coalesce((s.value ->> 'id')::uuid, gen_random_uuid()), v_conv.id, v_user,
            s.value ->> 'summary', coalesce(s.value -> 'key_points', '[]'::jsonb),
            coalesce((s.value ->> 'created_at')::timestamptz, now())
        from jsonb_array_elements(v_doc -> 'summaries') as s;
    end if;
    return llm.as_chat_session(v_conv);
end;
$$;
comment on function llm.import_conversation(jsonb, text) is
'Creates a conversation from export_conversation() output, keeping ids, branches and timestamps (23505 if it exists). Owner: user_id, else (backends) the document''s user_id; users may import only user messages (42501).';

-- ---------------------------------------------------------------------------------------
-- Functions: statistics and maintenance
-- ---------------------------------------------------------------------------------------

-- Conversation statistics: global for backends and admins, the caller's own for users.
create or replace function llm.conversation_stats()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_all boolean := llm.is_backend() or llm.is_admin();
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
        'ttl_hours', llm.setting_text('conversation_ttl_hours')::integer
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
comment on function llm.conversation_stats() is
'JSON: total_conversations and total_messages (live ones), total_tokens, archived, expired (awaiting cleanup) and deleted conversations, ttl_hours. Global for backends and admins, own for users.';

-- Removes expired conversations and their messages (job llm_cleanup_expired_conversations).
create or replace function llm.cleanup_expired_conversations()
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
comment on function llm.cleanup_expired_conversations() is
'Deletes conversations whose expires_at has passed (with their messages); returns how many. Service role and admins.';

-- Removes soft-deleted conversations older than the retention (job llm_purge_deleted_conversations).
create or replace function llm.purge_deleted_conversations()
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
    where c.deleted_at <= now() - llm.setting_text('deleted_conversation_retention')::interval;
    get diagnostics v_count = row_count;
    return v_count;
end;
$$;
comment on function llm.purge_deleted_conversations() is
'Deletes conversations soft-deleted longer ago than deleted_conversation_retention; returns how many. Service role and admins.';

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

-- ---------------------------------------------------------------------------------------
-- Settings
-- ---------------------------------------------------------------------------------------

select llm.define_setting(
    'conversation_ttl_hours', 'integer', '24',
    'Hours a conversation made by create_conversation() lives when no ttl_hours is given; 0 = never expires.'
);
select llm.define_setting(
    'max_message_bytes', 'integer', '1048576',
    'Largest message content accepted, in bytes (larger raises 22001).'
);
select llm.define_setting(
    'deleted_conversation_retention', 'interval', '"30 days"',
    'How long soft-deleted conversations can be restored before purge_deleted_conversations() removes them.'
);
select llm.define_setting(
    'conversation_cleanup_schedule', 'cron', '"7 * * * *"',
    'pg_cron schedule of llm_cleanup_expired_conversations.'
);
select llm.define_setting(
    'conversation_purge_schedule', 'cron', '"17 3 * * *"',
    'pg_cron schedule of llm_purge_deleted_conversations.'
);

-- ---------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------

create or replace trigger llm_delete_user_conversations
after delete on auth.users
for each row execute function llm.delete_user_conversations();

-- ---------------------------------------------------------------------------------------
-- Policies
-- ---------------------------------------------------------------------------------------

alter table llm.conversations enable row level security;
alter table llm.messages enable row level security;
alter table llm.conversation_summaries enable row level security;

drop policy if exists "Users read their own live conversations" on llm.conversations;
create policy "Users read their own live conversations" on llm.conversations
for select to authenticated using (
    user_id = (select auth.uid())
    and deleted_at is null
    and (expires_at is null or expires_at > now())
);
comment on policy "Users read their own live conversations" on llm.conversations is
'A user sees their conversations that are neither expired nor deleted.';

drop policy if exists "Admins read every conversation" on llm.conversations;
create policy "Admins read every conversation" on llm.conversations
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read every conversation" on llm.conversations is
'Package admins see every conversation, expired and deleted ones included.';

drop policy if exists "Users read messages of their own live conversations" on llm.messages;
create policy "Users read messages of their own live conversations" on llm.messages
for select to authenticated using (
    user_id = (select auth.uid())
    -- the conversation's own policy decides whether it is live
    and exists (
        select from llm.conversations as c
        where c.id = messages.conversation_id
    )
);
comment on policy "Users read messages of their own live conversations" on llm.messages is
'A user sees (and receives over realtime) the messages of their conversations that are neither expired nor deleted.';

drop policy if exists "Admins read every message" on llm.messages;
create policy "Admins read every message" on llm.messages
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read every message" on llm.messages is 'Package admins see every message.';

drop policy if exists "Users read summaries of conversations they can read" on llm.conversation_summaries;
create policy "Users read summaries of conversations they can read" on llm.conversation_summaries
for select to authenticated using (
    exists (
        select from llm.conversations as c
        where c.id = conversation_summaries.conversation_id
    )
);
comment on policy "Users read summaries of conversations they can read" on llm.conversation_summaries is
'Summaries follow their conversation: owners see those of live conversations, admins all.';

-- ---------------------------------------------------------------------------------------
-- Grants
-- ---------------------------------------------------------------------------------------

grant select on llm.conversations, llm.messages, llm.conversation_summaries
to authenticated, service_role;

-- Realtime: clients subscribe to llm.messages (RLS decides what each one receives).
do $$
begin
    if exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime')
        and not exists (
            select from pg_catalog.pg_publication_tables
            where pubname = 'supabase_realtime' and schemaname = 'llm' and tablename = 'messages'
        ) then
        alter publication supabase_realtime add table llm.messages;
    end if;
end
$$;

revoke execute on all functions in schema llm from public, anon;
grant execute on function
llm.create_chat_session(text, text, jsonb),
llm.get_chat_session(text, text),
llm.get_user_chat_sessions(text, integer, integer, boolean),
llm.get_chat_history(text, integer, integer),
llm.update_chat_session(text, text, jsonb),
llm.append_chat_message(text, text, text, text, jsonb, text, integer, integer, integer),
llm.get_chat_messages(text, text, integer, integer),
llm.create_conversation(text, text, integer, jsonb, text),
llm.get_conversation(text),
llm.get_user_conversations(text, integer, boolean),
llm.add_message(text, text, text, jsonb, text, integer, integer, integer),
llm.get_messages(text, integer, uuid, uuid),
llm.extend_ttl(text, integer),
llm.clear_conversation(text),
llm.archive_conversation(text, boolean),
llm.delete_conversation(text),
llm.restore_conversation(text),
llm.edit_message(uuid, text, jsonb, text, integer, integer, integer),
llm.switch_branch(uuid),
llm.get_message_alternatives(uuid),
llm.search_messages(text, text, integer),
llm.add_conversation_summary(text, text, jsonb),
llm.get_conversation_summaries(text),
llm.export_conversation(text),
llm.import_conversation(jsonb, text),
llm.conversation_stats(),
llm.cleanup_expired_conversations(),
llm.purge_deleted_conversations()
to authenticated, service_role;

-- ---------------------------------------------------------------------------------------
-- Jobs
-- ---------------------------------------------------------------------------------------

select llm.register_job(
    'llm_cleanup_expired_conversations', 'conversation_cleanup_schedule',
    'select llm.cleanup_expired_conversations()',
    'Deletes conversations whose TTL has passed, with their messages.'
);
select llm.register_job(
    'llm_purge_deleted_conversations', 'conversation_purge_schedule',
    'select llm.purge_deleted_conversations()',
    'Deletes soft-deleted conversations older than deleted_conversation_retention.'
);
