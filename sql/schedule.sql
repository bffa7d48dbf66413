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
-- Daylight-saving changes follow Vixie cron (and pg_cron).  A fixed-time
-- local time skipped when clocks go forward fires at the end of the gap,
-- 03:00 local (07:00Z); cron-parser would say 03:30 (07:30Z).
SELECT * FROM elt.next_runs('30 2 * * *', 3, '2026-03-07 00:00+00', 'America/New_York');
-- a wildcard schedule (minute or hour beginning with "*") skips the gap
SELECT * FROM elt.next_runs('*/30 * * * *', 4, '2026-03-08 06:00+00', 'America/New_York');
SELECT * FROM elt.next_runs('*/20 2 * * *', 2, '2026-03-08 00:00+00', 'America/New_York');
-- the repeated hour when clocks go back (New York, 2026-11-01, 01:00-02:00
-- twice: 05:00-06:00Z and 06:00-07:00Z): wildcard schedules fire in both
-- passes, so no hour of absolute time is skipped ...
SELECT * FROM elt.next_runs('0 * * * *', 4, '2026-11-01 03:30+00', 'America/New_York');
SELECT * FROM elt.next_runs('*/20 * * * *', 7, '2026-11-01 04:50+00', 'America/New_York');
-- ... restricted hours too (cron-parser fires in the first pass only here)
SELECT * FROM elt.next_runs('*/30 1 * * *', 4, '2026-11-01 04:50+00', 'America/New_York');
-- ... and a fixed-time schedule fires once, in the first pass
SELECT * FROM elt.next_runs('30 1 * * *', 2, '2026-10-31 12:00+00', 'America/New_York');
SELECT * FROM elt.next_runs('30 1 * * *', 1, '2026-11-01 05:45+00', 'America/New_York');
-- Lord Howe Island moves by 30 minutes: 02:00-02:30 is skipped in October
SELECT * FROM elt.next_runs('10 2 * * *', 2, '2026-10-03 13:00+00', 'Australia/Lord_Howe');
-- a day field beginning with "*" counts as unrestricted: "*/2" and Monday
-- means odd days that are Mondays (cron-parser: odd days or Mondays)
SELECT * FROM elt.next_runs('0 0 */2 * mon', 3, '2026-03-01 00:00+00', 'UTC');
SELECT * FROM elt.next_runs('0 0 1-31/2 * mon', 3, '2026-03-01 00:00+00', 'UTC');
-- steps beyond the range are accepted, as by Vixie cron: only the start
SELECT * FROM elt.next_runs('*/60 * * * *', 2, '2026-03-01 00:00+00', 'UTC');
SELECT * FROM elt.next_runs('0 */24 * * *', 2, '2026-03-01 00:00+00', 'UTC');
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
SELECT elt.next_runs('*/61 * * * *', 1, '2026-03-01 00:00+00', 'UTC');
-- cron syntax in the wrong number of fields is never read as an interval
SELECT elt.next_runs('*/5 * * *');
SELECT elt.next_runs('15 * * *');
SELECT elt.next_runs('30 * * * * *');
SELECT elt.next_runs('* * * */14 * *');
SELECT elt.next_runs('*/5');
SELECT elt.next_runs('0 0 1 1');
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
