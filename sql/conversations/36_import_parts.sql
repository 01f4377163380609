-- Parts of import_conversation: the active-branch check and the summaries.

-- Checks that an imported conversation's active messages form one branch from a first message.
create or replace function llm.import_check_branch(p_conversation_id uuid)
returns void
language plpgsql
set search_path = ''
as $$
declare
    v_leaf uuid;
    v_path integer;
    v_rooted boolean;
begin
    select m.id into v_leaf from llm.messages as m
    where m.conversation_id = p_conversation_id and m.active
    order by m.seq desc limit 1;
    if v_leaf is null then
        return;
    end if;
    -- walk up from the newest active message through active parents: the walk must cover every
    -- active message and end at a message without a parent
    with recursive up as (
        select m.id, m.parent_id from llm.messages as m where m.id = v_leaf
        union all
        select p.id, p.parent_id from up inner join llm.messages as p on p.id = up.parent_id and p.active
    )
    select count(*), coalesce(bool_or(up.parent_id is null), false) into v_path, v_rooted from up;
    if not v_rooted or v_path <> (
        select count(*) from llm.messages as m where m.conversation_id = p_conversation_id and m.active
    ) then
        raise exception 'conversation.messages: the active ones must form one branch from a first message (parent_id null)'
            using errcode = '22023';
    end if;
end;
$$;
comment on function llm.import_check_branch(uuid) is
'Internal (import_conversation): 22023 unless the active messages form one branch that starts at a message without a parent.';

-- Imports the summaries of a document (backends only): ids kept when asked, fields checked.
create or replace function llm.import_summaries(p_conv llm.conversations, p_summaries jsonb, p_keep_ids boolean)
returns void
language plpgsql
set search_path = ''
as $$
declare
    v_item jsonb;
    v_index integer;
    v_field text;
    v_id uuid;
    v_key_points jsonb;
begin
    if p_summaries is null or jsonb_typeof(p_summaries) <> 'array' or jsonb_array_length(p_summaries) = 0 then
        return;
    end if;
    if not llm.is_backend() then
        raise exception 'only the service role may import conversation summaries'
            using errcode = '42501';
    end if;
    for v_item, v_index in
        select e.value, e.ordinality::integer from jsonb_array_elements(p_summaries) with ordinality as e
    loop
        v_field := format('conversation.summaries[%s]', v_index - 1);
        if jsonb_typeof(v_item) <> 'object' then
            raise exception '% must be a JSON object', v_field using errcode = '22023';
        end if;
        v_key_points := coalesce(nullif(v_item -> 'key_points', 'null'::jsonb), '[]'::jsonb);
        if jsonb_typeof(v_key_points) not in ('array', 'object') then
            raise exception '%.key_points must be a JSON array or object, got %', v_field, jsonb_typeof(v_key_points)
                using errcode = '22023';
        end if;
        v_id := case when p_keep_ids then llm.json_uuid(v_item -> 'id', v_field || '.id') end;
        if v_id is not null and exists (select from llm.conversation_summaries as s where s.id = v_id) then
            raise exception '%.id % already exists', v_field, v_id
                using errcode = '23505', hint = 'import with as_new => true to make a copy';
        end if;
        insert into llm.conversation_summaries (id, conversation_id, user_id, summary, key_points, created_at)
        values (
            coalesce(v_id, gen_random_uuid()), p_conv.id, p_conv.user_id,
            llm.json_text(v_item -> 'summary', v_field || '.summary'), v_key_points,
            coalesce(llm.json_timestamptz(v_item -> 'created_at', v_field || '.created_at'), now())
        );
    end loop;
end;
$$;
comment on function llm.import_summaries(llm.conversations, jsonb, boolean) is
'Internal (import_conversation): inserts a document''s summaries (service role only, 42501), naming a bad field with 22004/22023 and a taken id with 23505.';
