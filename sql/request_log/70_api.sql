-- The API of prices, partitions: SECURITY INVOKER entry points of schema llm,
-- each calling its implementation in schema llm_private.

create or replace function llm.estimate_cost(
    provider text,
    model text,
    prompt_tokens integer default 0,
    completion_tokens integer default 0,
    cached_tokens integer default 0,
    cache_write_tokens integer default 0,
    audio_seconds numeric default null,
    priced_at timestamptz default null
)
returns numeric
language sql
stable
set search_path = ''
as $$
    select llm_private.estimate_cost(
        provider => estimate_cost.provider,
        model => estimate_cost.model,
        prompt_tokens => estimate_cost.prompt_tokens,
        completion_tokens => estimate_cost.completion_tokens,
        cached_tokens => estimate_cost.cached_tokens,
        cache_write_tokens => estimate_cost.cache_write_tokens,
        audio_seconds => estimate_cost.audio_seconds,
        priced_at => estimate_cost.priced_at
    );
$$;
comment on function llm.estimate_cost(text, text, integer, integer, integer, integer, numeric, timestamptz) is
'USD cost of a request at the price in force at priced_at (default now): uncached input, cache reads, cache writes and output per million tokens, plus audio seconds and the per-request price. NULL when the model has no price then. 22023 for a negative token count or an audio_seconds that is negative, NaN or infinite.';
grant execute on function llm.estimate_cost(
    text, text, integer, integer, integer, integer, numeric, timestamptz
) to authenticated, service_role;

create or replace function llm.set_model_price(
    provider text,
    model text,
    effective_from timestamptz,
    input_per_mtok numeric default null,
    output_per_mtok numeric default null,
    cached_input_per_mtok numeric default null,
    cache_write_per_mtok numeric default null,
    per_audio_second numeric default null,
    per_request numeric default null,
    note text default null
)
returns bigint
language sql
volatile
set search_path = ''
as $$
    select llm_private.set_model_price(
        provider => set_model_price.provider,
        model => set_model_price.model,
        effective_from => set_model_price.effective_from,
        input_per_mtok => set_model_price.input_per_mtok,
        output_per_mtok => set_model_price.output_per_mtok,
        cached_input_per_mtok => set_model_price.cached_input_per_mtok,
        cache_write_per_mtok => set_model_price.cache_write_per_mtok,
        per_audio_second => set_model_price.per_audio_second,
        per_request => set_model_price.per_request,
        note => set_model_price.note
    );
$$;
comment on function llm.set_model_price(
    text, text, timestamptz, numeric, numeric, numeric, numeric, numeric, numeric, text
) is
'Sets the price of provider/model from effective_from on (replacing a price starting at that instant), ending the period it interrupts; runs until the next known period. Admins and service role. Returns the price id.';
grant execute on function llm.set_model_price(
    text, text, timestamptz, numeric, numeric, numeric, numeric, numeric, numeric, text
) to authenticated, service_role;

create or replace function llm.create_request_log_partitions(
    from_day date default null, to_day date default null
)
returns setof text
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.create_request_log_partitions(
        from_day => create_request_log_partitions.from_day,
        to_day => create_request_log_partitions.to_day
    );
$$;
comment on function llm.create_request_log_partitions(date, date) is
'Creates the missing daily partitions from from_day (default yesterday) to to_day (default today + request_log_partitions_ahead), UTC days, moving rows of those days out of the default partition; RLS on, no grants. A day that can still receive rows (up to tomorrow) is attached with logging paused for a moment (loggers wait, never fail); later days without pausing. Returns the partitions created. Admins and service role.';
grant execute on function llm.create_request_log_partitions(
    date, date
) to authenticated, service_role;

create or replace function llm.apply_request_log_retention()
returns table (partition_name text, action text, row_count bigint, bytes bigint)
language sql
volatile
set search_path = ''
as $$
    select * from llm_private.apply_request_log_retention();
$$;
comment on function llm.apply_request_log_retention() is
'Drops the daily partitions older than request_log_retention_days (0 keeps everything) whose usage is folded (upper bound <= llm.usage_folded_before()), deletes expired folded rows of the default partition and the request ids of dropped rows. Reports each expired partition as dropped (with the bytes freed) or kept, and the rows deleted from the default partition. Admins and service role.';
grant execute on function llm.apply_request_log_retention() to authenticated, service_role;

create or replace function llm.recompute_costs(
    since timestamptz, until timestamptz, out repriced bigint, out cost_change_usd numeric
)
language sql
volatile
set search_path = ''
as $$
    select r.repriced, r.cost_change_usd
    from llm_private.recompute_costs(since => recompute_costs.since, until => recompute_costs.until) as r;
$$;
comment on function llm.recompute_costs(timestamptz, timestamptz, out bigint, out numeric) is
'Re-prices requests logged in [since, until) from llm.model_prices (costs the caller gave are kept), and appends one correction row per changed request to llm.usage_journal (requests = 0, cost deltas) so usage rollups follow. Returns how many changed and the total change. Concurrent calls run one after another. Admins and service role.';
grant execute on function llm.recompute_costs(
    timestamptz, timestamptz
) to authenticated, service_role;
