-- State changes from 0.12.0 to 0.13.0: llm.log_cache_hit takes count_hit (a new argument is a
-- new function: the old one goes, the changed definition makes it again).
drop function if exists llm.log_cache_hit(uuid, text, text, text, integer, jsonb);
