-- Stampede protection: claiming and releasing a cache key.

-- Stampede protection: a hit, or a lease to produce the response, or word that another
-- caller is producing it (after waiting up to wait_seconds for it).
create or replace function llm.claim_llm_cache_key(
    prompt text,
    provider text,
    model text,
    parameters jsonb default null,
    user_id text default null,
    namespace text default null,
    lease_seconds integer default 30,
    wait_seconds numeric default 0
)
returns llm.cache_claim
language plpgsql
security definer
set search_path = ''
as $$
declare
    k record;
    v_scope text;
    v_hit llm.cache_hit;
    v_deadline timestamptz;
    v_lease_id uuid;
    v_expires timestamptz;
begin
    if not llm.is_backend() then
        raise exception 'only the service role may claim cache keys' using errcode = '42501';
    end if;
    select * into k from llm.cache_canonical_key($1, $2, $3, $4);
    v_scope := llm.cache_scope(claim_llm_cache_key.user_id, claim_llm_cache_key.namespace);
    if claim_llm_cache_key.lease_seconds is null
        or claim_llm_cache_key.lease_seconds not between 1 and 3600 then
        raise exception 'lease_seconds must be between 1 and 3600, got %',
            coalesce(claim_llm_cache_key.lease_seconds::text, 'NULL')
            using errcode = '22023';
    end if;
    -- The Data API cancels a statement after 8 s (authenticator's statement_timeout on hosted
    -- Supabase): a longer wait would end in 57014 instead of an answer. Callers loop instead.
    if claim_llm_cache_key.wait_seconds not between 0 and 5 then
        raise exception 'wait_seconds must be between 0 and 5 (the Data API times out at 8 s; call again while pending), got %',
            claim_llm_cache_key.wait_seconds
            using errcode = '22023';
    end if;
    v_deadline := clock_timestamp() + coalesce(claim_llm_cache_key.wait_seconds, 0) * interval '1 second';
    loop
        v_hit := llm.cache_lookup(v_scope, k.prompt_hash);
        if v_hit.id is not null then
            return row('hit', null, null, to_jsonb(v_hit))::llm.cache_claim;
        end if;
        if not exists (
            select from llm.response_cache_leases as l
            where l.scope = v_scope and l.prompt_hash = k.prompt_hash and l.expires_at > clock_timestamp()
        ) then
            -- Claim in a subtransaction that is undone when the key was taken meanwhile: a
            -- row lock kept while waiting would block the producer's store of the response.
            begin
                insert into llm.response_cache_leases as l (scope, prompt_hash, expires_at)
                values (
                    v_scope, k.prompt_hash,
                    clock_timestamp() + claim_llm_cache_key.lease_seconds * interval '1 second'
                )
                on conflict (scope, prompt_hash) do update
                    set lease_id = gen_random_uuid(), claimed_at = now(), expires_at = excluded.expires_at
                    where l.expires_at <= clock_timestamp()
                returning l.lease_id, l.expires_at into v_lease_id, v_expires;
                if v_lease_id is null then
                    raise exception 'lease taken' using errcode = 'P0002';
                end if;
            exception when no_data_found then
                v_lease_id := null;
            end;
        end if;
        if v_lease_id is not null then
            -- a producer may have stored the response between our lookup and our claim
            v_hit := llm.cache_lookup(v_scope, k.prompt_hash);
            if v_hit.id is not null then
                delete from llm.response_cache_leases as l where l.lease_id = v_lease_id;
                return row('hit', null, null, to_jsonb(v_hit))::llm.cache_claim;
            end if;
            perform llm.cache_count_miss(k.provider, k.model, v_scope);
            return row('claimed', v_lease_id, v_expires, null)::llm.cache_claim;
        end if;
        if clock_timestamp() >= v_deadline then
            return row(
                'pending', null,
                (
                    select l.expires_at from llm.response_cache_leases as l
                    where l.scope = v_scope and l.prompt_hash = k.prompt_hash
                ),
                null
            )::llm.cache_claim;
        end if;
        perform pg_sleep(least(0.05, extract(epoch from v_deadline - clock_timestamp())));
    end loop;
end;
$$;
comment on function llm.claim_llm_cache_key(text, text, text, jsonb, text, text, integer, numeric) is
'Looks a request up and, on a miss, claims its key for lease_seconds: status hit (with the response), claimed (call the model, then cache_llm_response ends the lease) or pending (another caller holds a live lease; waits up to wait_seconds, at most 5, for its response first). Service role only.';
grant execute on function llm.claim_llm_cache_key(
    text, text, text, jsonb, text, text, integer, numeric
) to service_role;

-- Gives a lease back when producing the response failed, so waiting callers can claim it.
create or replace function llm.release_llm_cache_key(lease_id uuid)
returns boolean
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not llm.is_backend() then
        raise exception 'only the service role may release cache keys' using errcode = '42501';
    end if;
    if release_llm_cache_key.lease_id is null then
        raise exception 'lease_id must not be null' using errcode = '22004';
    end if;
    delete from llm.response_cache_leases as l where l.lease_id = release_llm_cache_key.lease_id;
    return found;
end;
$$;
comment on function llm.release_llm_cache_key(uuid) is
'Ends a lease taken by claim_llm_cache_key; false when it had already ended or expired and been taken over. Service role only.';
grant execute on function llm.release_llm_cache_key(uuid) to service_role;
