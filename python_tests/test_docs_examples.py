"""Every example of docs/conversations.md, docs/response_cache.md and README.md runs as written.

Each test restates one documented block 1:1 as harness calls (``Api.rpc`` binds named arguments
as PostgREST does for ``supabase.schema('llm').rpc(name, args)``), and checks that the functions
it called are exactly the ones the block calls, so a doc change that is not mirrored here fails.
"""

import re
import uuid
from pathlib import Path

import pytest

from harness import sources
from harness.client import Api

ROOT = Path(__file__).resolve().parent.parent


def doc_block(doc: str, first: int, last: int) -> str:
    """Lines first..last (1-based, inclusive) of a doc file."""
    return "\n".join((ROOT / doc).read_text().splitlines()[first - 1:last])


def rpc_names(block: str) -> set[str]:
    return set(re.findall(r"rpc\('(\w+)'", block))


class Recording:
    """An Api that remembers which functions were called."""

    def __init__(self, api: Api):
        self.api = api
        self.called: set[str] = set()

    def rpc(self, name: str, **args):
        self.called.add(name)
        return self.api.rpc(name, **args)


def _block_with(doc: str, marker: str) -> tuple[int, int]:
    """The fenced block of a doc that contains marker, as (first, last) line numbers."""
    lines = (ROOT / doc).read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if marker in line)
    first = max(i for i in range(at) if lines[i].startswith("```")) + 2
    last = min(i for i in range(at, len(lines)) if lines[i].startswith("```"))
    return first, last


# -- docs/conversations.md ----------------------------------------------------------------

def test_conversations_doc_example_sequence_runs_as_written(service, superuser):
    # docs/conversations.md, the first ```js block (the backend's calls, user 'user-123')
    first, last = _block_with("docs/conversations.md", "create_chat_session")
    block = doc_block("docs/conversations.md", first, last)
    llm = Recording(service)

    session = llm.rpc("create_chat_session", user_id="user-123", title="BigQuery Analysis Session",
                      metadata={"context": "analyzing sales data"})
    assert session["user_id"] == "user-123" and session["message_count"] == 0
    question = llm.rpc("append_chat_message", session_id=str(session["id"]), user_id="user-123",
                       role="user", content="What are the top 10 products by revenue?",
                       metadata={"tokens": 12})
    messages = llm.rpc("get_chat_messages", session_id=str(session["id"]), limit=100, offset=0)
    assert [m["id"] for m in messages] == [question["id"]]
    sessions = llm.rpc("get_user_chat_sessions", user_id="user-123", limit=50, offset=0)
    assert session["id"] in [s["id"] for s in sessions]
    history = llm.rpc("get_chat_history", user_id="user-123", limit_sessions=10)
    assert history[0]["messages"][-1]["content"] == "What are the top 10 products by revenue?"
    assert llm.rpc("update_chat_session", session_id=str(session["id"]), title="Updated Title") is True

    conv_id = llm.rpc("create_conversation", user_id="user-123", conversation_id="conv-abc")
    assert conv_id == "conv-abc"
    llm.rpc("add_message", conversation_id="conv-abc", role="assistant", content="Response text",
            metadata={"model": "gemma-2-27b-it", "tokens": 150})
    latest = llm.rpc("get_messages", conversation_id="conv-abc", limit=10)
    older = llm.rpc("get_messages", conversation_id="conv-abc", limit=50, before=str(latest[0]["id"]))
    assert [m["content"] for m in latest] == ["Response text"] and older == []
    llm.rpc("extend_ttl", conversation_id="conv-abc", hours=24)
    doc = llm.rpc("export_conversation", conversation_id="conv-abc")
    stats = llm.rpc("conversation_stats")
    assert {"total_conversations", "total_messages", "expired_conversations", "ttl_hours",
            "total_tokens"} <= set(stats)

    edited = llm.rpc("edit_message", message_id=str(question["id"]), content="Top 5 instead?")
    alternatives = llm.rpc("get_message_alternatives", message_id=str(question["id"]))
    assert {a["id"] for a in alternatives} == {question["id"], edited["id"]}
    llm.rpc("switch_branch", message_id=str(question["id"]))

    hits = llm.rpc("search_messages", query="revenue -forecast", user_id="user-123", limit=20)
    assert [h["id"] for h in hits] == [question["id"]] and hits[0]["rank"] > 0.01
    llm.rpc("archive_conversation", conversation_id="conv-abc")
    llm.rpc("delete_conversation", conversation_id="conv-abc")
    llm.rpc("restore_conversation", conversation_id="conv-abc")
    copy = llm.rpc("import_conversation", conversation=doc, as_new=True)
    assert copy["message_count"] == 1 and copy["conversation_id"] != "conv-abc"

    # supabase.channel(...).on('postgres_changes', { schema: 'llm', table: 'messages' }): the
    # table is in the realtime publication
    assert superuser.execute(
        "select count(*) from pg_publication_tables where pubname = 'supabase_realtime'"
        " and schemaname = 'llm' and tablename = 'messages'").fetchone()[0] == 1
    assert llm.called == rpc_names(block)


def test_conversations_doc_settings_example_runs_as_written(service):
    first, last = _block_with("docs/conversations.md", "set_setting")
    block = doc_block("docs/conversations.md", first, last)
    llm = Recording(service)
    llm.rpc("set_setting", key="conversation_ttl_hours", value=0)
    cid = llm.api.rpc("create_conversation", user_id="user-123")
    assert llm.api.rpc("get_conversation", conversation_id=cid)["expires_at"] is None
    llm.api.rpc("set_setting", key="conversation_ttl_hours", value=24)
    assert llm.called == rpc_names(block)


