-- State changes from 0.2.0 to 0.3.0. Every step is guarded: it changes nothing where it was
-- applied already, so the bundle can run it on any install.

-- llm.run_usage_fold became a function (one transaction, search_path pinned): the procedure goes.
do $$
begin
    if exists (
        select from pg_catalog.pg_proc
        where oid = pg_catalog.to_regprocedure('llm.run_usage_fold(integer)') and prokind = 'p'
    ) then
        drop procedure llm.run_usage_fold(integer);
    end if;
end
$$;

-- One permissive SELECT policy per table for authenticated (lint 0006): the pairs of a
-- users policy and an admins policy are merged under new names.
drop policy if exists "Admins read every conversation" on llm.conversations;
drop policy if exists "Users read their own live conversations" on llm.conversations;
drop policy if exists "Admins read every message" on llm.messages;
drop policy if exists "Users read messages of their own live conversations" on llm.messages;
drop policy if exists "Admins read the admin list" on llm.admins;
drop policy if exists "Users read their own admin row" on llm.admins;
drop policy if exists "Admins read all requests" on llm.request_logs;
drop policy if exists "Users read their own requests" on llm.request_logs;
drop policy if exists "Admins read the usage journal" on llm.usage_journal;
drop policy if exists "Users read their own usage journal" on llm.usage_journal;
drop policy if exists "Admins read every cached response" on llm.response_cache;
drop policy if exists "Users read their own cached responses" on llm.response_cache;
drop policy if exists "Admins read every cache hit count" on llm.response_cache_hits;
drop policy if exists "Users read hit counts of their own cached responses" on llm.response_cache_hits;
drop policy if exists "Admins read all usage rollups" on llm.usage_rollups;
drop policy if exists "Users read their own usage rollups" on llm.usage_rollups;
drop policy if exists "Admins read all usage members" on llm.usage_rollup_members;
drop policy if exists "Users read their own usage members" on llm.usage_rollup_members;
drop policy if exists "Admins read all quotas" on llm.usage_quotas;
drop policy if exists "Users read the quotas that apply to them" on llm.usage_quotas;
drop policy if exists "Admins read all reservations" on llm.quota_reservations;
drop policy if exists "Users read their own reservations" on llm.quota_reservations;

-- llm.get_cached_llm_response returns jsonb (JSON null on a miss through PostgREST) instead
-- of the composite llm.cache_hit: a changed return type needs the old function dropped.
do $$
begin
    if (
        select prorettype from pg_catalog.pg_proc
        where oid = pg_catalog.to_regprocedure('llm.get_cached_llm_response(text, text, text, jsonb, text, text)')
    ) = pg_catalog.to_regtype('llm.cache_hit') then
        drop function llm.get_cached_llm_response(text, text, text, jsonb, text, text);
    end if;
end
$$;
