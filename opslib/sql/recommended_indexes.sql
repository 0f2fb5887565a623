-- Indexes opsbook recommends on top of the contract. The pages work without them (the
-- contract is all they assume); with them, the funnel queries read only the window.
-- The embedded demo database has them; on production create them CONCURRENTLY, e.g.
--   CREATE INDEX CONCURRENTLY IF NOT EXISTS dt_purchases_created_idx ON public.dt_purchases (created_at);
-- dt_purchases has no index on created_at alone, so "purchases created in the window"
-- (the §3-A funnel's checkout cohort) otherwise reads the whole (user_id, created_at) index.
CREATE INDEX IF NOT EXISTS dt_purchases_created_idx ON public.dt_purchases (created_at);
-- messages has no index on its times in the contract (only the pending/processing partial
-- indexes and (sender_id, created_at)): the messaging page reads messages written and sent in
-- its window, and the same window on previous days, by these.
CREATE INDEX IF NOT EXISTS messages_created_idx ON public.messages (created_at);
CREATE INDEX IF NOT EXISTS messages_sent_idx ON public.messages (sent_at) WHERE sent_at IS NOT NULL;
-- auth.audit_log_entries has only instance_id indexed in Supabase's schema: the auth page's
-- comparison of successful logins with the audit trail (§3-B 트리아지 2) reads the window with this.
CREATE INDEX IF NOT EXISTS audit_log_entries_created_idx ON auth.audit_log_entries (created_at);
