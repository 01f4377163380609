-- Conversations, messages and summaries: tables and indexes.

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

create index if not exists conversations_user_recent_idx
on llm.conversations (user_id, updated_at desc, id desc);

create index if not exists conversations_expires_at_idx
on llm.conversations (expires_at) where expires_at is not null;

create index if not exists conversations_deleted_at_idx
on llm.conversations (deleted_at) where deleted_at is not null;
alter table llm.conversations enable row level security;
grant select on llm.conversations to authenticated, service_role;

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

create index if not exists messages_parent_id_idx on llm.messages (parent_id);

create index if not exists messages_roots_idx on llm.messages (conversation_id) where parent_id is null;

create index if not exists messages_user_id_idx on llm.messages (user_id);

create index if not exists messages_search_idx on llm.messages using gin (search);
alter table llm.messages enable row level security;
grant select on llm.messages to authenticated, service_role;

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

create index if not exists conversation_summaries_conversation_idx
on llm.conversation_summaries (conversation_id, created_at);
alter table llm.conversation_summaries enable row level security;
grant select on llm.conversation_summaries to authenticated, service_role;
