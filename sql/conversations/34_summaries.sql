-- Conversation summaries.

-- Stores a summary of a conversation (backends, which produce them with a model).
create or replace function llm_private.add_conversation_summary(
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
comment on function llm_private.add_conversation_summary(
    text, text, jsonb
) is
'Implementation of llm.add_conversation_summary() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.add_conversation_summary(
    text, text, jsonb
) to authenticated, service_role;

-- Summaries of a conversation, oldest first.
create or replace function llm_private.get_conversation_summaries(conversation_id text)
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
comment on function llm_private.get_conversation_summaries(text) is
'Implementation of llm.get_conversation_summaries() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.get_conversation_summaries(text) to authenticated, service_role;