# -- docs/response_cache.md ---------------------------------------------------------------

def test_response_cache_doc_examples_run_as_written(service):
    llm = Recording(service)
    # Storing: cache_llm_response
    ok = llm.rpc("cache_llm_response", prompt="Explain BigQuery partitioning", provider="openai",
                 model="gpt-4", response="BigQuery partitioning is a technique...",
                 metadata={"tokens": 250, "finish_reason": "stop", "completion_tokens": 200,
                           "prompt_tokens": 50},
                 parameters={"temperature": 0.7, "max_tokens": 500}, ttl_hours=168)
    assert ok is True
    # Exact lookup: get_cached_llm_response
    cached = llm.rpc("get_cached_llm_response", prompt="Explain BigQuery partitioning",
                     provider="openai", model="gpt-4",
                     parameters={"max_tokens": 500, "temperature": 0.7})
    assert {"id", "response", "hit_count", "cached_at", "expires_at", "metadata", "provider",
            "model", "scope", "prompt_tokens", "completion_tokens", "total_tokens",
            "cost_saved_usd"} == set(cached)
    assert cached["response"] == "BigQuery partitioning is a technique..."
    # Logging hits: log_cache_hit
    user_id = "user-123"
    request_log_id = llm.rpc("log_cache_hit", entry_id=str(cached["id"]), user_id=user_id)
    assert request_log_id is not None
    # Semantic lookup: get_similar_cached_prompts ([0.1, 0.2, 0.3 /* ... */]: 1536 dimensions)
    similar = llm.rpc("get_similar_cached_prompts", embedding=[0.1, 0.2, 0.3] + [0.0] * 1533,
                      limit=5, similarity_threshold=0.8)
    assert similar == []
    # Maintenance, invalidation and statistics
    stats = llm.rpc("get_llm_cache_stats")
    assert any(s["model"] == "gpt-4" and s["hits"] >= 1 for s in stats)
    removed = llm.rpc("invalidate_llm_cache", model="gpt-4", older_than="1 day")
    assert removed == 0
    blocks = set()
    for marker in ("'cache_llm_response', {", "'get_cached_llm_response', {", "'log_cache_hit', {",
                   "'get_similar_cached_prompts', {", "'get_llm_cache_stats'"):
        blocks |= rpc_names(doc_block("docs/response_cache.md", *_block_with("docs/response_cache.md", marker)))
    assert llm.called == blocks


def test_response_cache_doc_request_handler_flow_runs_as_written(service):
    first, last = _block_with("docs/response_cache.md", "async function handleLlmRequest")
    block = doc_block("docs/response_cache.md", first, last)
    llm = Recording(service)

    class ModelDown(Exception):
        pass

    def handle_llm_request(user_id: str, prompt: str, model_fails: bool = False) -> str:
        key = {"prompt": prompt, "provider": "openai", "model": "gpt-4",
               "parameters": {"temperature": 0}}
        # 1. check the cache
        claim = llm.rpc("claim_llm_cache_key", **key, wait_seconds=5)
        for _ in range(3):
            if claim["status"] != "pending":
                break
            claim = llm.rpc("claim_llm_cache_key", **key, wait_seconds=5)
        if claim["status"] == "hit":
            llm.rpc("log_cache_hit", entry_id=claim["hit"]["id"], user_id=user_id)
            return claim["hit"]["response"]
        # 2. call the model (a stand-in for openai.chat.completions.create)
        try:
            if model_fails:
                raise ModelDown()
            completion = {"id": f"chatcmpl-{uuid.uuid4().hex}",
                          "usage": {"prompt_tokens": 12, "completion_tokens": 30},
                          "choices": [{"message": {"content": f"answer to {prompt}"}}]}
        except ModelDown:
            if claim["lease_id"]:
                llm.rpc("release_llm_cache_key", lease_id=str(claim["lease_id"]))
            raise
        response = completion["choices"][0]["message"]["content"]
        # 3. cache the response
        llm.rpc("cache_llm_response", **key, response=response,
                prompt_tokens=completion["usage"]["prompt_tokens"],
                completion_tokens=completion["usage"]["completion_tokens"])
        # 4. record usage
        llm.rpc("log_request", provider="openai", model="gpt-4", user_id=user_id,
                request_id=completion["id"],
                prompt_tokens=completion["usage"]["prompt_tokens"],
                completion_tokens=completion["usage"]["completion_tokens"])
        return response

    prompt = f"flow {uuid.uuid4().hex}"
    with pytest.raises(ModelDown):
        handle_llm_request("user-123", prompt, model_fails=True)
    assert handle_llm_request("user-123", prompt) == f"answer to {prompt}"
    assert handle_llm_request("user-456", prompt) == f"answer to {prompt}"  # served from the cache
    assert llm.called == rpc_names(block)


# -- README.md ----------------------------------------------------------------------------

def test_readme_sql_examples_run_as_written(superuser):
    first, last = _block_with("README.md", "select llm.version();")
    block = doc_block("README.md", first, last)
    version = superuser.execute("select llm.version();").fetchone()[0]
    assert version == sources.current_version() and f"'{version}'" in block
    # "then run `select * from llm.sync_jobs();`" (README, Installing into a Supabase project)
    assert "select * from llm.sync_jobs();" in (ROOT / "README.md").read_text()
    superuser.execute("select * from llm.sync_jobs();").fetchall()
