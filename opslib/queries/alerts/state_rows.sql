-- name: state_rows
-- section: §4-E 커버리지 (결제 wallet_ledger 음수 잔액, 메시지 예약 백로그: measured on data)
-- Do the tables behind the board's two state metrics hold anything? An empty wallet_accounts reads as
-- "0 negative balances" and an empty messages table as "backlog 0": numbers with nothing measured,
-- which must not count as a measured domain. One row; each EXISTS stops at the first row it finds
-- (wallet_accounts is small; on messages the scan ends at its first row, whatever the table's size).
SELECT EXISTS (SELECT 1 FROM public.wallet_accounts a WHERE a.kind = 'user') AS user_wallets,
       EXISTS (SELECT 1 FROM public.messages m) AS messages
