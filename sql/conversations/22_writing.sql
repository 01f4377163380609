-- Writing messages and branches, creating conversations, paging messages.

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
    -- An expired conversation is gone for every function already; cleanup would delete it, so
    -- its id is freed now rather than refused.
    if p_id is not null then
        delete from llm.conversations as c
        where (c.id = v_uuid or c.external_id = v_external) and c.expires_at <= now();
    end if;
    begin
        insert into llm.conversations as c (id, external_id, user_id, title, metadata, expires_at)
        values (
            coalesce(v_uuid, gen_random_uuid()), v_external, p_user, p_title,
            llm.check_metadata(p_metadata, 'metadata'), p_expires_at
        )
        returning c.* into v_conv;
    exception when unique_violation then
        -- a soft-deleted conversation keeps its id until it is purged, so it can be restored;
        -- only a caller who may see it is told so
        if exists (
            select from llm.conversations as c
            where (c.id = v_uuid or c.external_id = v_external) and c.deleted_at is not null
                and (llm.is_backend() or c.user_id = auth.uid())
        ) then
            raise exception 'conversation_id % belongs to a deleted conversation', quote_literal(p_id)
                using errcode = '23505',
                hint = 'restore it with restore_conversation, or choose another id (it is freed when purged)';
        end if;
        raise exception 'conversation_id % already exists', quote_literal(p_id)
            using errcode = '23505';
    end;
    return v_conv;
end;
$$;
comment on function llm.new_conversation(text, uuid, text, jsonb, timestamptz) is
'Inserts a conversation: a UUID id becomes its id, any other id its external_id (22023 if blank or too long, 23505 if taken by a live or soft-deleted conversation; an expired one is removed first).';

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
    v_label text := llm_private.user_label(v_conv.user_id);
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
