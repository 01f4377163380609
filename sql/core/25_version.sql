-- The installed version of the package.

create or replace function llm.version()
returns text
language sql
stable
set search_path = ''
as $$
    select r.version from llm.releases as r
    order by string_to_array(r.version, '.')::integer[] desc
    limit 1;
$$;
comment on function llm.version() is
'Installed version of the package: the newest release applied to this database, e.g. 0.2.0.';
grant execute on function llm.version() to authenticated, service_role;
