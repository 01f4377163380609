-- Settings and jobs of conversations.

select llm.define_setting(
    'conversation_ttl_hours', 'integer', '24',
    'Hours a conversation made by create_conversation() lives when no ttl_hours is given; 0 = never expires.',
    '0', '87600'
);
select llm.define_setting(
    'max_message_bytes', 'integer', '1048576',
    'Largest message content accepted, in bytes (larger raises 22001).',
    '1', '104857600'
);
select llm.define_setting(
    'deleted_conversation_retention', 'interval', '"30 days"',
    'How long soft-deleted conversations can be restored before purge_deleted_conversations() removes them.',
    '"1 hour"', '"10 years"'
);
select llm.define_setting(
    'conversation_cleanup_schedule', 'cron', '"7 * * * *"',
    'pg_cron schedule of llm_cleanup_expired_conversations.'
);
select llm.define_setting(
    'conversation_purge_schedule', 'cron', '"17 3 * * *"',
    'pg_cron schedule of llm_purge_deleted_conversations.'
);

select llm.register_job(
    'llm_cleanup_expired_conversations', 'conversation_cleanup_schedule',
    'select llm.cleanup_expired_conversations()',
    'Deletes conversations whose TTL has passed, with their messages.'
);
select llm.register_job(
    'llm_purge_deleted_conversations', 'conversation_purge_schedule',
    'select llm.purge_deleted_conversations()',
    'Deletes soft-deleted conversations older than deleted_conversation_retention.'
);
