//! Tests: notifiche.
