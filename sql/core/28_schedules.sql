-- pg_cron schedules: what the installed pg_cron (or hosted Supabase's 1.6) accepts.

-- The pg_cron version schedules are checked against: the installed one, else 1.6 (what hosted
-- Supabase runs), as an integer array for comparisons.
create or replace function llm.pg_cron_version()
returns integer[]
language sql
stable
set search_path = ''
as $$
    select pg_catalog.string_to_array(
        pg_catalog.substring(
            coalesce(
                (select e.extversion from pg_catalog.pg_extension as e where e.extname = 'pg_cron'),
                '1.6'
            ),
            '^[0-9]+(?:\.[0-9]+)*'
        ),
        '.'
    )::integer [];
$$;
comment on function llm.pg_cron_version() is
'Version of the installed pg_cron as integers ({1,6}); {1,6}, what hosted Supabase runs, when pg_cron is not installed.';

-- Why pg_cron of a version would refuse a schedule, or NULL when it accepts it. Follows
-- pg_cron's parser (Vixie cron's fields, its @ keywords, and since 1.5 "$" for the last day of
-- the month and "[1-59] seconds").
create or replace function llm.cron_schedule_problem(p_schedule text, p_version integer[])
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_text text := pg_catalog.btrim(p_schedule, e' \t\r\n');
    v_seconds_ok boolean := p_version >= array[1, 5];
    v_fields text [];
    v_names constant text [] := array['minute', 'hour', 'day of month', 'month', 'day of week'];
    v_low constant integer [] := array[0, 0, 1, 1, 0];
    v_high constant integer [] := array[59, 23, 31, 12, 7];
    v_months constant text [] := array[
        'jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'
    ];
    v_days constant text [] := array['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    v_item text;
    v_parts text [];
    v_word text;
    v_number integer;
    v_version text := pg_catalog.array_to_string(p_version, '.');
begin
    if v_text is null or v_text = '' then
        return 'a schedule is required';
    end if;
    v_parts := pg_catalog.regexp_match(v_text, '^\+?([0-9]+)\s*seconds?$', 'i');
    if v_parts is not null then
        if not v_seconds_ok then
            return format('schedules in seconds need pg_cron 1.5 or later (hosted Supabase runs 1.6); this database has pg_cron %s', v_version);
        end if;
        if pg_catalog.length(v_parts[1]) > 2 or v_parts[1]::integer not between 1 and 59 then
            return 'pg_cron takes 1 to 59 seconds ("[1-59] seconds"); write longer intervals as cron fields, e.g. "* * * * *" for every minute';
        end if;
        return null;
    end if;
    if pg_catalog.left(v_text, 1) = '@' then
        if v_text in (
            '@reboot', '@restart', '@yearly', '@annually', '@monthly', '@weekly', '@daily',
            '@midnight', '@hourly'
        ) then
            return null;
        end if;
        return 'unknown @ schedule: pg_cron knows @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @reboot';
    end if;
    v_fields := pg_catalog.regexp_split_to_array(v_text, '\s+');
    if pg_catalog.cardinality(v_fields) <> 5 then
        return 'a cron schedule has five fields (minute hour day-of-month month day-of-week), or is @daily and the like, or "[1-59] seconds"';
    end if;
    for i in 1..5 loop
        if i = 3 and v_fields[i] = '$' then
            if not v_seconds_ok then
                return format('"$" (last day of the month) needs pg_cron 1.5 or later; this database has pg_cron %s', v_version);
            end if;
            continue;
        end if;
        foreach v_item in array pg_catalog.string_to_array(v_fields[i], ',') loop
            -- "*" or a value or a range, each optionally with a step; a step needs a range
            v_parts := pg_catalog.regexp_match(
                v_item, '^(?:(\*)|([a-z0-9]+)(?:-([a-z0-9]+))?)(?:/([0-9]+))?$', 'i'
            );
            if v_parts is null or (v_parts[2] is not null and v_parts[3] is null and v_parts[4] is not null) then
                return format('bad %s field "%s"', v_names[i], v_fields[i]);
            end if;
            foreach v_word in array array[v_parts[2], v_parts[3]] loop
                continue when v_word is null;
                v_number := case
                    when v_word ~ '^[0-9]{1,9}$' then v_word::integer
                    when i = 4 then pg_catalog.array_position(v_months, pg_catalog.lower(v_word))
                    when i = 5 then pg_catalog.array_position(v_days, pg_catalog.lower(v_word)) - 1
                end;
                if v_number is null or v_number not between v_low[i] and v_high[i] then
                    return format('%s field "%s": %s is not between %s and %s',
                        v_names[i], v_fields[i], v_word, v_low[i], v_high[i]);
                end if;
            end loop;
            if v_parts[4] is not null
                and (pg_catalog.length(v_parts[4]) > 9 or v_parts[4]::integer not between 1 and v_high[i]) then
                return format('%s field "%s": the step must be between 1 and %s', v_names[i], v_fields[i], v_high[i]);
            end if;
        end loop;
    end loop;
    return null;
end;
$$;
comment on function llm.cron_schedule_problem(text, integer[]) is
'Why pg_cron of version p_version would refuse a schedule, or NULL when it accepts it: five cron fields (names for months and days, ranges, lists, steps), @daily and the like, and from pg_cron 1.5 "$" as the day of month and "[1-59] seconds".';
