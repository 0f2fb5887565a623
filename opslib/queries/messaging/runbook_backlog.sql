-- name: runbook_backlog
-- section: §3-C 트리아지 3 (미발송 쿼리), §4-E 메시지 백로그
-- The runbook's own backlog query, word for word (OPS_RUNBOOK.md §3-C 5분 트리아지 3): pending
-- messages whose scheduled time has passed, at NOW(). The page shows this text verbatim with its
-- answer; messaging.backlog answers the same question at the window's end and also counts the
-- send-now messages (scheduled_at NULL) this query cannot see.
SELECT COUNT(*) FROM messages
WHERE scheduled_status = 'pending'
  AND scheduled_at < NOW();
