//! In-app notifications and their e-mail delivery state (web W3).
