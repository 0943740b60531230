//! Integration tests of the PDND client over real HTTP on loopback, against the simulator.

mod check;
mod contratto;
mod flussi;
mod gateway;
mod supporto;
mod tabella;
mod ws;
mod ws_contratto;
