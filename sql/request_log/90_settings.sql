-- Settings and jobs of the request log.

select llm.define_setting(
    'request_log_retention_days', 'integer', '90',
    'Days of raw request rows kept; older daily partitions are dropped once their usage is folded. 0 keeps everything.',
    '0', '36500'
);
select llm.define_setting(
    'request_log_partitions_ahead', 'integer', '7',
    'Days ahead for which the partition job creates request log partitions.',
    '1', '366'
);
select llm.define_setting(
    'request_log_store_bodies', 'boolean', 'false',
    'Whether llm.log_request() stores request and response bodies.'
);
select llm.define_setting(
    'request_log_body_max_bytes', 'integer', '65536',
    'Largest stored request or response body (bytes of its JSON text); larger ones keep a prefix.',
    '0', '104857600'
);
select llm.define_setting(
    'request_log_partitions_schedule', 'cron', '"7 * * * *"',
    'When the job creating request log partitions ahead runs.'
);
select llm.define_setting(
    'request_log_retention_schedule', 'cron', '"23 3 * * *"',
    'When the request log retention job runs.'
);

select llm.register_job(
    'llm_request_log_partitions', 'request_log_partitions_schedule',
    'select llm.create_request_log_partitions()',
    'Creates request log partitions ahead and moves waiting rows out of the default partition.'
);
select llm.register_job(
    'llm_request_log_retention', 'request_log_retention_schedule',
    'select llm.apply_request_log_retention()',
    'Drops request log partitions past retention whose usage is folded.'
);

-- The first partitions, so logging starts in them rather than in the default partition.
select llm_private.create_request_log_partitions();
