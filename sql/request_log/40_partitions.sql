-- Daily partitions, and retention that drops only partitions whose usage is folded.

-- The retention watermark: raw rows may only be dropped once their usage is folded.
create or replace function llm.usage_folded_before()
returns timestamptz
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(min(j.occurred_at), 'infinity'::timestamptz) from llm.usage_journal as j;
$$;
comment on function llm.usage_folded_before() is
'Watermark T: the usage of every request logged before T is folded (no journal row older than T is left). infinity when the journal is empty. Exact when read while llm.request_logs is locked.';
grant execute on function llm.usage_folded_before() to service_role;

-- Creates the daily partitions of a range of UTC days, moving rows that waited in the
-- default partition into their new partition.
create or replace function llm_private.create_request_log_partitions(
    from_day date default null, to_day date default null
)
returns setof text
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
    v_from date := coalesce(
        create_request_log_partitions.from_day, (now() at time zone 'UTC')::date - 1
    );
    v_to date := coalesce(
        create_request_log_partitions.to_day,
        (now() at time zone 'UTC')::date + llm_private.setting_text('request_log_partitions_ahead')::integer
    );
    v_day date;
    v_name text;
    v_lo timestamptz;
    v_hi timestamptz;
begin
    perform llm.require_admin('create request log partitions');
    if v_to < v_from then
        raise exception 'to_day (%) is before from_day (%)', v_to, v_from using errcode = '22023';
    end if;
    if v_to - v_from > 3660 then
        raise exception 'at most 3660 partitions at once, asked for %', v_to - v_from + 1
            using errcode = '22023';
    end if;
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('llm.request_logs partitions', 0));
    v_day := v_from;
    while v_day <= v_to loop
        v_name := 'request_logs_p' || to_char(v_day, 'YYYYMMDD');
        if to_regclass('llm_private.' || v_name) is null then
            v_lo := v_day::timestamp at time zone 'UTC';
            v_hi := (v_day + 1)::timestamp at time zone 'UTC';
            -- built detached and attached afterwards: attaching takes a weaker lock on the
            -- parent than creating a partition in place, so logging goes on meanwhile
            -- a day that can still receive rows (log_request takes created_at up to one day
            -- ahead): a logger that routed a row of it to the default partition before the
            -- attach would fail the attach, or fail itself after it (23514). Such a day is
            -- attached with logging paused: the lock waits for the inserts in flight and holds
            -- new ones until commit. Days further ahead are attached without pausing anything.
            if v_lo < clock_timestamp() + interval '2 days' then
                lock table llm.request_logs in share mode;
            end if;
            execute format(
                'create table llm_private.%I (like llm.request_logs including defaults including constraints)',
                v_name
            );
            if exists (
                select from llm_private.request_logs_default as d
                where d.created_at >= v_lo and d.created_at < v_hi
            ) then
                lock table llm_private.request_logs_default in access exclusive mode;
                execute format(
                    'with moved as (delete from llm_private.request_logs_default'
                    ' where created_at >= $1 and created_at < $2 returning *)'
                    ' insert into llm_private.%I select * from moved',
                    v_name
                ) using v_lo, v_hi;
            end if;
            execute format(
                'alter table llm_private.%I add constraint %I check (created_at >= %L and created_at < %L)',
                v_name, v_name || '_bounds', v_lo, v_hi
            );
            execute format(
                'alter table llm.request_logs attach partition llm_private.%I for values from (%L) to (%L)',
                v_name, v_lo, v_hi
            );
            execute format('alter table llm_private.%I drop constraint %I', v_name, v_name || '_bounds');
            execute format('alter table llm_private.%I enable row level security', v_name);
            execute format('revoke all on llm_private.%I from public, anon, authenticated, service_role', v_name);
            return next v_name;
        end if;
        v_day := v_day + 1;
    end loop;
end;
$$;
comment on function llm_private.create_request_log_partitions(
    date, date
) is
'Implementation of llm.create_request_log_partitions() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.create_request_log_partitions(
    date, date
) to authenticated, service_role;

-- Drops whole expired partitions (no DELETE bloat), never before their usage is folded.
create or replace function llm_private.apply_request_log_retention()
returns table (partition_name text, action text, row_count bigint, bytes bigint)
language plpgsql
security definer
set search_path = ''
set lock_timeout = '5s'
as $$
declare
    v_days integer := llm_private.setting_text('request_log_retention_days')::integer;
    v_cutoff timestamptz;
    v_folded timestamptz;
    v_count bigint;
    p record;
begin
    perform llm.require_admin('apply request log retention');
    if v_days <= 0 then
        return;
    end if;
    v_cutoff := ((now() at time zone 'UTC')::date - v_days)::timestamp at time zone 'UTC';
    perform pg_catalog.pg_advisory_xact_lock(pg_catalog.hashtextextended('llm.request_logs partitions', 0));
    v_folded := llm.usage_folded_before();
    for p in
        select
            c.oid,
            c.relname,
            (to_date(substring(c.relname from 15), 'YYYYMMDD')::timestamp at time zone 'UTC')
            + interval '1 day' as hi
        from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as c on c.oid = i.inhrelid
        where i.inhparent = 'llm.request_logs'::regclass
            and c.relname ~ '^request_logs_p\d{8}$'
        order by c.relname
    loop
        continue when p.hi > v_cutoff;
        partition_name := p.relname;
        row_count := null;
        bytes := null;
        if p.hi > v_folded then
            action := 'kept: usage not folded yet';
            return next;
            continue;
        end if;
        -- no insert is in flight once the parent is locked; then the watermark is exact
        lock table llm.request_logs in access exclusive mode;
        v_folded := llm.usage_folded_before();
        if p.hi > v_folded then
            action := 'kept: usage not folded yet';
            return next;
            continue;
        end if;
        bytes := pg_catalog.pg_total_relation_size(p.oid);
        execute format('drop table %s', p.oid::regclass);
        action := 'dropped';
        return next;
    end loop;

    -- rows that waited in the default partition expire row by row, each once folded: no
    -- journal row of its instant is its own or its user's (a batch's requests share one)
    delete from llm_private.request_logs_default as d
    where d.created_at < v_cutoff
        and not exists (
            select from llm.usage_journal as j
            where j.occurred_at = d.created_at
                and (j.user_id = d.user_id or j.request_log_id = d.id)
        );
    get diagnostics v_count = row_count;
    if v_count > 0 then
        partition_name := 'request_logs_default';
        action := 'deleted expired rows';
        row_count := v_count;
        bytes := null;
        return next;
    end if;

    -- a request id is remembered as long as its row exists
    delete from llm.request_ids as r
    where r.created_at < v_cutoff
        and not exists (
            select from llm.request_logs as l
            where l.id = r.request_log_id and l.created_at = r.created_at
        );
end;
$$;
comment on function llm_private.apply_request_log_retention() is
'Implementation of llm.apply_request_log_retention() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.apply_request_log_retention() to authenticated, service_role;
