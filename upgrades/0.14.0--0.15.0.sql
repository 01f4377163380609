-- State changes from 0.14.0 to 0.15.0: the journal's comments (a batch's requests the usage cannot
-- tell apart share a journal row).
comment on table llm.usage_journal is
'Append-only usage facts, written in the same transaction as the requests: one row per request logged by llm.log_request() (requests = 1), one per group of a batch''s requests the usage cannot tell apart (same user, instant, model, type, outcome, conversation, agent and reservation: requests = how many, their sums), one per cost correction (requests = 0). Usage metering folds rows into its rollups by deleting them in the transaction that adds them; a row is unfolded while it exists.';
comment on column llm.usage_journal.request_log_id is
'The logged request; for a batch''s group of requests, the first of them (the others share the row''s user_id and occurred_at).';
comment on column llm.usage_journal.requests is
'Requests the row counts: 1 for a request logged alone, how many for a batch''s group, 0 for a correction row of llm.recompute_costs() carrying only cost deltas.';
