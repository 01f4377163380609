-- Argument checks and result shapes shared by the chat API.

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
    v_max integer := llm_private.setting_text('max_message_bytes')::integer;
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
    v_sum bigint;
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
    v_sum := coalesce(v_prompt, 0)::bigint + coalesce(v_completion, 0);
    if v_sum > 2147483647 then
        raise exception 'tokens (prompt_tokens + completion_tokens) must be at most 2147483647, got %', v_sum
            using errcode = '22023';
    end if;
    v_total := coalesce(
        p_tokens,
        llm.token_count(p_metadata -> 'tokens', 'metadata.tokens'),
        llm.token_count(p_metadata -> 'total_tokens', 'metadata.total_tokens'),
        llm.token_count(p_metadata #> '{usage,total_tokens}', 'metadata.usage.total_tokens'),
        llm.token_count(
            p_metadata #> '{processingDetails,total_tokens}',
            'metadata.processingDetails.total_tokens'
        ),
        v_sum::integer
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
        p_conv.id, coalesce(p_conv.external_id, p_conv.id::text), llm_private.user_label(p_conv.user_id),
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
