-- Prices and cost: estimating a request's cost, setting a price, no overlapping prices.

-- Prices one request from the registry so cost is computed in the database.
create or replace function llm_private.estimate_cost(
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
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_at timestamptz := coalesce(estimate_cost.priced_at, now());
    v_prompt integer := coalesce(estimate_cost.prompt_tokens, 0);
    v_completion integer := coalesce(estimate_cost.completion_tokens, 0);
    v_cached integer := coalesce(estimate_cost.cached_tokens, 0);
    v_cache_write integer := coalesce(estimate_cost.cache_write_tokens, 0);
    v_cost numeric;
begin
    if least(v_prompt, v_completion, v_cached, v_cache_write) < 0 then
        raise exception 'token counts must be >= 0, got prompt_tokens %, completion_tokens %, cached_tokens %, cache_write_tokens %',
            v_prompt, v_completion, v_cached, v_cache_write
            using errcode = '22023';
    end if;
    -- NaN or infinity would poison every sum the cost reaches
    if not (estimate_cost.audio_seconds >= 0 and estimate_cost.audio_seconds < 'infinity'::numeric) then
        raise exception 'audio_seconds must be a finite number >= 0, got %', estimate_cost.audio_seconds
            using errcode = '22023';
    end if;
    -- periods never overlap, so at most one price is in force
    select trim_scale(
            (
                greatest(v_prompt - v_cached - v_cache_write, 0) * coalesce(p.input_per_mtok, 0)
                + v_cached * coalesce(p.cached_input_per_mtok, p.input_per_mtok, 0)
                + v_cache_write * coalesce(p.cache_write_per_mtok, p.input_per_mtok, 0)
                + v_completion * coalesce(p.output_per_mtok, 0)
            ) * 0.000001
            + coalesce(estimate_cost.audio_seconds, 0) * coalesce(p.per_audio_second, 0)
            + coalesce(p.per_request, 0)
        )
    into v_cost
    from llm.model_prices as p
    where p.provider = estimate_cost.provider
        and p.model = estimate_cost.model
        and p.effective_from <= v_at
        and (p.effective_to is null or p.effective_to > v_at);
    return v_cost;
end;
$$;
comment on function llm_private.estimate_cost(
    text, text, integer, integer, integer, integer, numeric, timestamptz
) is
'Implementation of llm.estimate_cost() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.estimate_cost(
    text, text, integer, integer, integer, integer, numeric, timestamptz
) to authenticated, service_role;

-- Sets the price of a model from a date on, closing the period it interrupts.
create or replace function llm_private.set_model_price(
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
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_next timestamptz;
    v_id bigint;
    v_field text;
    v_price numeric;
begin
    perform llm.require_admin('set model prices');
    if set_model_price.provider is null or set_model_price.provider !~ '\S' then
        raise exception 'provider is required' using errcode = '22004';
    end if;
    if set_model_price.model is null or set_model_price.model !~ '\S' then
        raise exception 'model is required' using errcode = '22004';
    end if;
    if set_model_price.effective_from is null or not isfinite(set_model_price.effective_from) then
        raise exception 'effective_from must be a finite time, got %',
            coalesce(set_model_price.effective_from::text, 'NULL')
            using errcode = '22023';
    end if;
    select v.field, v.price into v_field, v_price
    from (values
        ('input_per_mtok', set_model_price.input_per_mtok),
        ('output_per_mtok', set_model_price.output_per_mtok),
        ('cached_input_per_mtok', set_model_price.cached_input_per_mtok),
        ('cache_write_per_mtok', set_model_price.cache_write_per_mtok),
        ('per_audio_second', set_model_price.per_audio_second),
        ('per_request', set_model_price.per_request)
    ) as v (field, price)
    where v.price is not null and not (v.price >= 0 and v.price < 1000000)
    limit 1;
    if found then
        raise exception '% must be a price from 0 to less than 1000000 USD, got %', v_field, v_price
            using errcode = '22023';
    end if;
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended(
            'llm.model_prices/' || set_model_price.provider || '/' || set_model_price.model, 0
        )
    );
    -- the period in force at effective_from ends there; the new one runs to the next period
    update llm.model_prices as p
    set effective_to = set_model_price.effective_from
    where p.provider = set_model_price.provider
        and p.model = set_model_price.model
        and p.effective_from < set_model_price.effective_from
        and (p.effective_to is null or p.effective_to > set_model_price.effective_from);
    select min(p.effective_from) into v_next
    from llm.model_prices as p
    where p.provider = set_model_price.provider
        and p.model = set_model_price.model
        and p.effective_from > set_model_price.effective_from;
    insert into llm.model_prices as p (
        provider, model, effective_from, effective_to, input_per_mtok, output_per_mtok,
        cached_input_per_mtok, cache_write_per_mtok, per_audio_second, per_request, note
    )
    values (
        set_model_price.provider, set_model_price.model, set_model_price.effective_from, v_next,
        set_model_price.input_per_mtok, set_model_price.output_per_mtok,
        set_model_price.cached_input_per_mtok, set_model_price.cache_write_per_mtok,
        set_model_price.per_audio_second, set_model_price.per_request, set_model_price.note
    )
    on conflict on constraint model_prices_provider_model_from_key do update
        set input_per_mtok = excluded.input_per_mtok,
            output_per_mtok = excluded.output_per_mtok,
            cached_input_per_mtok = excluded.cached_input_per_mtok,
            cache_write_per_mtok = excluded.cache_write_per_mtok,
            per_audio_second = excluded.per_audio_second,
            per_request = excluded.per_request,
            note = excluded.note
    returning p.id into v_id;
    return v_id;
end;
$$;
comment on function llm_private.set_model_price(
    text, text, timestamptz, numeric, numeric, numeric, numeric, numeric, numeric, text
) is
'Implementation of llm.set_model_price() with the package owner''s rights; not exposed through the API.';
grant execute on function llm_private.set_model_price(
    text, text, timestamptz, numeric, numeric, numeric, numeric, numeric, numeric, text
) to authenticated, service_role;

-- Keeps effective periods of one model from overlapping (without needing btree_gist).
create or replace function llm.check_model_price_overlap()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('llm.model_prices/' || new.provider || '/' || new.model, 0)
    );
    if exists (
        select from llm.model_prices as p
        where p.provider = new.provider
            and p.model = new.model
            and p.id <> new.id
            and p.effective_from <> new.effective_from  -- same start: the unique key decides
            and p.effective_from < coalesce(new.effective_to, 'infinity')
            and coalesce(p.effective_to, 'infinity') > new.effective_from
    ) then
        raise exception 'price period [%, %) of %/% overlaps another period of that model',
            new.effective_from, coalesce(new.effective_to::text, 'open'), new.provider, new.model
            using errcode = '23P01',
                hint = 'end the other period first, or use llm.set_model_price()';
    end if;
    return new;
end;
$$;
comment on function llm.check_model_price_overlap() is
'Trigger: raises exclusion_violation (23P01) when a price period overlaps another of the same provider and model.';

create or replace trigger model_prices_no_overlap
before insert or update on llm.model_prices
for each row execute function llm.check_model_price_overlap();
