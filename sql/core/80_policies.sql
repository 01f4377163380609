-- Row level security policies of the core tables.

drop policy if exists "Admins read settings" on llm.settings;
create policy "Admins read settings" on llm.settings
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read settings" on llm.settings is
'Package admins see every setting; changes go through llm.set_setting().';

drop policy if exists "Users read their own admin row and admins read all" on llm.admins;
create policy "Users read their own admin row and admins read all" on llm.admins
for select to authenticated using (
    (user_id = (select auth.uid()))
    or (select llm_private.is_admin())
);
comment on policy "Users read their own admin row and admins read all" on llm.admins is
'A user can see whether they are an admin. Package admins see who else is an admin.';

drop policy if exists "Users read their own alias" on llm.user_aliases;
create policy "Users read their own alias" on llm.user_aliases
for select to authenticated using (user_id = (select auth.uid()) or (select llm_private.is_admin()));
comment on policy "Users read their own alias" on llm.user_aliases is
'A user sees the identifier behind their own UUID; admins see all.';

drop policy if exists "Admins read jobs" on llm.jobs;
create policy "Admins read jobs" on llm.jobs
for select to authenticated using ((select llm_private.is_admin()));
comment on policy "Admins read jobs" on llm.jobs is 'Package admins see the maintenance jobs.';

drop policy if exists "Users read the installed releases" on llm.releases;
create policy "Users read the installed releases" on llm.releases
for select to authenticated using (true);
comment on policy "Users read the installed releases" on llm.releases is
'Which package version is installed is not a secret: llm.version() reads it for any caller.';
