-- Row level security policies of conversations, messages and summaries.

drop policy if exists "Users read their own live conversations and admins read all" on llm.conversations;
create policy "Users read their own live conversations and admins read all" on llm.conversations
for select to authenticated using (
    (
        user_id = (select auth.uid())
        and deleted_at is null
        and (expires_at is null or expires_at > now())
    )
    or (select llm_private.is_admin())
);
comment on policy "Users read their own live conversations and admins read all" on llm.conversations is
'A user sees their conversations that are neither expired nor deleted. Package admins see every conversation, expired and deleted ones included.';

drop policy if exists "Users and admins read messages of live conversations" on llm.messages;
create policy "Users and admins read messages of live conversations" on llm.messages
for select to authenticated using (
    (user_id = (select auth.uid())
    -- the conversation's own policy decides whether it is live
    and exists (
        select from llm.conversations as c
        where c.id = messages.conversation_id
    ))
    or (select llm_private.is_admin())
);
comment on policy "Users and admins read messages of live conversations" on llm.messages is
'A user sees (and receives over realtime) the messages of their conversations that are neither expired nor deleted. Package admins see every message.';

drop policy if exists "Users read summaries of conversations they can read" on llm.conversation_summaries;
create policy "Users read summaries of conversations they can read" on llm.conversation_summaries
for select to authenticated using (
    exists (
        select from llm.conversations as c
        where c.id = conversation_summaries.conversation_id
    )
);
comment on policy "Users read summaries of conversations they can read" on llm.conversation_summaries is
'Summaries follow their conversation: owners see those of live conversations, admins all.';
