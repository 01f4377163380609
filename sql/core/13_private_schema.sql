-- The private schema llm_private: the functions API calls run with the package owner's rights.

-- Never exposed through the Data API (keep it out of the exposed schemas): SECURITY DEFINER
-- functions live here, called by the SECURITY INVOKER API functions of schema llm, so that
-- Supabase's advisor (lints 0028/0029) finds no privileged function a client can call directly.
create schema if not exists llm_private;
comment on schema llm_private is
'Internals of the llm package: functions that run with the owner''s rights. Not an API: never expose it.';
revoke all on schema llm_private from public;
grant usage on schema llm_private to authenticated, service_role;
