-- name: catalogue_counts
-- section: §6 Quick 7 T2, T6 (what the pages should list)
-- Active DT packages (T2's list) and active funding campaigns (T6's list), as the database has them.
SELECT (SELECT count(*) FROM public.dt_packages WHERE is_active)::bigint AS active_packages,
       (SELECT count(*) FROM public.funding_campaigns WHERE status = 'active')::bigint AS active_campaigns
