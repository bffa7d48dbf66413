// Prints the next fire times of schedules according to the npm package
// cron-parser, one line per case, for comparison with elt.next_runs().
// Input (stdin): lines "schedule|time zone|after (ISO 8601)|count".
// Output: the fire times as ISO 8601 UTC, separated by spaces.
'use strict';
const { CronExpressionParser } = require('cron-parser');

const input = require('fs').readFileSync(0, 'utf8');
for (const line of input.split('\n')) {
	if (line.trim() === '')
		continue;
	const [expr, tz, after, count] = line.split('|');
	try {
		const it = CronExpressionParser.parse(expr, { currentDate: new Date(after), tz });
		const out = [];
		for (let i = 0; i < Number(count); i++)
			out.push(it.next().toDate().toISOString().replace('.000Z', 'Z'));
		console.log(out.join(' '));
	} catch (e) {
		console.log('ERROR: ' + e.message);
	}
}
