-- Result types of the chat API: a session and a message.

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
