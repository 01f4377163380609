-- Row level security policies of conversations, messages and summaries.

drop policy if exists "Users read their own live conversations" on llm.conversations;
create policy "Users read their own live conversations" on llm.conversations
for select to authenticated using (
    user_id = (select auth.uid())
    and deleted_at is null
    and (expires_at is null or expires_at > now())
);
comment on policy "Users read their own live conversations" on llm.conversations is
'A user sees their conversations that are neither expired nor deleted.';

drop policy if exists "Admins read every conversation" on llm.conversations;
create policy "Admins read every conversation" on llm.conversations
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read every conversation" on llm.conversations is
'Package admins see every conversation, expired and deleted ones included.';

drop policy if exists "Users read messages of their own live conversations" on llm.messages;
create policy "Users read messages of their own live conversations" on llm.messages
for select to authenticated using (
    user_id = (select auth.uid())
    -- the conversation's own policy decides whether it is live
    and exists (
        select from llm.conversations as c
        where c.id = messages.conversation_id
    )
);
comment on policy "Users read messages of their own live conversations" on llm.messages is
'A user sees (and receives over realtime) the messages of their conversations that are neither expired nor deleted.';

drop policy if exists "Admins read every message" on llm.messages;
create policy "Admins read every message" on llm.messages
for select to authenticated using ((select llm.is_admin()));
comment on policy "Admins read every message" on llm.messages is 'Package admins see every message.';

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
