-- Row level security policies of usage rollups, quotas, reservations and backfills.

drop policy if exists "Users read their own usage rollups and admins read all" on llm.usage_rollups;
create policy "Users read their own usage rollups and admins read all" on llm.usage_rollups
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own usage rollups and admins read all" on llm.usage_rollups is
'A signed-in user sees the rollups of their own usage. Package admins see everyone''s usage rollups.';

drop policy if exists "Users read their own usage members and admins read all" on llm.usage_rollup_members;
create policy "Users read their own usage members and admins read all" on llm.usage_rollup_members
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own usage members and admins read all" on llm.usage_rollup_members is
'A signed-in user sees which of their conversations and agents were active per period. Package admins see every user''s active conversations and agents per period.';

drop policy if exists "Users read the quotas that apply to them and admins read all" on llm.usage_quotas;
create policy "Users read the quotas that apply to them and admins read all" on llm.usage_quotas
for select to authenticated using (
    (user_id = (select auth.uid()) or user_id is null)
    or (select llm_private.is_admin())
);
comment on policy "Users read the quotas that apply to them and admins read all" on llm.usage_quotas is
'A signed-in user sees their own quotas and the defaults for everyone. Package admins see every user''s quotas.';

drop policy if exists "Users read their own reservations and admins read all" on llm.quota_reservations;
create policy "Users read their own reservations and admins read all" on llm.quota_reservations
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own reservations and admins read all" on llm.quota_reservations is
'A signed-in user sees the quota held by their requests in flight. Package admins see every open quota reservation.';

drop policy if exists "Users read their own quota escrow and admins read all" on llm.quota_escrow;
create policy "Users read their own quota escrow and admins read all" on llm.quota_escrow
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own quota escrow and admins read all" on llm.quota_escrow is
'A signed-in user sees the escrow of their own hard quotas. Package admins see every user''s.';

drop policy if exists "Admins read usage backfills" on llm.usage_backfills;
create policy "Admins read usage backfills" on llm.usage_backfills
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read usage backfills" on llm.usage_backfills is
'Package admins follow the progress of rollup backfills.';

drop policy if exists "Admins read fold dead letters" on llm.usage_journal_rejects;
create policy "Admins read fold dead letters" on llm.usage_journal_rejects
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read fold dead letters" on llm.usage_journal_rejects is
'Package admins inspect journal rows the fold could not add to the rollups.';

drop policy if exists "Admins delete fold dead letters" on llm.usage_journal_rejects;
create policy "Admins delete fold dead letters" on llm.usage_journal_rejects
for delete to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins delete fold dead letters" on llm.usage_journal_rejects is
'Package admins remove fold dead letters they have dealt with.';
