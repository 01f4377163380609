-- The API (conversation api, branching, search, summaries, export import, maintenance):
-- SECURITY INVOKER entry points of schema llm, each calling its implementation in llm_private.

create or replace function llm.extend_ttl(conversation_id text, hours integer)
returns llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select llm_private.extend_ttl(
        conversation_id => extend_ttl.conversation_id,
        hours => extend_ttl.hours
    );
$$;
comment on function llm.extend_ttl(text, integer) is
'Adds hours to expires_at (a conversation that never expires stays so) and returns the conversation.';
grant execute on function llm.extend_ttl(text, integer) to authenticated, service_role;

create or replace function llm.clear_conversation(conversation_id text)
returns integer
language sql
volatile
set search_path = ''
as $$
    select llm_private.clear_conversation(conversation_id => clear_conversation.conversation_id);
$$;
comment on function llm.clear_conversation(text) is
'Deletes all messages of a conversation (counters back to zero) and returns how many were deleted.';
grant execute on function llm.clear_conversation(text) to authenticated, service_role;

create or replace function llm.archive_conversation(conversation_id text, archived boolean default true)
returns llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select llm_private.archive_conversation(
        conversation_id => archive_conversation.conversation_id,
        archived => archive_conversation.archived
    );
$$;
comment on function llm.archive_conversation(text, boolean) is
'Sets or clears archived_at; archived conversations are left out of the lists unless include_archived.';
grant execute on function llm.archive_conversation(text, boolean) to authenticated, service_role;

create or replace function llm.delete_conversation(conversation_id text)
returns boolean
language sql
volatile
set search_path = ''
as $$
    select llm_private.delete_conversation(conversation_id => delete_conversation.conversation_id);
$$;
comment on function llm.delete_conversation(text) is
'Soft-deletes a conversation (invisible at once, purged after deleted_conversation_retention); true on success.';
grant execute on function llm.delete_conversation(text) to authenticated, service_role;

create or replace function llm.restore_conversation(conversation_id text)
returns llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select llm_private.restore_conversation(conversation_id => restore_conversation.conversation_id);
$$;
comment on function llm.restore_conversation(text) is
'Brings back a soft-deleted conversation that has not been purged yet.';
grant execute on function llm.restore_conversation(text) to authenticated, service_role;

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
language sql
volatile
set search_path = ''
as $$
    select llm_private.edit_message(
        message_id => edit_message.message_id,
        content => edit_message.content,
        metadata => edit_message.metadata,
        model => edit_message.model,
        tokens => edit_message.tokens,
        prompt_tokens => edit_message.prompt_tokens,
        completion_tokens => edit_message.completion_tokens
    );
$$;
comment on function llm.edit_message(uuid, text, jsonb, text, integer, integer, integer) is
'Adds an alternative to a message (same parent and role) and makes it the active branch; the old branch is kept. Regenerating an assistant reply is edit_message by the service role.';
grant execute on function llm.edit_message(
    uuid, text, jsonb, text, integer, integer, integer
) to authenticated, service_role;

create or replace function llm.switch_branch(message_id uuid)
returns llm.chat_message
language sql
volatile
set search_path = ''
as $$
    select llm_private.switch_branch(message_id => switch_branch.message_id);
$$;
comment on function llm.switch_branch(uuid) is
'Makes the branch through message_id active (following its most recent replies to a leaf) and returns the new leaf.';
grant execute on function llm.switch_branch(uuid) to authenticated, service_role;

create or replace function llm.get_message_alternatives(message_id uuid)
returns setof llm.chat_message
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.get_message_alternatives(message_id => get_message_alternatives.message_id);
$$;
comment on function llm.get_message_alternatives(uuid) is
'The message and its siblings (edits, regenerations), oldest first; active marks the one on the active branch.';
grant execute on function llm.get_message_alternatives(uuid) to authenticated, service_role;

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
volatile
set search_path = ''
as $$
    select * from llm_private.search_messages(
        query => search_messages.query,
        user_id => search_messages.user_id,
        "limit" => search_messages."limit"
    );
