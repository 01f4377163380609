-- State changes from 0.21.0 to 0.22.0: the request log's partitions (the daily ones and the
-- default one) move to schema llm_private, out of the exposed schema and so out of the API's
-- generated types (where the daily ones changed every day).
do $$
declare
    p regclass;
begin
    for p in
        select c.oid::regclass
        from pg_catalog.pg_inherits as i
        join pg_catalog.pg_class as c on c.oid = i.inhrelid
        where i.inhparent = 'llm.request_logs'::regclass
            and c.relnamespace = 'llm'::regnamespace
    loop
        execute format('alter table %s set schema llm_private', p);
    end loop;
end;
$$;
comment on table llm.request_logs is
'One row per LLM request, partitioned by UTC day of created_at (partitions llm_private.request_logs_pYYYYMMDD, plus llm_private.request_logs_default for days without one). Written only through llm.log_request(), which validates every value (the table has no CHECK constraints: they cost more per insert than the rest of the row).';
