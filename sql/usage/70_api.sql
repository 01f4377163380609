-- The API (fold, rebuild, backfill, quotas, reservations, retention):
-- SECURITY INVOKER entry points of schema llm, each calling its implementation in llm_private.

create or replace function llm.fold_usage(max_rows integer default null)
returns bigint
language sql
volatile
set search_path = ''
as $$
    select llm_private.fold_usage(max_rows => fold_usage.max_rows);
$$;
comment on function llm.fold_usage(integer) is
'Folds up to max_rows (default: setting usage_fold_batch_rows) rows of llm.usage_journal into llm.usage_rollups and llm.usage_rollup_members, deleting them in the same transaction. One at a time: returns 0 at once when another is running (or a recompute is). A row that cannot be folded moves to llm.usage_journal_rejects with its error instead of blocking the others. Returns the rows taken off the journal (folded or dead-lettered). Admins and service role; each batch of the llm_usage_fold job (llm.run_usage_fold) is one call.';
grant execute on function llm.fold_usage(integer) to authenticated, service_role;

create or replace function llm.aggregate_user_token_usage(
    p_user_id uuid,
    p_period_start timestamptz,
    p_period_end timestamptz,
    p_period_type varchar
)
returns void
language sql
volatile
set search_path = ''
as $$
    select llm_private.aggregate_user_token_usage(
        p_user_id => aggregate_user_token_usage.p_user_id,
        p_period_start => aggregate_user_token_usage.p_period_start,
        p_period_end => aggregate_user_token_usage.p_period_end,
        p_period_type => aggregate_user_token_usage.p_period_type
    );
$$;
comment on function llm.aggregate_user_token_usage(uuid, timestamptz, timestamptz, varchar) is
'Recomputes from the raw request log the p_period_type (daily, weekly, monthly or yearly) rollups of one user for every period overlapping [p_period_start, p_period_end). Idempotent; usage not folded yet is left to the fold, so nothing is counted twice. 22023 when the raw log no longer covers the window. Admins and service role.';
grant execute on function llm.aggregate_user_token_usage(
    uuid, timestamptz, timestamptz, varchar
) to authenticated, service_role;

create or replace function llm.start_usage_backfill(
    from_day date, to_day date, batch_periods integer default 7
)
returns bigint
language sql
volatile
set search_path = ''
as $$
    select llm_private.start_usage_backfill(
        from_day => start_usage_backfill.from_day,
        to_day => start_usage_backfill.to_day,
        batch_periods => start_usage_backfill.batch_periods
    );
$$;
comment on function llm.start_usage_backfill(date, date, integer) is
'Queues a recompute of every user''s daily, weekly, monthly and yearly rollups for the periods overlapping [from_day, to_day] (days in period_timezone), batch_periods periods per batch. Both days finite and at most 36525 days apart (22023). Returns its id; llm.run_usage_backfill() (job llm_usage_backfill) does the work. Admins and service role.';
grant execute on function llm.start_usage_backfill(
    date, date, integer
) to authenticated, service_role;

create or replace function llm.run_usage_backfill(max_batches integer default 10)
returns table (
    backfill_id bigint, period_type text, first_period date, last_period date,
    rollup_rows bigint, skipped_periods integer, status text
)
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.run_usage_backfill(max_batches => run_usage_backfill.max_batches);
$$;
comment on function llm.run_usage_backfill(integer) is
'Recomputes up to max_batches batches of the queued backfills (llm.usage_backfills), oldest first, daily periods, then weekly, monthly and yearly. Periods older than the raw log''s retention are skipped and keep their folded totals. Progress is saved with the transaction, so an interrupted run resumes where the last committed one stopped. Returns one row per batch. Admins and service role.';
grant execute on function llm.run_usage_backfill(integer) to authenticated, service_role;

create or replace function llm.set_user_quota(
    user_id text,
    quota_period text,
    token_limit bigint default null,
    cost_limit numeric default null,
    request_limit bigint default null,
    hard boolean default true
)
returns jsonb
language sql
volatile
set search_path = ''
as $$
    select llm_private.set_user_quota(
        user_id => set_user_quota.user_id,
        quota_period => set_user_quota.quota_period,
        token_limit => set_user_quota.token_limit,
        cost_limit => set_user_quota.cost_limit,
        request_limit => set_user_quota.request_limit,
        hard => set_user_quota.hard
    );
$$;
comment on function llm.set_user_quota(text, text, bigint, numeric, bigint, boolean) is
'Sets the quota of a user (user_id NULL: the default for everyone) for a daily, weekly, monthly or yearly period: token_limit, cost_limit (USD) and request_limit, each NULL for unlimited; hard (default true) is enforced by llm.reserve_quota(), soft is only reported. A user''s row replaces the default for that period. Returns the stored row. Admins and service role.';
grant execute on function llm.set_user_quota(
    text, text, bigint, numeric, bigint, boolean
) to authenticated, service_role;

create or replace function llm.clear_user_quota(user_id text, quota_period text)
returns boolean
language sql
volatile
set search_path = ''
as $$
    select llm_private.clear_user_quota(
        user_id => clear_user_quota.user_id,
        quota_period => clear_user_quota.quota_period
    );
$$;
comment on function llm.clear_user_quota(text, text) is
'Deletes the quota of a user (or, with user_id NULL, the default) for a period; returns whether one existed. Admins and service role.';
grant execute on function llm.clear_user_quota(text, text) to authenticated, service_role;

create or replace function llm.sweep_quota_reservations()
returns bigint
language sql
volatile
set search_path = ''
as $$
    select llm_private.sweep_quota_reservations();
$$;
comment on function llm.sweep_quota_reservations() is
'Deletes the expired quota reservations and returns how many. Admins and service role; run by the llm_quota_reservation_sweep job.';
grant execute on function llm.sweep_quota_reservations() to authenticated, service_role;

create or replace function llm.apply_usage_rollup_retention()
returns table (period_type text, kept_from date, rollup_rows bigint, member_rows bigint)
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.apply_usage_rollup_retention();
$$;
comment on function llm.apply_usage_rollup_retention() is
'Deletes daily rollups older than usage_rollup_daily_retention_days, weekly ones older than usage_rollup_weekly_retention_weeks and monthly ones older than usage_rollup_monthly_retention_months (0 keeps them); yearly rollups are kept. Totals are never lost: every request is folded into all four period types. Admins and service role; run by the llm_usage_rollup_retention job.';
grant execute on function llm.apply_usage_rollup_retention() to authenticated, service_role;
