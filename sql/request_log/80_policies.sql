-- Row level security policies of the request log tables.

drop policy if exists "Users read model prices" on llm.model_prices;
create policy "Users read model prices" on llm.model_prices
for select to authenticated using (true);
comment on policy "Users read model prices" on llm.model_prices is
'Prices are public list prices: every signed-in user may read them.';

drop policy if exists "Admins add model prices" on llm.model_prices;
create policy "Admins add model prices" on llm.model_prices
for insert to authenticated with check ((select llm_private.is_admin()));
comment on policy "Admins add model prices" on llm.model_prices is
'Package admins maintain the price registry.';

drop policy if exists "Admins change model prices" on llm.model_prices;
create policy "Admins change model prices" on llm.model_prices
for update to authenticated using ((select llm_private.is_admin())) with check ((select llm_private.is_admin()));
comment on policy "Admins change model prices" on llm.model_prices is
'Package admins correct prices and their periods.';

drop policy if exists "Admins delete model prices" on llm.model_prices;
create policy "Admins delete model prices" on llm.model_prices
for delete to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins delete model prices" on llm.model_prices is
'Package admins remove wrong prices.';

drop policy if exists "Users read their own requests and admins read all" on llm.request_logs;
create policy "Users read their own requests and admins read all" on llm.request_logs
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own requests and admins read all" on llm.request_logs is
'A signed-in user sees the requests logged for them. Package admins see every logged request.';

drop policy if exists "Admins read request ids" on llm.request_ids;
create policy "Admins read request ids" on llm.request_ids
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read request ids" on llm.request_ids is
'Package admins see which client request ids were logged.';

drop policy if exists "Users read their own usage journal and admins read all" on llm.usage_journal;
create policy "Users read their own usage journal and admins read all" on llm.usage_journal
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own usage journal and admins read all" on llm.usage_journal is
'A signed-in user sees their own not yet folded usage. Package admins see all not yet folded usage.';

drop policy if exists "Admins read rejected requests" on llm.request_log_rejects;
create policy "Admins read rejected requests" on llm.request_log_rejects
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read rejected requests" on llm.request_log_rejects is
'Package admins inspect dead-lettered request payloads.';

drop policy if exists "Admins delete rejected requests" on llm.request_log_rejects;
create policy "Admins delete rejected requests" on llm.request_log_rejects
for delete to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins delete rejected requests" on llm.request_log_rejects is
'Package admins remove dead letters they have dealt with.';
