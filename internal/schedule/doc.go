// Package schedule parses the trigger patterns of Huawei Cloud CBR policies
// and runs them: it says when a policy fires next and calls back when it
// does.
//
// # Patterns
//
// A pattern is one RFC 5545 recurrence rule (RRULE), restricted to the
// parts CBR accepts, for example
//
//	FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU;BYHOUR=14;BYMINUTE=00
//	FREQ=DAILY;INTERVAL=3;BYHOUR=2,14;BYMINUTE=30
//
// The parts are:
//
//   - FREQ (required): DAILY or WEEKLY. HOURLY, MINUTELY, MONTHLY and
//     YEARLY are refused: CBR accepts only DAILY and WEEKLY, and several
//     times a day are written as a BYHOUR list, which covers what HOURLY
//     would add.
//   - INTERVAL: 1 to [MaxInterval], default 1: every INTERVAL-th day
//     (DAILY) or week, Monday to Sunday (WEEKLY), counted from the
//     trigger's start time (see "Start time").
//   - BYDAY: a comma-separated list of MO, TU, WE, TH, FR, SA, SU.
//     Required with WEEKLY; with DAILY it limits the days.
//   - BYHOUR: a comma-separated list of hours, 0 to 23. Required.
//   - BYMINUTE: a comma-separated list of minutes, 0 to 59. Required.
//
// Parts may come in any order and their names and the FREQ and BYDAY
// values in any case; numbers may have leading zeros ("BYMINUTE=00"). An
// "RRULE:" prefix is allowed. Every other RFC 5545 part (COUNT, UNTIL,
// BYMONTH, BYSECOND, WKST, …) is refused, and so is a part given twice.
// Unlike RFC 5545, cairn never takes a missing BYDAY, BYHOUR or BYMINUTE
// from the start time: CBR's clients always send them.
//
// A rule fires at every listed hour and minute of every day it selects.
// Errors have the kind [cairn.Invalid] and name the pattern, the part and
// the rule broken.
//
// # Triggers
//
// A CBR policy's trigger holds up to [MaxPatterns] patterns; [ParseTrigger]
// parses them together and applies CBR's trigger-wide rules: at most 24
// time points a day, at least one hour apart.
//
// # Time zones and daylight saving time
//
// A rule is evaluated on the wall clock of a *time.Location: a rule
// "BYHOUR=14" fires at 14:00 local time whatever the offset that day.
// When the clocks go forward, a time that does not exist that day
// (02:30 in Europe/Berlin on the last Sunday of March) is skipped; when
// they go back, a time that happens twice fires once, at its first
// occurrence. [ParseTimezone] reads CBR's "UTC+08:00" form into a fixed
// zone and also accepts IANA names ("Europe/Berlin").
//
// CBR's trigger itself names no time zone: its documentation and clients
// (e.g. the Terraform provider, "execution times are in UTC") treat the
// pattern's hours as UTC. Which location a policy's rules run in is the
// caller's choice.
//
// # Start time
//
// A trigger's start time (CBR's trigger.properties.start_time) is the
// first instant it may fire at, like RFC 5545's DTSTART, and it anchors
// INTERVAL: the day (DAILY) or week (WEEKLY) that holds the start time, on
// the rule's wall clock, is the first of each run of INTERVAL. Without a
// start time, INTERVAL counts from 1970-01-01 (DAILY) or from the week of
// Monday 1969-12-29 (WEEKLY).
//
// # Running
//
// A [Scheduler] holds entries (an id, a trigger, a location, whether it
// is enabled), which may be added, changed and removed while it runs, and
// calls a function each time an entry fires; see its documentation for
// when a missed firing is caught up.
package schedule
