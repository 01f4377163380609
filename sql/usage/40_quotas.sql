-- Setting and clearing quotas.

-- Sets a user's quota for a period, or the default for everyone (user_id NULL).
create or replace function llm_private.set_user_quota(
    user_id text,
    quota_period text,
    token_limit bigint default null,
    cost_limit numeric default null,
    request_limit bigint default null,
    hard boolean default true
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid;
    v_period text := llm.check_period_type('quota_period', set_user_quota.quota_period);
    v_row llm.usage_quotas;
begin
    perform llm.require_admin('set quotas');
    if set_user_quota.user_id is not null then
        v_user := llm_private.user_uuid(set_user_quota.user_id);
    end if;
    if set_user_quota.token_limit < 0 or set_user_quota.request_limit < 0 then
        raise exception '% must be >= 0 or NULL (unlimited), got %',
            case when set_user_quota.token_limit < 0 then 'token_limit' else 'request_limit' end,
            least(set_user_quota.token_limit, set_user_quota.request_limit)
            using errcode = '22023';
    end if;
    if not (set_user_quota.cost_limit >= 0 and set_user_quota.cost_limit < 'infinity'::numeric) then
        raise exception 'cost_limit must be a finite number >= 0 or NULL (unlimited), got %',
            set_user_quota.cost_limit
            using errcode = '22023';
    end if;
    if set_user_quota.hard is null then
        raise exception 'hard must be true (enforced) or false (reported only)' using errcode = '22004';
    end if;
    insert into llm.usage_quotas as q (
        user_id, quota_period, token_limit, cost_limit, request_limit, hard, updated_by
    )
    values (
        v_user, v_period, set_user_quota.token_limit, set_user_quota.cost_limit,
        set_user_quota.request_limit, set_user_quota.hard, auth.uid()
    )
    on conflict on constraint usage_quotas_key do update
        set token_limit = excluded.token_limit,
            cost_limit = excluded.cost_limit,
            request_limit = excluded.request_limit,
            hard = excluded.hard,
            updated_at = now(),
            updated_by = excluded.updated_by
    returning q.* into v_row;
    return to_jsonb(v_row);
end;
$$;
comment on function llm_private.set_user_quota(
    text, text, bigint, numeric, bigint, boolean
) is
'Implementation of llm.set_user_quota() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.set_user_quota(
    text, text, bigint, numeric, bigint, boolean
) to authenticated, service_role;

-- Removes a user's own quota for a period, so the default applies again.
create or replace function llm_private.clear_user_quota(user_id text, quota_period text)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_period text := llm.check_period_type('quota_period', clear_user_quota.quota_period);
begin
    perform llm.require_admin('clear quotas');
    delete from llm.usage_quotas as q
    where q.user_id is not distinct from (
            case when clear_user_quota.user_id is not null then llm_private.user_uuid(clear_user_quota.user_id) end
        )
        and q.quota_period = v_period;
    return found;
end;
$$;
comment on function llm_private.clear_user_quota(text, text) is
'Implementation of llm.clear_user_quota() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.clear_user_quota(text, text) to authenticated, service_role;
