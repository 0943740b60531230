//! Contract tests: notifiche.
