-- Peer: the seeds' design, second request of two (record_token_usage): the upsert of the
-- user's usage counters for the day. pgbench variable :u is the user (1 to :users).

insert into seeds.user_usage_stats as s (
    user_id, period_start, period_end, tokens_consumed, requests_count
)
values ('00000000-0000-4000-8000-' || lpad(:u::text, 12, '0'), current_date, current_date, 1500, 1)
on conflict (user_id, period_start) do update
    set tokens_consumed = s.tokens_consumed + excluded.tokens_consumed,
        requests_count = s.requests_count + excluded.requests_count,
        updated_at = now();
