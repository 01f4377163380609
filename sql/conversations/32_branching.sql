-- Branching: edit a message, switch branches, list alternatives.

-- Edits (or regenerates) a message: adds a sibling with the same role and makes it active,
-- keeping the original and everything after it as another branch.
create or replace function llm_private.edit_message(
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
        llm_private.user_label(v_conv.user_id)
    );
end;
$$;
comment on function llm_private.edit_message(
    uuid, text, jsonb, text, integer, integer, integer
) is
'Implementation of llm.edit_message() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.edit_message(
    uuid, text, jsonb, text, integer, integer, integer
) to authenticated, service_role;

-- Makes the branch through a message active, continuing down its most recent replies.
create or replace function llm_private.switch_branch(message_id uuid)
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
    return llm.as_chat_message(v_leaf, llm_private.user_label(v_conv.user_id));
end;
$$;
comment on function llm_private.switch_branch(uuid) is
'Implementation of llm.switch_branch() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.switch_branch(uuid) to authenticated, service_role;

-- Lists a message and its alternatives (same parent), oldest first.
create or replace function llm_private.get_message_alternatives(message_id uuid)
returns setof llm.chat_message
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_conv llm.conversations := llm.find_message_conversation(get_message_alternatives.message_id, false);
    v_label text := llm_private.user_label(v_conv.user_id);
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
comment on function llm_private.get_message_alternatives(uuid) is
'Implementation of llm.get_message_alternatives() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_message_alternatives(uuid) to authenticated, service_role;
