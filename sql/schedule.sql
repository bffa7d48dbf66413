-- Schedules: cron fields, shorthands, intervals and time zones, and every
-- way a schedule can be malformed.
SET TimeZone = 'UTC';

-- lists, ranges, steps, month and day names
SELECT * FROM elt.next_runs('*/15 9-17 * jan-mar mon-fri', 4, '2026-01-01 00:00+00', 'UTC');
SELECT * FROM elt.next_runs('0 0 1,15 * *', 3, '2026-01-20 00:00+00', 'UTC');
SELECT * FROM elt.next_runs('5/20 * * * *', 3, '2026-01-01 00:00+00', 'UTC');
SELECT * FROM elt.next_runs('0 12 * * 7', 2, '2026-01-01 00:00+00', 'UTC');
SELECT * FROM elt.next_runs('0 12 * * SUN', 1, '2026-01-01 00:00+00', 'UTC');
SELECT * FROM elt.next_runs('0 6 * DEC sat-sun', 2, '2026-01-01 00:00+00', 'UTC');
-- day of month and day of week both restricted: either matches
SELECT * FROM elt.next_runs('0 0 13 * fri', 3, '2026-02-01 00:00+00', 'UTC');
-- leap day
SELECT * FROM elt.next_runs('0 0 29 2 *', 2, '2026-01-01 00:00+00', 'UTC');
-- strictly after the given time
SELECT * FROM elt.next_runs('0 * * * *', 2, '2026-01-01 10:00:00+00', 'UTC');
-- shorthands
SELECT s, (SELECT array_agg(t) FROM elt.next_runs(s, 2, '2026-01-07 10:30+00', 'UTC') t)
FROM unnest(ARRAY['@hourly', '@daily', '@midnight', '@weekly', '@monthly', '@yearly', '@annually', '@DAILY']) s;
-- intervals, aligned to whole multiples since 2000-01-01 UTC
SELECT s, (SELECT array_agg(t) FROM elt.next_runs(s, 3, '2026-01-01 10:00:05+00', 'UTC') t)
FROM unnest(ARRAY['1 second', '30 seconds', '90s', '2 hours', '1 day', 'PT5M', ' 10 minutes ']) s;
-- time zones: local 09:00 moves in UTC across a DST change
SELECT * FROM elt.next_runs('0 9 * * *', 3, '2026-03-07 00:00+00', 'America/New_York');
-- a local time that does not exist that day still fires once
SELECT * FROM elt.next_runs('30 2 * * *', 3, '2026-03-07 00:00+00', 'America/New_York');
-- intervals do not depend on the time zone
SELECT * FROM elt.next_runs('1 hour', 1, '2026-01-01 10:30+00', 'Asia/Kolkata');
SELECT count(*) FROM elt.next_runs('* * * * *', 0);
SELECT count(*) FROM elt.next_runs('* * * * *');

-- malformed schedules: each error names what is wrong
SELECT elt.next_runs('');
SELECT elt.next_runs('   ');
SELECT elt.next_runs(NULL);
SELECT elt.next_runs('* * * *');
SELECT elt.next_runs('* * * * * *');
SELECT elt.next_runs('60 * * * *');
SELECT elt.next_runs('* 24 * * *');
SELECT elt.next_runs('* * 0 * *');
SELECT elt.next_runs('* * 32 * *');
SELECT elt.next_runs('* * * 13 *');
SELECT elt.next_runs('* * * 0 *');
SELECT elt.next_runs('* * * * 8');
SELECT elt.next_runs('*/0 * * * *');
SELECT elt.next_runs('*/61 * * * *');
SELECT elt.next_runs('*/x * * * *');
SELECT elt.next_runs('5-1 * * * *');
SELECT elt.next_runs('1-2-3 * * * *');
SELECT elt.next_runs('1,,2 * * * *');
SELECT elt.next_runs('1, * * * *');
SELECT elt.next_runs('a * * * *');
SELECT elt.next_runs('* * * foo *');
SELECT elt.next_runs('* * * * funday');
SELECT elt.next_runs('0 0 30 2 *');
SELECT elt.next_runs('0 0 31 4,6,9,11 *');
SELECT elt.next_runs('@often');
SELECT elt.next_runs('0.5 seconds');
SELECT elt.next_runs('1 month');
SELECT elt.next_runs('-5 seconds');
SELECT elt.next_runs('every day');
SELECT elt.next_runs('* * * * *', 1, now(), 'Mars/Olympus_Mons');
SELECT elt.next_runs('* * * * *', -1);
SELECT elt.next_runs('* * * * *', 1, 'infinity');
-- pg_elt.timezone is a server setting
SET pg_elt.timezone = 'UTC';
SHOW pg_elt.timezone;
