-- name: cron_job_recent
-- section: §3-F 최소 완화 / 복구
-- The job's latest run and any run still in flight (a run-once next to a running one overlaps).
-- param: jobid bigint the job's id
SELECT (SELECT max(d.start_time) FROM cron.job_run_details d WHERE d.jobid = :jobid) AS last_run_at,
       (SELECT count(*) FROM cron.job_run_details d
        WHERE d.jobid = :jobid AND d.status IN ('starting', 'running', 'sending', 'connecting')
          AND d.start_time > now() - interval '1 hour')::bigint AS in_flight
