-- Export and import of whole conversations.

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
grant execute on function llm.export_conversation(text) to authenticated, service_role;

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
grant execute on function llm.import_conversation(jsonb, text) to authenticated, service_role;
