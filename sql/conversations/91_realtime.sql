-- Realtime: llm.messages joins the supabase_realtime publication when it exists.

-- Realtime: clients subscribe to llm.messages (RLS decides what each one receives).
do $$
begin
    if exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime')
        and not exists (
            select from pg_catalog.pg_publication_tables
            where pubname = 'supabase_realtime' and schemaname = 'llm' and tablename = 'messages'
        ) then
        alter publication supabase_realtime add table llm.messages;
    end if;
end
$$;
