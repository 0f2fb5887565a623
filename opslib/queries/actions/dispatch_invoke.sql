-- name: dispatch_invoke
-- section: §3-C 복구 (scheduled-dispatcher 수동 트리거, cron.md §4)
-- Call scheduled-dispatcher exactly as its pg_cron job does: invoke_edge_function() posts through
-- pg_net with the x-cron-secret it reads from Vault itself (SECURITY DEFINER: the action never
-- sees the secret). Returns the pg_net request id; the answer lands in net._http_response.
-- param: batch int the run's batch size
SELECT public.invoke_edge_function('scheduled-dispatcher', jsonb_build_object('batch', :batch)) AS request_id
