-- The items of a batch: read at once, or one by one when a value does not read as its type.

-- Whether one item reads as llm.request_batch_read() reads it (an object whose values read as
-- their parameters' types); never raises.
create or replace function llm.request_batch_item_reads(p_item jsonb)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
    perform from llm.request_batch_read(jsonb_build_array(p_item));
    return true;
exception when data_exception then
    return false;
end;
$$;
comment on function llm.request_batch_item_reads(jsonb) is
'True when llm.request_batch_read() reads the item (a JSON object whose values read as their parameters'' types), false when it raises a data exception for it. Internal: called by llm.request_batch_items().';

-- The items of a batch as llm.request_batch_read() returns them. Its read of the whole array
-- fails when one value does not read as its parameter's type (1.5 for an integer, a string
-- that is not a UUID...) or an element is not an object: the items are then looked at one by
-- one, and each that does not read is read as an object no request has (an empty key), which
-- the checks refuse ('b'); the single-row path says why (llm.log_request_batch()).
create or replace function llm.request_batch_items(p_requests jsonb)
returns setof llm.request_batch_item
language plpgsql
set search_path = ''
as $$
declare
    v_readable jsonb;
begin
    begin
        -- a plpgsql function returns its rows once all are read: none is returned on failure
        return query select * from llm.request_batch_read(p_requests);
        return;
    exception when data_exception then
        null;
    end;
    select jsonb_agg(
        case when llm.request_batch_item_reads(x.e) then x.e else '{"": null}'::jsonb end
        order by x.o
    )
    into v_readable
    from jsonb_array_elements(p_requests) with ordinality as x (e, o);
    return query select * from llm.request_batch_read(v_readable);
end;
$$;
comment on function llm.request_batch_items(jsonb) is
'The items of a JSON array of requests as llm.request_batch_read() returns them; when it cannot read the array at once (an element that is not an object, a value that does not read as its parameter''s type), the items that do not read are returned with state ''b'' and no values. Internal: called by llm.log_request_batch().';
