-- The kinds of request the log records.

do $$
begin
    if to_regtype('llm.request_type') is null then
        create type llm.request_type as enum (
            'chat', 'completion', 'embedding', 'transcription', 'speech', 'image',
            'moderation', 'rerank', 'other'
        );
    end if;
end
$$;
comment on type llm.request_type is
'Kind of LLM call: chat, completion, embedding, transcription, speech, image, moderation, rerank, other.';
