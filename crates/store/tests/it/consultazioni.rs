//! Issue 6.
