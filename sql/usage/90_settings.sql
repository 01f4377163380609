-- Settings and jobs of usage metering.

-- Every 5 seconds where pg_cron has second-level schedules (1.5+, hosted Supabase's 1.6), else
-- every minute. Reads are exact either way; folding often keeps them cheap.
select llm.define_setting(
    'usage_fold_schedule', 'cron',
    case when llm.pg_cron_version() >= array[1, 5] then '"5 seconds"' else '"* * * * *"' end::jsonb,
    'When the job folding the usage journal into the rollups runs: "5 seconds" where pg_cron has second-level schedules (1.5 or later), else every minute.'
);
select llm.define_setting(
    'usage_fold_batch_rows', 'integer', '2000',
    'Most journal rows one llm.fold_usage() call (one transaction, one batch of the fold job) folds.',
    '1', '1000000'
);
-- 3 of the 5 seconds between runs; 30 of the minute where pg_cron has no second-level schedules
select llm.define_setting(
    'usage_fold_run_time', 'interval',
    case when llm.pg_cron_version() >= array[1, 5] then '"3 seconds"' else '"30 seconds"' end::jsonb,
    'How long one run of the llm_usage_fold job goes on folding batches while they come back full (a journal growing faster than one batch per run); it stops at once when the journal is empty. "3 seconds" (of the 5-second schedule) where pg_cron has second-level schedules, else "30 seconds".',
    '"0 seconds"', '"10 minutes"'
);
select llm.define_setting(
    'quota_reservation_ttl', 'interval', '"10 minutes"',
    'How long a quota reservation counts before it expires unless settled or released.',
    '"1 second"', '"1 day"'
);
select llm.define_setting(
    'quota_reservation_sweep_schedule', 'cron', '"*/5 * * * *"',
    'When the job deleting expired quota reservations runs.'
);
select llm.define_setting(
    'usage_rollup_daily_retention_days', 'integer', '90',
    'Days of daily usage rollups kept (0 keeps them all); also the most days get_user_token_usage reads.',
    '0', '36500'
);
select llm.define_setting(
    'usage_rollup_weekly_retention_weeks', 'integer', '104',
    'Weeks of weekly usage rollups kept (0 keeps them all).',
    '0', '5200'
);
select llm.define_setting(
    'usage_rollup_monthly_retention_months', 'integer', '24',
    'Months of monthly usage rollups kept (0 keeps them all). Yearly rollups are always kept.',
    '0', '1200'
);
select llm.define_setting(
    'usage_rollup_retention_schedule', 'cron', '"41 3 * * *"',
    'When the usage rollup retention job runs.'
);
select llm.define_setting(
    'usage_backfill_schedule', 'cron', '"* * * * *"',
    'When the job running queued usage backfills runs (it does nothing when none is queued).'
);

select llm.register_job(
    'llm_usage_fold', 'usage_fold_schedule', 'select llm.run_usage_fold()',
    'Folds the usage journal into the usage rollups, in short committed batches.'
);
select llm.register_job(
    'llm_quota_reservation_sweep', 'quota_reservation_sweep_schedule',
    'select llm.sweep_quota_reservations()',
    'Deletes expired quota reservations.'
);
select llm.register_job(
    'llm_usage_rollup_retention', 'usage_rollup_retention_schedule',
    'select llm.apply_usage_rollup_retention()',
    'Drops daily, weekly and monthly usage rollups past their retention.'
);
select llm.register_job(
    'llm_usage_backfill', 'usage_backfill_schedule', 'select llm.run_usage_backfill()',
    'Runs the next batches of queued usage backfills.'
);
