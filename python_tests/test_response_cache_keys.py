"""Cache keys are stable across releases: the key of a request is byte for byte what 0.3.0
computed (so entries stored before an upgrade keep hitting), and an upgrade keeps the entries'
hit counts."""

import re
import uuid
from collections import Counter

import psycopg
import pytest

from conftest import _janitor
from harness import migrate, sources
from harness.client import Api

# (prompt, provider, model, parameters as JSON text or None, the key 0.3.0 computed)
CORPUS = [
    ("Explain BigQuery partitioning", "openai", "gpt-4", '{"temperature": 0.7, "max_tokens": 500}',
     "9d41fe38dc71e83a9e97aff6c761adaaee3243e23692d676052c51c78a2b5d40"),
    ("Explain BigQuery partitioning", " OpenAI ", " gpt-4 ", '{"max_tokens": 500.00, "temperature": 0.70}',
     "9d41fe38dc71e83a9e97aff6c761adaaee3243e23692d676052c51c78a2b5d40"),
    ("Explain BigQuery partitioning", "openai", "gpt-4", None,
     "0788af6c764c5f536e56c6ecafc466d2613b4ff3ac4941f137a4412cbcfc508b"),
    ("Explain BigQuery partitioning", "openai", "gpt-4", "{}",
     "0788af6c764c5f536e56c6ecafc466d2613b4ff3ac4941f137a4412cbcfc508b"),
    ("Explain BigQuery partitioning", "openai", "gpt-4", "null",
     "0788af6c764c5f536e56c6ecafc466d2613b4ff3ac4941f137a4412cbcfc508b"),
    ("", "openai", "gpt-4", None,
     "f3cfe7c3fd916004c841c21ed2302e00f4994d141eb134980cbc68dd8204c104"),
    ("  leading and trailing spaces  ", "anthropic", "claude-3-5-haiku", '{"temperature": 0}',
     "4ee529b9c50953471d91323d4508f683851a552cfeaa7d7245405f62e0273406"),
    ("quotes \" and backslashes \\ and \t tabs\nnewlines", "openai", "gpt-4o", '{"top_p": 1}',
     "7704055c3a6fc21e789c26a97c0becbd23782f1010e6c42dfd856a194d254ab2"),
    ("unicode: é ü 中文 😀 \u2028", "google", "gemini-1.5-pro", '{"temperature": 1e0}',
     "db794b44fad5424bf1afd5ffe3e294999b6112a3ca71344e16f91c438406c793"),
    ("[not json", "openai", "gpt-4", None,
     "d88bcfc38cf93748db96f8fc18b0fcd92a1ab9c8a551cb7732c21e8323f19097"),
    ("[1, 2", "openai", "gpt-4", None,
     "623ea1ac5330670d7663245196f1dfa2edb3628ee5cdbb45c6716870c1341dbe"),
    ("   [ ]", "openai", "gpt-4", None,
     "c578c7c27f65eaec4afd3e5e452053ebe06c14c053c03424a6e262c8841206f2"),
    ("[]", "openai", "gpt-4", None,
     "c578c7c27f65eaec4afd3e5e452053ebe06c14c053c03424a6e262c8841206f2"),
    ('{"role": "user"}', "openai", "gpt-4", None,
     "76a4057391e99299b2e800b75568aef54e644adf366eeb07eb3a7ec979ccc61c"),
    ('"[quoted]"', "openai", "gpt-4", None,
     "1cef5ba949173e1373f7a15ff673be15614ec08942b83e611c2a1dd0649c81de"),
    ('[{"role": "user", "content": "hi"}]', "openai", "gpt-4o-mini", None,
     "e0fd32b5d17a10410467eb8df6be79e820cb7385acc19b6203cbcb01a445bea2"),
    ('[{"content": "hi", "role": "user"}]', "openai", "gpt-4o-mini", None,
     "e0fd32b5d17a10410467eb8df6be79e820cb7385acc19b6203cbcb01a445bea2"),
    ('  [{"role":"user","content":"hi"},{"role":"assistant","content":"ok","n":1.0}]', "openai", "gpt-4o-mini", '{"temperature": 0}',
     "521f2d28b27ad2cfc1ba975b5aa0708c4b7a01f4c8f1fabeaf1ef47071fccb28"),
    ('[{"role": "user", "content": "1.50 stays text", "w": 1.50, "x": [2.000, 0.10, 10, 100.0]}]', "openai", "gpt-4o", None,
     "07196d0e8f4a5529a3e4aa8c7389f85e65ff4375f9b0ac6a3c3e5032178edcf0"),
    ('[1.0, "1.0", {"a": 2.50}]', "openai", "gpt-4", None,
     "f63ca6e9d237bb4932c9d66fb0f56bdd65f74eb277960af67fa00c33b12458db"),
    ('[{"role": "user", "content": "a\\"b\\\\"}]', "openai", "gpt-4", None,
     "37bfe5b8cfc13e2d2eba167af33b3a149e265c6008089adda8108034de29b7a8"),
    ("[1e2, 1E+2, 100, 0.0, -0.0, -1.500]", "openai", "gpt-4", None,
     "b759d4a7dad988f9417c27dc816190f3d13edd66a73066ffc172e3da178ec1cf"),
    ("plain", "openai", "gpt-4", '{"temperature": 0.7, "user": "u-1", "stream": true, "stream_options": {"include_usage": true}, "store": false, "metadata": {"a": 1}, "request_id": "r", "timeout": 30}',
     "2349e87660ba74a15de3d908b87a04d9914f17ae7277c8458067be02573069b4"),
    ("plain", "openai", "gpt-4", '{"user": "only ignored"}',
     "a7d7c0fe8aab46f46e9c84a25476d3d339ef0a2c069bfbebb3f4e7529d99b61c"),
    ("plain", "openai", "gpt-4", '{"temperature": 0.7, "max_tokens": "500"}',
     "6c16fa6612b58eba1c9d0ffbf1362a0fcf1c053dea59b304f7df8ac65ac480c5"),
    ("plain", "openai", "gpt-4", '{"stop": ["1.50", "\\n"], "logit_bias": {"50256": -100.0}}',
     "81e038662645d0156318efdefe61bf2daff96d9d1733a23d8d51c2a246814c24"),
    ("plain", "openai", "gpt-4", '{"a": {"b": [1.0, "x\\"1.0\\\\", 0.10]}}',
     "e61a87951f5ff786fa41add5832b51043cb80e496c5886b77615801e3d7a36a8"),
    ("plain", "openai", "gpt-4", '{"n": 1e-7, "m": 12345678901234567890.000, "k": -0.50, "z": 0.0}',
     "bb17334c87679e252f68e14c3578128b60ab75f6890c9f1e742a3a35042a927c"),
    ("plain", "openai", "gpt-4", '{"tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}], "tool_choice": "auto"}',
     "58b1c4b64df37f35b24632cb6eb51bc1092d32d9238f01cd693bbb8cc522ce96"),
    ("plain", "openai", "gpt-4", '{"x": ' + "[" * 63 + "1.0" + "]" * 63 + "}",
     "d885d4bab0f452af8745ade5609cd53516ab0ed25a83b284a0e96e7a3896a667"),
    ("plain", "openai", "gpt-4", '{"response_format": {"type": "json_schema"}, "seed": 42, "presence_penalty": 0.0, "frequency_penalty": 0.50}',
     "700542d4ace0692d131a54cf4aadd582dccb16495a0e1e3746565fd820bc224d"),
    ("plain", "openai", "gpt-4", '{"empty": {}, "list": [], "nul": null, "t": true, "f": false}',
     "2dc0bb36f0076e009746048ba4cdd4db79bc7d3c238101b262634e24d14e267b"),
    ("plain", "openai", "gpt-4", '{"ünïcode key": "välue", "emoji 😀": 1.10}',
     "ba64cddb2cd598153be2a35375ca586d3a6c9d7c8a266c9b084438db459f747f"),
    ("plain", "OPENAI", "GPT-4", '{"Temperature": 0.7}',
     "35b805bd325b93d9ca8e44e0121c8b3ddf2b4b5d8c0fbaf5ddda452c779d2d11"),
    ("plain", "openai\t", "\ngpt-4", None,
     "7a7d827c96b3ddacd4d5b4868404d089a3645c8fb94b015436cf12398fefe6a8"),
    ("a very long prompt " * 500, "openai", "gpt-4", '{"temperature": 0.2}',
     "8fdb6c4f28e4942270f319301dc5e751ce66434ce59a17cf9edbb087ad7bb123"),
    ("no decimal point 10 100 1000", "openai", "gpt-4", '{"max_tokens": 1000, "n": 10}',
     "ce9c9bace392b549bd7aab00cc35426a5908d933c3a1f833d37c532d5af6fce1"),
    ("x", "openai", "gpt-4", '{"big": "' + "y" * 5000 + '", "v": 2.0}',
     "e85f295f12489b1fba43cfb12943aeae78c5bdc36399b17c5541fd839abfeb32"),
]


