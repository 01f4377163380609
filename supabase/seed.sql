-- Demo data for `make demo` and `supabase db reset`: three users, one of them a package
-- admin. Later files in supabase/seeds/ add each capability's demo data. Safe to re-run.

insert into auth.users (id, aud, role, email)
values
('00000000-0000-4000-8000-00000000a11c', 'authenticated', 'authenticated', 'alice@example.com'),
('00000000-0000-4000-8000-000000000b0b', 'authenticated', 'authenticated', 'bob@example.com'),
('00000000-0000-4000-8000-00000000ca01', 'authenticated', 'authenticated', 'carol@example.com')
on conflict (id) do nothing;

insert into llm.admins (user_id, note)
values ('00000000-0000-4000-8000-00000000ca01', 'demo admin')
on conflict (user_id) do nothing;

-- A backend user known only by its own string identifier, as many apps have.
select llm.user_uuid('user-123');
