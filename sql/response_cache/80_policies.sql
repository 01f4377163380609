-- Row level security policies of the cache tables.

drop policy if exists "Users read their own cached responses and admins read all" on llm.response_cache;
create policy "Users read their own cached responses and admins read all" on llm.response_cache
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own cached responses and admins read all" on llm.response_cache is
'A user sees the entries of their own user scope; global and namespace entries are the service role''s. Package admins see every cache entry.';

drop policy if exists "Users and admins read cache hit counts" on llm.response_cache_hits;
create policy "Users and admins read cache hit counts" on llm.response_cache_hits
for select to authenticated using (
    (exists (
        select from llm.response_cache as c
        where c.id = response_cache_hits.entry_id and c.user_id = (select auth.uid())
    ))
    or (select llm_private.is_admin())
);
comment on policy "Users and admins read cache hit counts" on llm.response_cache_hits is
'A user sees the hit counters of the entries of their own user scope. Package admins see every hit counter.';

drop policy if exists "Users and admins read unfolded cache hits" on llm.response_cache_hit_journal;
create policy "Users and admins read unfolded cache hits" on llm.response_cache_hit_journal
for select to authenticated using (
    (scope = 'user:' || (select auth.uid())::text)
    or (select llm_private.is_admin())
);
comment on policy "Users and admins read unfolded cache hits" on llm.response_cache_hit_journal is
'A user sees the unfolded hits of the entries of their own user scope. Package admins see every unfolded hit.';

drop policy if exists "Admins read cache totals" on llm.response_cache_totals;
create policy "Admins read cache totals" on llm.response_cache_totals
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read cache totals" on llm.response_cache_totals is
'Package admins see misses and the savings of removed entries.';

drop policy if exists "Admins read cache leases" on llm.response_cache_leases;
create policy "Admins read cache leases" on llm.response_cache_leases
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read cache leases" on llm.response_cache_leases is
'Package admins see which keys are being produced.';