def key(api: Api, prompt, provider, model, parameters) -> str:
    return api.one("select llm.llm_cache_key(%s, %s, %s, %s::jsonb)",
                   (prompt, provider, model, parameters))


def test_keys_are_byte_for_byte_those_of_0_3_0(service):
    assert len({k for *_, k in CORPUS}) < len(CORPUS)  # equivalent requests share a key
    assert [key(service, *request) for *request, _ in CORPUS] == [k for *_, k in CORPUS]


@pytest.fixture
def empty_db(server, request):
    name = re.sub(r"[^a-z0-9]+", "_", f"empty_{request.node.name}".lower())[-40:]
    janitor = _janitor(server, name)
    janitor.init()
    migrate.apply_shim(server.admin_url(name))
    yield server.url(name)
    janitor.drop()


def test_entries_of_0_3_0_keep_hitting_with_their_hit_counts_after_the_upgrade(empty_db):
    migrate.apply_migrations(empty_db, only=sources.migrations_through("0.3.0"))
    stored = {}
    with psycopg.connect(empty_db, autocommit=True) as conn:
        api = Api(conn, "service_role")
        for i, (prompt, provider, model, parameters, _) in enumerate(CORPUS):
            api.one("select llm.cache_llm_response(%s, %s, %s, %s, parameters => %s::jsonb)",
                    (prompt, provider, model, f"answer {i}", parameters))
        for i, (prompt, provider, model, parameters, _) in enumerate(CORPUS):
            hit = api.one("select llm.get_cached_llm_response(%s, %s, %s, %s::jsonb)",
                          (prompt, provider, model, parameters))
            stored[hit["id"]] = hit
        stats = api.rpc("get_llm_cache_stats")
    assert len(stored) == len({k for *_, k in CORPUS})

    migrate.apply_migrations(empty_db)
    with psycopg.connect(empty_db, autocommit=True) as conn:
        assert conn.execute("select llm.version()").fetchone()[0] == sources.current_version()
        api = Api(conn, "service_role")
        counts = {}
        for prompt, provider, model, parameters, old_key in CORPUS:
            assert key(api, prompt, provider, model, parameters) == old_key
            hit = api.one("select llm.get_cached_llm_response(%s, %s, %s, %s::jsonb)",
                          (prompt, provider, model, parameters))
            assert hit["id"] in stored and hit["response"] == stored[hit["id"]]["response"]
            counts[hit["id"]] = hit["hit_count"]
        # every hit counted by 0.3.0 (in its sharded counters), plus one per request since
        hashes = dict(conn.execute("select id, prompt_hash from llm.response_cache").fetchall())
        requests = Counter(k for *_, k in CORPUS)
        assert counts == {i: h["hit_count"] + requests[hashes[uuid.UUID(i)]] for i, h in stored.items()}
        assert sum(r["hits"] for r in api.rpc("get_llm_cache_stats")) == \
            sum(r["hits"] for r in stats) + len(CORPUS)
