//! Lists for the web pages: requests by scope, files (web W2).
