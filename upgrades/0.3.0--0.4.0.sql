-- State changes from 0.3.0 to 0.4.0. Every step is guarded: it changes nothing where it was
-- applied already, so the bundle can run it on any install.

-- Batches are logged set-based (llm.log_request_batch): no table, type or index changes.
