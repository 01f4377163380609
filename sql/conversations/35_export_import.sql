-- Export and import of whole conversations.

-- A whole conversation as one JSON document, every branch included, for backup or moving.
create or replace function llm_private.export_conversation(conversation_id text)
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
comment on function llm_private.export_conversation(text) is
'Implementation of llm.export_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.export_conversation(text) to authenticated, service_role;

-- Loads a conversation from export_conversation() output (or any {messages: [...]} document).
-- Backends keep the document's ids; signed-in users' imports get new ones, so an import never
-- depends on (or reveals) ids held outside the caller's own rows; as_new makes a copy.
create or replace function llm_private.import_conversation(
    conversation jsonb, user_id text default null, as_new boolean default false
)
returns llm.chat_session
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_doc jsonb := import_conversation.conversation;
    v_keep_ids boolean;
    v_user uuid;
    v_conv llm.conversations;
    v_conv_id uuid;
    v_item jsonb;
    v_index integer;
    v_field text;
    v_doc_ids uuid [] := array[]::uuid [];
    v_ids uuid [] := array[]::uuid [];
    v_doc_id uuid;
    v_id uuid;
    v_parent uuid;
    v_metadata jsonb;
    v_counts integer [];
    v_leaf uuid;
begin
    if import_conversation.as_new is null then
        raise exception 'as_new must not be null' using errcode = '22004';
    end if;
    if v_doc is null or jsonb_typeof(v_doc) <> 'object' then
        raise exception 'conversation must be a JSON object (what export_conversation returns)'
            using errcode = '22023';
    end if;
    if jsonb_typeof(coalesce(v_doc -> 'messages', '[]')) <> 'array' then
        raise exception 'conversation.messages must be a JSON array' using errcode = '22023';
    end if;
    if jsonb_typeof(coalesce(nullif(v_doc -> 'summaries', 'null'::jsonb), '[]')) <> 'array' then
        raise exception 'conversation.summaries must be a JSON array' using errcode = '22023';
    end if;
    v_keep_ids := llm.is_backend() and not import_conversation.as_new;
    if import_conversation.user_id is not null or not llm.is_backend() then
        v_user := llm.resolve_user(import_conversation.user_id, false);
    elsif v_doc ->> 'user_id' is not null then
        v_user := llm_private.user_uuid(v_doc ->> 'user_id');
    end if;
    v_conv_id := llm.json_uuid(v_doc -> 'id', 'conversation.id');
    v_conv := llm.new_conversation(
        case
            when import_conversation.as_new then null
            when v_keep_ids then coalesce(v_doc ->> 'conversation_id', v_conv_id::text)
            -- a user's import keeps a client id (unique for everyone, see create_conversation)
            when v_doc ->> 'conversation_id' !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                then v_doc ->> 'conversation_id'
        end,
        v_user, v_doc ->> 'title', v_doc -> 'metadata',
        llm.json_timestamptz(v_doc -> 'expires_at', 'conversation.expires_at')
    );
    if v_keep_ids and v_conv_id is not null and v_conv.id <> v_conv_id then
        if exists (select from llm.conversations as c where c.id = v_conv_id) then
            raise exception 'conversation.id % already exists', v_conv_id
                using errcode = '23505', hint = 'import with as_new => true to make a copy';
        end if;
        update llm.conversations as c set id = v_conv_id where c.id = v_conv.id
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
        v_metadata := llm.check_message(
            llm.json_text(v_item -> 'role', v_field || '.role'),
            llm.json_text(v_item -> 'content', v_field || '.content'),
            v_item -> 'metadata'
        );
        v_counts := llm.message_tokens(
            v_metadata,
            llm.token_count(v_item -> 'tokens', v_field || '.tokens'),
            llm.token_count(v_item -> 'prompt_tokens', v_field || '.prompt_tokens'),
            llm.token_count(v_item -> 'completion_tokens', v_field || '.completion_tokens')
        );
        v_doc_id := llm.json_uuid(v_item -> 'id', v_field || '.id');
        if v_doc_id = any(v_doc_ids) then
            raise exception '%.id % appears twice in this conversation', v_field, v_doc_id
                using errcode = '22023';
        end if;
        v_id := case when v_keep_ids then v_doc_id end;
        if v_id is not null and exists (select from llm.messages as m where m.id = v_id) then
            raise exception '%.id % already exists', v_field, v_id
                using errcode = '23505', hint = 'import with as_new => true to make a copy';
        end if;
        v_id := coalesce(v_id, gen_random_uuid());
        if v_item ? 'parent_id' then
            v_parent := llm.json_uuid(v_item -> 'parent_id', v_field || '.parent_id');
            if v_parent is not null then
                if array_position(v_doc_ids, v_parent) is null then
                    raise exception '%.parent_id % is not an earlier message of this conversation',
                        v_field, v_parent
                        using errcode = '22023';
                end if;
                v_parent := v_ids[array_position(v_doc_ids, v_parent)];
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
            coalesce(llm.json_boolean(v_item -> 'active', v_field || '.active'), true),
            coalesce(
                llm.json_timestamptz(v_item -> 'created_at', v_field || '.created_at'),
                llm.json_timestamptz(v_item -> 'timestamp', v_field || '.timestamp'),
                now()
            )
        );
        -- a message without an id can only be named by position, so a placeholder keeps places
        v_doc_ids := v_doc_ids || coalesce(v_doc_id, gen_random_uuid());
        v_ids := v_ids || v_id;
    end loop;
    perform llm.import_check_branch(v_conv.id);
    v_leaf := (
        select m.id from llm.messages as m
        where m.conversation_id = v_conv.id and m.active
        order by m.seq desc limit 1
    );
    update llm.conversations as c
    set message_count = agg.n,
        prompt_tokens = agg.prompt,
        completion_tokens = agg.completion,
        total_tokens = agg.total,
        last_seq = agg.n,
        last_message_at = agg.last_at,
        active_leaf_id = v_leaf,
        archived_at = llm.json_timestamptz(v_doc -> 'archived_at', 'conversation.archived_at'),
        created_at = coalesce(llm.json_timestamptz(v_doc -> 'created_at', 'conversation.created_at'), c.created_at),
        updated_at = coalesce(llm.json_timestamptz(v_doc -> 'updated_at', 'conversation.updated_at'), c.updated_at)
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
    perform llm.import_summaries(v_conv, v_doc -> 'summaries', v_keep_ids);
    return llm.as_chat_session(v_conv);
end;
$$;
comment on function llm_private.import_conversation(jsonb, text, boolean) is
'Implementation of llm.import_conversation() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.import_conversation(jsonb, text, boolean) to authenticated, service_role;
