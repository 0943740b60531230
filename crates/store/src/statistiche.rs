//! Statistics over requests, rows and ANPR calls, by period and breakdown (issue 6).
