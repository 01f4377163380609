-- Usage views (security invoker: users see their own usage, admins everyone's).

create or replace view llm.usage_live with (security_invoker = true) as
with tz as materialized (select llm_private.setting_text('period_timezone') as name)

select
    r.user_id,
    r.period_type,
    r.period_start,
    r.provider,
    r.model,
    r.request_type,
    r.requests,
    r.failed_requests,
    r.prompt_tokens,
    r.completion_tokens,
    r.cached_tokens,
    r.cache_write_tokens,
    r.total_tokens,
    r.audio_seconds,
    r.cost_usd,
    r.cache_hits,
    r.saved_tokens,
    r.saved_cost_usd,
    r.last_activity
from llm.usage_rollups as r
union all
select
    j.user_id,
    p.period_type,
    p.period_start,
    j.provider,
    j.model,
    j.request_type,
    j.requests::bigint as requests,
    (case when j.success then 0 else j.requests end)::bigint as failed_requests,
    j.prompt_tokens::bigint as prompt_tokens,
    j.completion_tokens::bigint as completion_tokens,
    j.cached_tokens::bigint as cached_tokens,
    j.cache_write_tokens::bigint as cache_write_tokens,
    j.total_tokens::bigint as total_tokens,
    coalesce(j.audio_seconds, 0) as audio_seconds,
    coalesce(j.cost_usd, 0) as cost_usd,
    (case when j.cache_hit then j.requests else 0 end)::bigint as cache_hits,
    j.saved_tokens::bigint as saved_tokens,
    coalesce(j.saved_cost_usd, 0) as saved_cost_usd,
    case when j.requests > 0 then j.occurred_at end as last_activity
from llm.usage_journal as j
cross join tz
cross join
    lateral (
        -- the four periods of llm.usage_periods, spelled out so they are computed in place
        values
        ('daily', pg_catalog.timezone(tz.name, j.occurred_at)::date),
        ('weekly', pg_catalog.date_trunc('week', pg_catalog.timezone(tz.name, j.occurred_at))::date),
        ('monthly', pg_catalog.date_trunc('month', pg_catalog.timezone(tz.name, j.occurred_at))::date),
        ('yearly', pg_catalog.date_trunc('year', pg_catalog.timezone(tz.name, j.occurred_at))::date)
    ) as p (period_type, period_start);
comment on view llm.usage_live is
'Exact, real-time usage: the rollup rows plus the journal rows not folded yet, bucketed the same way (daily, weekly, monthly, yearly in period_timezone). Sum it per user and period; read it in one statement.';
revoke all on llm.usage_live from anon, authenticated, service_role;
grant select on llm.usage_live to authenticated, service_role;

create or replace view llm.usage_members_live with (security_invoker = true) as
with tz as materialized (select llm_private.setting_text('period_timezone') as name)

select
    m.user_id,
    m.period_type,
    m.period_start,
    m.member_type,
    m.member_id
from llm.usage_rollup_members as m
union all
select
    j.user_id,
    p.period_type,
    p.period_start,
    t.member_type,
    t.member_id
from llm.usage_journal as j
cross join tz
cross join
    lateral (
        -- the four periods of llm.usage_periods, spelled out so they are computed in place
        values
        ('daily', pg_catalog.timezone(tz.name, j.occurred_at)::date),
        ('weekly', pg_catalog.date_trunc('week', pg_catalog.timezone(tz.name, j.occurred_at))::date),
        ('monthly', pg_catalog.date_trunc('month', pg_catalog.timezone(tz.name, j.occurred_at))::date),
        ('yearly', pg_catalog.date_trunc('year', pg_catalog.timezone(tz.name, j.occurred_at))::date)
    ) as p (period_type, period_start)
cross join
    lateral (
        values ('conversation', j.conversation_id), ('agent', j.agent_id)
    ) as t (member_type, member_id)
where j.user_id is not null and t.member_id is not null;
comment on view llm.usage_members_live is
'Conversations and agents of each user and period, folded or not (may repeat: count distinct).';
revoke all on llm.usage_members_live from anon, authenticated, service_role;
grant select on llm.usage_members_live to authenticated, service_role;

create or replace view llm.daily_usage_summary with (security_invoker = true) as
select
    l.period_start as date,
    l.provider,
    l.model,
    l.request_type,
    sum(l.requests) as count,
    sum(l.failed_requests) as failed_count,
    sum(l.total_tokens) as total_tokens,
    sum(l.cost_usd) as total_cost,
    sum(l.cache_hits) as cache_hits,
    sum(l.saved_cost_usd) as saved_cost,
    sum(l.saved_tokens) as saved_tokens
from llm.usage_live as l
where l.period_type = 'daily'
group by l.period_start, l.provider, l.model, l.request_type;
comment on view llm.daily_usage_summary is
'Requests (count), tokens consumed (total_tokens: cache hits excluded, as in llm.daily_usage()) and cost (total_cost, USD) per day (period_timezone), provider, model and request type, with the cache hits, their tokens (saved_tokens) and what they saved (saved_cost); from the rollups, real time. Users see their own usage, admins everyone''s.';
revoke all on llm.daily_usage_summary from anon, authenticated, service_role;
grant select on llm.daily_usage_summary to authenticated, service_role;

create or replace view llm.user_token_usage with (security_invoker = true) as
select
    l.user_id,
    (llm.usage_period_bounds(l.period_type, l.period_start)).starts_at as period_start,
    (llm.usage_period_bounds(l.period_type, l.period_start)).ends_at as period_end,
    l.period_type,
    sum(l.prompt_tokens) as total_prompt_tokens,
    sum(l.completion_tokens) as total_completion_tokens,
    sum(l.total_tokens) as total_tokens,
    sum(l.cost_usd) as total_cost_usd,
    sum(l.requests) as message_count,
    (
        select count(distinct m.member_id) from llm.usage_members_live as m
        where m.user_id = l.user_id and m.period_type = l.period_type
            and m.period_start = l.period_start and m.member_type = 'conversation'
    ) as conversation_count,
    array(
        select distinct m.member_id from llm.usage_members_live as m
        where m.user_id = l.user_id and m.period_type = l.period_type
            and m.period_start = l.period_start and m.member_type = 'agent'
        order by m.member_id
    ) as agent_ids,
    max(l.last_activity) as last_activity
from llm.usage_live as l
where l.user_id is not null
group by l.user_id, l.period_type, l.period_start;
comment on view llm.user_token_usage is
'Per user and period (daily, weekly, monthly, yearly): prompt, completion and total tokens, cost, requests (message_count), distinct conversations, agents used and last activity; the shape of a user_token_usage table, real time. Users see their own, admins everyone''s.';
revoke all on llm.user_token_usage from anon, authenticated, service_role;
grant select on llm.user_token_usage to authenticated, service_role;

create or replace view llm.user_usage_stats with (security_invoker = true) as
select
    l.user_id,
    l.period_type,
    l.period_start,
    (l.period_start + llm.period_step(l.period_type))::date - 1 as period_end,
    sum(l.total_tokens) as tokens_consumed,
    sum(l.requests) as requests_count,
    sum(l.cost_usd) as cost_usd,
    (
        select q.token_limit from llm.effective_quotas(l.user_id) as q
        where q.quota_period = l.period_type
    ) as quota_limit
from llm.usage_live as l
where l.user_id is not null and l.period_type = 'daily'
group by l.user_id, l.period_type, l.period_start;
comment on view llm.user_usage_stats is
'Per user and day (daily rows only, like the user_usage_stats table it replaces; period_type is always daily): tokens_consumed (cache hits excluded), requests_count, cost and the daily token quota_limit in force, with period_start and period_end (the same day) as dates; real time. Weekly, monthly and yearly totals: llm.user_token_usage.';
revoke all on llm.user_usage_stats from anon, authenticated, service_role;
grant select on llm.user_usage_stats to authenticated, service_role;
