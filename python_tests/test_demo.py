"""`make demo`: the demo data loads on a migrated database and the report renders every section,
showing users by the UUID the API returns and explaining its two cache-hit figures."""

from harness import migrate, report


def test_demo_data_loads_and_the_report_shows_every_section(fresh_db):
    migrate.apply_seed(fresh_db)
    text = report.render(fresh_db)
    for section in report.SECTIONS:
        assert f"== {section.title}\n" in text
    conversations = text.split("== Conversations\n", 1)[1].split("\n== ", 1)[0]
    header = [cell.strip() for cell in conversations.splitlines()[0].split(" | ")]
    assert header[:3] == ["conversation", "user_id", "owner"]
    assert "logged with llm.log_cache_hit" in text and "lookups that found the entry" in text
