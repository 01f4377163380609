-- State changes from 0.7.0 to 0.8.0: the index of open reservations on expires_at alone goes
-- (every reservation wrote it; the sweep reads the few open reservations without it).
drop index if exists llm.quota_reservations_expires_at_idx;
