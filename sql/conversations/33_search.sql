-- Full-text search over a user's messages.

-- Body of search_messages (whose API parameter name limit is a reserved word in plpgsql);
-- plpgsql so each search is planned with the user and the query it has.
create or replace function llm.search_user_messages(p_user_id text, p_query text, p_limit integer)
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
language plpgsql
set search_path = ''
as $$
declare
    v_user uuid := llm.resolve_user(p_user_id, true);
    v_limit integer := llm.check_page_arg(p_limit, 'limit');
    v_query tsquery;
    v_positive text;
    v_rank_query tsquery;
begin
    if p_query is null or p_query !~ '\S' then
        raise exception 'query must not be null or blank' using errcode = '22023';
    end if;
    v_query := websearch_to_tsquery('english'::regconfig, p_query);
    -- rank on the positive terms only: a negated term ranks every hit near zero ('revenue
    -- -forecast' would rank all hits 1e-20); a query of negated terms only ranks 0 (newest first)
    v_positive := querytree(v_query);
    if v_positive not in ('T', '') then
        v_rank_query := v_positive::tsquery;
    end if;
    return query
    select
        hit.id, hit.conversation_id, hit.title, hit.role, hit.content, hit.created_at, hit.active,
        hit.score,
        ts_headline('english'::regconfig, left(hit.content, 100000), v_query, 'MaxFragments=2')
    from (
        select
            m.id, m.conversation_id, c.title, m.role, m.content, m.created_at, m.active,
            coalesce(ts_rank(m.search, v_rank_query), 0) as score
        from llm.messages as m
        inner join llm.conversations as c on c.id = m.conversation_id
        where
            m.user_id = v_user
            and m.search @@ v_query
            and c.deleted_at is null
            and (c.expires_at is null or c.expires_at > now())
        order by score desc, m.created_at desc, m.id
        limit v_limit
    ) as hit
    order by hit.score desc, hit.created_at desc, hit.id;
end;
$$;
comment on function llm.search_user_messages(text, text, integer) is
'Internal: the body of search_messages.';

-- Full-text search over a user's own messages, best matches first.
create or replace function llm_private.search_messages(
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
security definer
set search_path = ''
as $$
    select s.*
    from llm.search_user_messages(
        search_messages.user_id, search_messages.query, search_messages."limit"
    ) as s;
$$;
comment on function llm_private.search_messages(text, text, integer) is
'Implementation of llm.search_messages() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.search_messages(text, text, integer) to authenticated, service_role;