$$;
comment on function llm.search_messages(text, text, integer) is
'Web-style full-text search (english) over the user''s messages in live conversations, ranked on the positive terms, with the conversation id and title and a highlighted snippet. Backends name the user (user_id, 22023 when omitted).';
grant execute on function llm.search_messages(text, text, integer) to authenticated, service_role;

create or replace function llm.add_conversation_summary(
    conversation_id text, summary text, key_points jsonb default null
)
returns llm.conversation_summaries
language sql
volatile
set search_path = ''
as $$
    select llm_private.add_conversation_summary(
        conversation_id => add_conversation_summary.conversation_id,
        summary => add_conversation_summary.summary,
        key_points => add_conversation_summary.key_points
    );
$$;
comment on function llm.add_conversation_summary(text, text, jsonb) is
'Stores a summary (text and key points) of a conversation; service role only (42501).';
grant execute on function llm.add_conversation_summary(
    text, text, jsonb
) to authenticated, service_role;

create or replace function llm.get_conversation_summaries(conversation_id text)
returns setof llm.conversation_summaries
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.get_conversation_summaries(
        conversation_id => get_conversation_summaries.conversation_id
    );
$$;
comment on function llm.get_conversation_summaries(text) is 'Summaries of a conversation, oldest first.';
grant execute on function llm.get_conversation_summaries(text) to authenticated, service_role;

create or replace function llm.export_conversation(conversation_id text)
returns jsonb
language sql
volatile
set search_path = ''
as $$
    select llm_private.export_conversation(conversation_id => export_conversation.conversation_id);
$$;
comment on function llm.export_conversation(text) is
'JSON with the conversation fields, metadata, summaries and every message in order (branches with parent_id and active); import_conversation() reads it back.';
grant execute on function llm.export_conversation(text) to authenticated, service_role;

create or replace function llm.import_conversation(
    conversation jsonb, user_id text default null, as_new boolean default false
)
returns llm.chat_session
language sql
volatile
set search_path = ''
as $$
    select llm_private.import_conversation(
        conversation => import_conversation.conversation,
        user_id => import_conversation.user_id,
        as_new => import_conversation.as_new
    );
$$;
comment on function llm.import_conversation(jsonb, text, boolean) is
'Creates a conversation from export_conversation() output (or {messages: [{role, content}]}), keeping branches and timestamps. Backends keep the document''s ids (23505 when taken); signed-in users'' imports get new ids (a client id is kept); as_new => true makes a copy with new ids and no client id. Owner: user_id, else (backends) the document''s user_id; users may import only user messages (42501). 22023/22004 name the bad field.';
grant execute on function llm.import_conversation(jsonb, text, boolean) to authenticated, service_role;

create or replace function llm.conversation_stats()
returns jsonb
language sql
volatile
set search_path = ''
as $$
    select llm_private.conversation_stats();
$$;
comment on function llm.conversation_stats() is
'JSON: total_conversations and total_messages (live ones), total_tokens, archived, expired (awaiting cleanup) and deleted conversations, ttl_hours. Global for backends and admins, own for users.';
grant execute on function llm.conversation_stats() to authenticated, service_role;

create or replace function llm.cleanup_expired_conversations()
returns integer
language sql
volatile
set search_path = ''
as $$
    select llm_private.cleanup_expired_conversations();
$$;
comment on function llm.cleanup_expired_conversations() is
'Deletes conversations whose expires_at has passed (with their messages); returns how many. Service role and admins.';
grant execute on function llm.cleanup_expired_conversations() to authenticated, service_role;

create or replace function llm.purge_deleted_conversations()
returns integer
language sql
volatile
set search_path = ''
as $$
    select llm_private.purge_deleted_conversations();
$$;
comment on function llm.purge_deleted_conversations() is
'Deletes conversations soft-deleted longer ago than deleted_conversation_retention; returns how many. Service role and admins.';
grant execute on function llm.purge_deleted_conversations() to authenticated, service_role;
