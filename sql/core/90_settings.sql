-- Settings of the core.

select llm.define_setting(
    'admin_claim', 'text', '"llm_admin"',
    'app_metadata claim that marks a package admin when it is JSON true.'
);
select llm.define_setting(
    'period_timezone', 'timezone', '"UTC"',
    'Time zone in which days, weeks, months and years of usage periods are computed.'
);
